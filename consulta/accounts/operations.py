"""Account operations: each flushes, the view commits.

E-mails are rendered here and queued on the session: they leave only when the
view's commit succeeds (see consulta.core.mail).
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from consulta.accounts import tokens
from consulta.accounts.models import RegisteredAs, Role, User, normalise_email
from consulta.accounts.passwords import password_problem
from consulta.ambito.models import Comune
from consulta.core import audit
from consulta.core.db import utcnow
from consulta.core.mail import external_url, send_email_after_commit
from consulta.core.text import clean_plain
from consulta.extensions import db


class PasswordProblem(ValueError):
    pass


class EmailTaken(ValueError):
    """Another account already uses this address (compared case-insensitively)."""


class UnknownComune(ValueError):
    pass


def create_user(
    *,
    email: str,
    display_name: str,
    password: str,
    comune_id: int | None = None,
    registered_as: str = RegisteredAs.citizen,
    digest_frequency: str = "weekly",
    locale: str = "it",
    role: str = Role.participant,
    verified: bool = False,
    check_password: bool = True,
) -> User:
    if check_password:
        problem = password_problem(password, email=email, display_name=display_name)
        if problem:
            raise PasswordProblem(problem)
    now = utcnow()
    user = User(
        email=normalise_email(email),
        display_name=clean_plain(display_name),
        comune_id=comune_id,
        registered_as=registered_as,
        digest_frequency=digest_frequency,
        locale=locale,
        role=role,
        privacy_consent_at=now,
        email_verified_at=now if verified else None,
    )
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    return user


def create_admin_account(*, email: str, display_name: str, password: str) -> User:
    user = create_user(email=email, display_name=display_name, password=password, role=Role.admin, verified=True)
    audit.record(None, "user.create_admin", user, {"role": [None, Role.admin.value]})
    return user


# --- helpers ---------------------------------------------------------------

def email_in_use(email: str, *, except_user: User | None = None) -> bool:
    query = select(User.id).where(User.email == normalise_email(email))
    if except_user is not None:
        query = query.where(User.id != except_user.id)
    return db.session.execute(query.limit(1)).first() is not None


def _check_comune(comune_id: int | None) -> None:
    if comune_id is not None and db.session.get(Comune, comune_id) is None:
        raise UnknownComune(comune_id)


def _flush_unique_email() -> None:
    """Flush; losing a race for the same address becomes EmailTaken (the view rolls back)."""
    try:
        db.session.flush()
    except IntegrityError:
        raise EmailTaken() from None


# --- registration and verification -----------------------------------------

def register(
    *,
    email: str,
    display_name: str,
    password: str,
    comune_id: int | None,
    registered_as: str,
    digest_frequency: str,
    locale: str,
) -> User | None:
    """Create a participant account (not yet verified) and queue the verification e-mail.

    If the address already has an account, nothing is created: its owner gets a "you already have an
    account" e-mail instead and None is returned. Both paths do the same work (one password hash, one
    e-mail), so neither the answer nor its timing tells whether an address is registered.
    """
    problem = password_problem(password, email=email, display_name=display_name)
    if problem:
        raise PasswordProblem(problem)
    _check_comune(comune_id)
    existing = account_with_email(email)
    if existing is not None:
        User.burn_password_check(password)
        send_account_exists_email(existing)
        return None
    try:
        user = create_user(
            email=email, display_name=display_name, password=password, comune_id=comune_id,
            registered_as=registered_as, digest_frequency=digest_frequency, locale=locale, check_password=False,
        )
    except IntegrityError:
        # A concurrent registration of the same address won; the view rolls back.
        raise EmailTaken() from None
    audit.record(user, "user.register", user, {
        "registered_as": [None, user.registered_as], "comune_id": [None, user.comune_id],
        "privacy_consent_at": [None, user.privacy_consent_at.isoformat()],
    })
    send_verification_email(user)
    return user


def account_with_email(email: str) -> User | None:
    return User.by_email(email)


def send_account_exists_email(user: User) -> None:
    """Tell the owner of an address that someone tried to register it again, and how to get in."""
    send_email_after_commit(
        user.email, _l("Hai già un account"), "accounts/account_exists", locale=user.locale,
        user=user, login_link=external_url("accounts.login"),
        reset_link=external_url("accounts.forgot_password"),
    )


def account_exists_after_race(email: str) -> None:
    """A concurrent registration of `email` won (the caller rolled back): answer as for a known address."""
    existing = account_with_email(email)
    if existing is not None:
        send_account_exists_email(existing)


def send_verification_email(user: User) -> None:
    token = tokens.make_verify_email_token(user)
    send_email_after_commit(
        user.email, _l("Conferma il tuo indirizzo e-mail"), "accounts/verify_email", locale=user.locale,
        user=user, link=external_url("accounts.verify_email", token=token),
        hours=tokens.max_age(tokens.Purpose.verify_email) // 3600,
    )


def verify_email(user: User) -> None:
    user.email_verified_at = utcnow()
    audit.record(user, "user.verify_email", user, {"email_verified_at": [None, user.email_verified_at.isoformat()]})
    db.session.flush()


# --- login and sessions ----------------------------------------------------

def authenticate(email: str, password: str) -> User | None:
    """The user with this e-mail and password, or None; unknown e-mails cost as much time as wrong passwords."""
    user = User.by_email(email)
    if user is None:
        User.burn_password_check(password)
        return None
    if not user.check_password(password):
        return None
    return user


def record_login(user: User) -> None:
    user.last_login_at = utcnow()
    db.session.flush()


def end_all_sessions(user: User) -> None:
    user.end_all_sessions()
    db.session.flush()


# --- passwords -------------------------------------------------------------

def _set_password(user: User, new_password: str) -> None:
    problem = password_problem(new_password, email=user.email)
    if problem:
        raise PasswordProblem(problem)
    user.set_password(new_password)
    # Every session and remember-me cookie issued before now stops working.
    user.end_all_sessions()


def _queue_password_changed_notice(user: User) -> None:
    send_email_after_commit(
        user.email, _l("La tua password è stata cambiata"), "accounts/password_changed", locale=user.locale,
        user=user, reset_link=external_url("accounts.forgot_password"),
    )


def change_password(user: User, new_password: str) -> None:
    _set_password(user, new_password)
    audit.record(user, "user.password_change", user, {"session_version": [user.session_version - 1,
                                                                          user.session_version]})
    _queue_password_changed_notice(user)
    db.session.flush()


def request_password_reset(email: str) -> None:
    """Queue a reset link if the address is registered; do nothing visible otherwise."""
    user = User.by_email(email)
    if user is None:
        return
    token = tokens.make_reset_password_token(user)
    send_email_after_commit(
        user.email, _l("Scegli una nuova password"), "accounts/reset_password", locale=user.locale,
        user=user, link=external_url("accounts.reset_password", token=token),
        minutes=tokens.max_age(tokens.Purpose.reset_password) // 60,
    )


def reset_password(user: User, new_password: str) -> None:
    changes = {"session_version": [user.session_version, user.session_version + 1]}
    _set_password(user, new_password)
    if user.email_verified_at is None:
        # The link reached this mailbox: that proves the address as well.
        user.email_verified_at = utcnow()
        changes["email_verified_at"] = [None, user.email_verified_at.isoformat()]
    audit.record(user, "user.password_reset", user, changes)
    _queue_password_changed_notice(user)
    db.session.flush()


# --- e-mail change ---------------------------------------------------------

def request_email_change(user: User, new_email: str) -> None:
    """Send a confirmation link to the new address; nothing changes until it is opened."""
    new_email = normalise_email(new_email)
    if email_in_use(new_email, except_user=user):
        raise EmailTaken()
    token = tokens.make_change_email_token(user, new_email)
    audit.record(user, "user.email_change_request", user, {"email": [user.email, new_email]})
    send_email_after_commit(
        new_email, _l("Conferma il nuovo indirizzo e-mail"), "accounts/confirm_email_change", locale=user.locale,
        user=user, new_email=new_email, link=external_url("accounts.confirm_email_change", token=token),
        hours=tokens.max_age(tokens.Purpose.change_email) // 3600,
    )
    db.session.flush()


def change_email(change: tokens.EmailChange) -> None:
    user = change.user
    if email_in_use(change.new_email, except_user=user):
        raise EmailTaken()
    now = utcnow()
    changes = {"email": [change.old_email, change.new_email]}
    if user.email_verified_at is None:
        changes["email_verified_at"] = [None, now.isoformat()]
    user.email = change.new_email
    # Opening the link sent to the new address proves it.
    user.email_verified_at = now
    _flush_unique_email()
    audit.record(user, "user.email_change", user, changes)
    send_email_after_commit(
        change.old_email, _l("Il tuo indirizzo e-mail è stato cambiato"), "accounts/email_changed",
        locale=user.locale, user=user, old_email=change.old_email, new_email=change.new_email,
    )
    db.session.flush()


# --- profile ---------------------------------------------------------------

def update_profile(user: User, *, display_name: str, comune_id: int | None, digest_frequency: str,
                   locale: str) -> dict[str, list]:
    """Apply the profile form; returns the before/after of what changed (empty if nothing)."""
    _check_comune(comune_id)
    wanted = {
        "display_name": clean_plain(display_name),
        "comune_id": comune_id,
        "digest_frequency": digest_frequency,
        "locale": locale,
    }
    changes = {}
    for name, value in wanted.items():
        before = getattr(user, name)
        if before != value:
            changes[name] = [before, value]
            setattr(user, name, value)
    if changes:
        audit.record(user, "user.update_profile", user, changes)
    db.session.flush()
    return changes
