"""Extension singletons, created unbound and bound in create_app()."""

from flask import session
from flask_babel import Babel
from flask_compress import Compress
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_mail import Mail
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from consulta.core.db import Base


class _LoginManager(LoginManager):
    """Flask-Login, with its strong session protection applied to signed-in sessions only.

    Flask-Login 0.6 takes any non-empty session without its client identifier for a stolen one, so
    an anonymous reader's session (a CSRF token, the chosen language) was "cleared" on every request:
    two Set-Cookie headers on every page, which no conditional GET could then answer with 304. With
    nobody signed in there is nothing to protect."""

    def _session_protection_failed(self) -> bool:
        if "_user_id" not in session:
            return False
        return super()._session_protection_failed()


db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = _LoginManager()
csrf = CSRFProtect()
mail = Mail()
babel = Babel()
compress = Compress()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
