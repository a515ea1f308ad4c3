"""Settings for Consulta.

Every setting can be overridden by an environment variable of the same name;
values are parsed as booleans, integers or strings according to the default.
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent


def _env(name: str, default):
    raw = os.environ.get(name)
    if raw is None:
        return default
    if isinstance(default, bool):
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        return int(raw)
    return raw


class Config:
    SECRET_KEY: str | None = None
    DEBUG = False
    TESTING = False

    SQLALCHEMY_DATABASE_URI = f"sqlite:///{BASE_DIR / 'instance' / 'consulta.sqlite3'}"
    SQLALCHEMY_ENGINE_OPTIONS: dict = {"pool_pre_ping": True}

    # Flask-Mail: an immediate e-mail (verification, reset, convocation) goes here.
    MAIL_SERVER = "localhost"
    MAIL_PORT = 25
    MAIL_USE_TLS = False
    MAIL_USE_SSL = False
    MAIL_USERNAME: str | None = None
    MAIL_PASSWORD: str | None = None
    MAIL_DEFAULT_SENDER = "Consulta <noreply@consulta.localhost>"
    MAIL_SUPPRESS_SEND = False
    # Development only: where the sender files messages when no SMTP server answers (/_dev/posta).
    MAIL_DEV_DIR: str | None = None

    # Absolute links in e-mails and exports.
    SERVER_NAME: str | None = None
    PUBLIC_BASE_URL = "http://127.0.0.1:5000"

    BABEL_DEFAULT_LOCALE = "it"
    BABEL_DEFAULT_TIMEZONE = "Europe/Rome"
    BABEL_TRANSLATION_DIRECTORIES = str(BASE_DIR / "translations")
    LANGUAGES = ("it", "en")

    WTF_CSRF_ENABLED = True
    WTF_CSRF_TIME_LIMIT = 3600 * 8

    RATELIMIT_STORAGE_URI = "memory://"
    RATELIMIT_ENABLED = True
    RATELIMIT_HEADERS_ENABLED = True
    # Login attempts per client address (every POST), and failed attempts per target account from any
    # address (against distributed guessing). See docs/security.md.
    RATELIMIT_LOGIN = "10 per minute;50 per hour"
    RATELIMIT_LOGIN_ACCOUNT = "20 per hour"
    RATELIMIT_REGISTER = "5 per minute;30 per hour"
    RATELIMIT_RESET = "5 per minute;20 per hour"
    RATELIMIT_RESEND = "3 per minute;10 per hour"

    # How many reverse proxies in front of the app set X-Forwarded-For/-Proto (0: none, trust no header).
    # Behind one nginx: 1. The client address then comes from X-Forwarded-For (rate limits, sessions).
    TRUSTED_PROXIES = 0

    SESSION_COOKIE_HTTPONLY = True
    SESSION_COOKIE_SAMESITE = "Lax"
    SESSION_COOKIE_SECURE = False
    REMEMBER_COOKIE_HTTPONLY = True
    REMEMBER_COOKIE_SAMESITE = "Lax"
    REMEMBER_COOKIE_SECURE = False
    REMEMBER_COOKIE_DURATION = timedelta(days=30)
    PERMANENT_SESSION_LIFETIME = timedelta(days=1)

    MAX_CONTENT_LENGTH = 2 * 1024 * 1024

    # Token lifetimes (seconds).
    EMAIL_VERIFY_MAX_AGE = 3 * 24 * 3600
    PASSWORD_RESET_MAX_AGE = 3600
    UNSUBSCRIBE_MAX_AGE = 365 * 24 * 3600

    PASSWORD_MIN_LENGTH = 10
    # Authors may edit their own proposals and comments for this long.
    EDIT_GRACE_MINUTES = 30
    # Distinct flags that hide an item provisionally in a post-moderated tavolo.
    FLAGS_TO_HIDE = 3
    PROPOSALS_PER_PAGE = 20
    MAX_PER_PAGE = 100
    # Top-level comments shown at once on a proposal or objective page (each with its replies).
    COMMENTS_PER_PAGE = 50

    # Every e-mail goes through the outbox (docs/mail.md): SMTP socket timeout in seconds, attempts
    # and first retry delay of immediate e-mails, pause of `flask send-mail --loop`.
    SMTP_TIMEOUT = 10
    MAIL_MAX_ATTEMPTS = 6
    MAIL_RETRY_BASE_SECONDS = 30
    MAIL_SEND_INTERVAL = 5

    # E-mail digests (see docs/digests.md).
    DIGEST_MAX_ATTEMPTS = 5
    DIGEST_RETRY_BASE_SECONDS = 300
    DIGEST_SENDING_TIMEOUT = 900
    DIGEST_RESEND_INTERRUPTED = False
    DIGEST_SMTP_GIVE_UP_AFTER = 3
    DIGEST_UNSUBSCRIBE_MAILTO = ""
    DIGEST_DEADLINE_DAYS = 3
    DIGEST_LOOKBACK_DAYS = 35
    DIGEST_LINES_PER_SECTION = 8


def _apply_environment(cls: type[Config]) -> None:
    for name in dir(cls):
        if name.isupper() and name in os.environ:
            setattr(cls, name, _env(name, getattr(cls, name)))
    if "DATABASE_URL" in os.environ:
        cls.SQLALCHEMY_DATABASE_URI = normalise_database_url(os.environ["DATABASE_URL"])


def normalise_database_url(url: str) -> str:
    """Accept the common postgres:// spellings and use the psycopg 3 driver."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


class DevelopmentConfig(Config):
    DEBUG = True
    SECRET_KEY = "dev-only-not-secret"
    MAIL_PORT = 8025
    MAIL_DEV_DIR = str(BASE_DIR / "instance" / "mail")


class TestingConfig(Config):
    TESTING = True
    SECRET_KEY = "test-only-not-secret"
    SQLALCHEMY_DATABASE_URI = "sqlite://"
    RATELIMIT_ENABLED = False
    PASSWORD_HASH_FAST = True
    PUBLIC_BASE_URL = "http://localhost"


class ProductionConfig(Config):
    SESSION_COOKIE_SECURE = True
    REMEMBER_COOKIE_SECURE = True
    PREFERRED_URL_SCHEME = "https"


CONFIGS: dict[str, type[Config]] = {
    "development": DevelopmentConfig,
    "testing": TestingConfig,
    "production": ProductionConfig,
}


# Keys published in this repository: they sign nothing in production.
PUBLIC_SECRET_KEYS = frozenset({DevelopmentConfig.SECRET_KEY, TestingConfig.SECRET_KEY})
SECRET_KEY_MIN_BYTES = 32
GENERATE_SECRET_KEY = 'python -c "import secrets; print(secrets.token_hex(32))"'


def check_production_settings(settings) -> None:
    """Refuse to run in production with a missing, public or short SECRET_KEY, or with DEBUG on."""
    key = settings.get("SECRET_KEY") if isinstance(settings, dict) else getattr(settings, "SECRET_KEY", None)
    debug = settings.get("DEBUG") if isinstance(settings, dict) else getattr(settings, "DEBUG", False)
    problem = None
    if not key:
        problem = "SECRET_KEY must be set in production."
    elif key in PUBLIC_SECRET_KEYS:
        problem = "SECRET_KEY is the public development key: it must not be used in production."
    elif len(key.encode() if isinstance(key, str) else key) < SECRET_KEY_MIN_BYTES:
        problem = f"SECRET_KEY is too short for production: it needs at least {SECRET_KEY_MIN_BYTES} random bytes."
    if problem:
        raise RuntimeError(f"{problem} Generate one with: {GENERATE_SECRET_KEY} "
                           "and set it in the environment as SECRET_KEY (see docs/configuration.md).")
    if debug:
        raise RuntimeError("DEBUG must be off in production")


INSTANCE_SETTINGS = BASE_DIR / "instance" / "consulta.env"


def read_instance_settings() -> Path | None:
    """The instance's own settings, KEY=value lines in instance/consulta.env (or the file named by
    CONSULTA_ENV_FILE), read alike by the web server and by every `flask` command. Variables already
    in the environment win. Returns the file read, if any."""
    from dotenv import load_dotenv

    path = Path(os.environ.get("CONSULTA_ENV_FILE") or INSTANCE_SETTINGS)
    if not path.is_file():
        return None
    load_dotenv(path, override=False)
    return path


def load_config(name: str | None) -> type[Config]:
    if (name or os.environ.get("CONSULTA_CONFIG")) != "testing":  # tests never read a developer's settings
        read_instance_settings()
    name = name or os.environ.get("CONSULTA_CONFIG", "development")
    try:
        base = CONFIGS[name]
    except KeyError:
        raise RuntimeError(f"Unknown configuration {name!r}; use one of {sorted(CONFIGS)}") from None
    cls = type(base.__name__, (base,), {"CONFIG_NAME": name})
    if name == "development":
        # `make run HOST=… PORT=…` sets these for the server and the sender alike: links follow the port.
        host, port = os.environ.get("FLASK_RUN_HOST", "127.0.0.1"), os.environ.get("FLASK_RUN_PORT", "5000")
        cls.PUBLIC_BASE_URL = f"http://{host}:{port}"
    _apply_environment(cls)
    if name == "production":
        check_production_settings(cls)
    return cls
