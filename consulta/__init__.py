"""Consulta: the concertazione of a Piano Sociale di Zona."""

from __future__ import annotations

import logging

from flask import Flask, has_request_context, session
from flask_babel import lazy_gettext
from flask_login import current_user
from werkzeug.middleware.proxy_fix import ProxyFix

from config import check_production_settings, load_config
from consulta.core import input_guard
from consulta.core.assets import ConsultaFlask
from consulta.extensions import babel, compress, csrf, db, limiter, login_manager, mail, migrate

BLUEPRINTS = (
    ("consulta.ambito", None),
    ("consulta.accounts", None),
    ("consulta.organisations", "/organizzazioni"),
    ("consulta.plan", "/piano"),
    ("consulta.tavoli", None),
    ("consulta.proposals", None),
    ("consulta.comments", None),
    ("consulta.votes", None),
    ("consulta.admin", "/gestione"),
    ("consulta.digests", None),
    ("consulta.meetings", None),
    ("consulta.moderation", None),
)


def select_locale() -> str:
    languages = ("it", "en")
    if not has_request_context():
        # CLI commands and workers render for a given user with flask_babel.force_locale().
        return "it"
    chosen = session.get("lang")
    if chosen in languages:
        return chosen
    if current_user and current_user.is_authenticated and current_user.locale in languages:
        return current_user.locale
    return "it"


def create_app(config_name: str | None = None, **overrides) -> Flask:
    app = ConsultaFlask(
        __name__,
        template_folder="../templates",
        static_folder="../static",
        instance_relative_config=False,
    )
    app.config.from_object(load_config(config_name))
    app.config.update(overrides)
    if app.config.get("CONFIG_NAME") == "production":
        check_production_settings(app.config)
    # Before any route exists: `<int:…>` is bounded to the database's INTEGER range.
    app.url_map.converters["int"] = input_guard.DatabaseIntConverter
    if app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite:///"):
        from pathlib import Path

        Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    migrate.init_app(app, db, directory=str(_project_dir() / "migrations"), render_as_batch=True,
                     compare_type=True)
    csrf.init_app(app)
    mail.init_app(app)
    babel.init_app(app, locale_selector=select_locale, default_timezone=app.config["BABEL_DEFAULT_TIMEZONE"])
    app.config.setdefault("RATELIMIT_STORAGE_URI", "memory://")
    limiter.init_app(app)
    compress.init_app(app)
    _trust_proxies(app)
    _setup_login(app)

    from consulta.core import sqlite as _sqlite  # noqa: F401  (foreign keys on for SQLite)
    _import_models()
    _import_events()

    import importlib

    for module_name, prefix in BLUEPRINTS:
        module = importlib.import_module(module_name)
        app.register_blueprint(module.bp, url_prefix=prefix)

    from consulta.core import assets, conditional, devmail, errors, security, templating

    assets.register(app)
    conditional.register(app)
    devmail.register(app)
    errors.register(app)
    input_guard.register(app)
    security.register(app)
    templating.register(app)

    from consulta import cli

    cli.register(app)

    if not app.debug and not app.testing:
        logging.basicConfig(level=logging.INFO)
    return app


def _trust_proxies(app: Flask) -> None:
    """Behind TRUSTED_PROXIES reverse proxies, take the client address and scheme from their headers.

    X-Forwarded-Host is not trusted: the proxy passes the Host header itself, and links in e-mails
    use PUBLIC_BASE_URL anyway.
    """
    hops = int(app.config.get("TRUSTED_PROXIES") or 0)
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=0, x_port=0, x_prefix=0)


def _project_dir():
    from pathlib import Path

    return Path(__file__).resolve().parent.parent


def _import_models() -> None:
    """Import every model module so metadata is complete (migrations, create_all)."""
    from consulta.accounts import models as _accounts  # noqa: F401
    from consulta.ambito import models as _ambito  # noqa: F401
    from consulta.comments import models as _comments  # noqa: F401
    from consulta.core import audit as _audit  # noqa: F401
    from consulta.core import notify as _notify  # noqa: F401
    from consulta.core import submissions as _submissions  # noqa: F401
    from consulta.digests import models as _digests  # noqa: F401
    from consulta.meetings import models as _meetings  # noqa: F401
    from consulta.moderation import models as _moderation  # noqa: F401
    from consulta.organisations import models as _organisations  # noqa: F401
    from consulta.plan import models as _plan  # noqa: F401
    from consulta.proposals import models as _proposals  # noqa: F401
    from consulta.tavoli import models as _tavoli  # noqa: F401
    from consulta.votes import models as _votes  # noqa: F401


def _import_events() -> None:
    """Import every domain's events so the event catalogue (consulta.core.events) is complete."""
    from consulta.accounts import events as _accounts  # noqa: F401
    from consulta.admin import events as _admin  # noqa: F401
    from consulta.ambito import events as _ambito  # noqa: F401
    from consulta.comments import events as _comments  # noqa: F401
    from consulta.digests import events as _digests  # noqa: F401
    from consulta.meetings import events as _meetings  # noqa: F401
    from consulta.moderation import events as _moderation  # noqa: F401
    from consulta.organisations import events as _organisations  # noqa: F401
    from consulta.plan import events as _plan  # noqa: F401
    from consulta.proposals import events as _proposals  # noqa: F401
    from consulta.tavoli import events as _tavoli  # noqa: F401


def _setup_login(app: Flask) -> None:
    from consulta.accounts.models import User

    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = lazy_gettext("Accedi per continuare.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "strong"

    @login_manager.user_loader
    def load_user(session_id: str):
        return User.from_session_id(session_id)
