"""Routes of the accounts domain: register, verify, log in and out, reset, profile."""

from __future__ import annotations

import hashlib

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user, login_required, login_user, logout_user

from consulta.accounts import bp, operations, tokens
from consulta.accounts.forms import (
    OTHER_COMUNE,
    ChangeEmailForm,
    ChangePasswordForm,
    ForgotPasswordForm,
    LoginForm,
    ProfileForm,
    RegisterForm,
    ResetPasswordForm,
    comune_choices,
    comune_id_from,
)
from consulta.accounts.models import User, normalise_email
from consulta.ambito.models import Comune
from consulta.core.mail import last_queued_email
from consulta.core.views import safe_next_url
from consulta.extensions import db, limiter


def _limit(setting: str, fallback: str | None = None):
    """Rate-limit the POSTs of a view with the limit named by a setting (read per request)."""
    def value() -> str:
        config = current_app.config
        return config.get(setting) or config[fallback]
    return limiter.limit(value, methods=["POST"])


def _login_account_key() -> str:
    """The account a login attempt targets (hashed: no addresses in the limiter's storage)."""
    email = normalise_email(request.form.get("email", ""))
    return "login-account:" + hashlib.sha256(email.encode()).hexdigest()


def _failed_login(response) -> bool:
    # A successful login redirects; every other answer is a failed attempt.
    return response.status_code != 302


def _start_session(user: User, *, remember: bool = False) -> None:
    login_user(user, remember=remember)
    session.permanent = True


def _token_error(purpose: tokens.Purpose, problem: tokens.TokenProblem, status: int = 400):
    return render_template("accounts/token_error.html", purpose=purpose.value, problem=problem.value,
                           user=current_user), status


# --- login and logout --------------------------------------------------------

@bp.route("/accedi", methods=["GET", "POST"])
@_limit("RATELIMIT_LOGIN")
@limiter.limit(lambda: current_app.config["RATELIMIT_LOGIN_ACCOUNT"], methods=["POST"], key_func=_login_account_key,
               deduct_when=_failed_login)
def login():
    next_url = safe_next_url(request.args.get("next"), url_for("ambito.home"))
    if current_user.is_authenticated and request.method == "GET":
        return redirect(next_url)
    form = LoginForm()
    failed = False
    if form.validate_on_submit():
        user = operations.authenticate(form.email.data, form.password.data)
        if user is not None:
            operations.record_login(user)
            db.session.commit()
            _start_session(user, remember=bool(form.remember.data))
            flash(_("Bentornato/a, %(name)s.", name=user.display_name), "success")
            return redirect(next_url)
        # Same words and status whether the e-mail is unknown or the password wrong.
        failed = True
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/login.html", form=form, failed=failed,
                           next_param=request.args.get("next")), status


@bp.post("/esci")
def logout():
    if current_user.is_authenticated:
        # Ends this and every other session of the user, including copied and remember-me cookies.
        operations.end_all_sessions(current_user._get_current_object())
        db.session.commit()
        logout_user()
        flash(_("Sei uscito/a. Per sicurezza abbiamo chiuso anche le sessioni aperte su altri dispositivi."), "info")
    return redirect(url_for("ambito.home"))


# --- registration and verification ---------------------------------------------

@bp.route("/registrati", methods=["GET", "POST"])
@_limit("RATELIMIT_REGISTER")
def register():
    if current_user.is_authenticated:
        flash(_("Hai già un account e sei collegato/a."), "info")
        return redirect(url_for("accounts.profile"))
    form = RegisterForm()
    form.comune.choices = comune_choices(Comune.all_sorted())
    if form.validate_on_submit():
        # A new address gets an account and a verification link; a registered one gets, instead, an e-mail
        # to its owner ("you already have an account"). The answer is the same page with the same status
        # and the same work behind it, so it does not tell whether an address is registered.
        try:
            operations.register(
                email=form.email.data, display_name=form.display_name.data, password=form.password.data,
                comune_id=comune_id_from(form.comune.data), registered_as=form.registered_as.data,
                digest_frequency=form.digest_frequency.data, locale=str(get_locale() or "it"),
            )
        except operations.EmailTaken:
            # A concurrent registration of the same address won: now it is a registered address.
            db.session.rollback()
            operations.account_exists_after_race(form.email.data)
        except operations.UnknownComune:
            db.session.rollback()
            form.comune.errors.append(_("Scegli un comune dall'elenco oppure «Altro comune»."))
            return render_template("accounts/register.html", form=form), 400
        except operations.PasswordProblem as problem:
            db.session.rollback()
            form.password.errors.append(str(problem))
            return render_template("accounts/register.html", form=form), 400
        db.session.commit()
        flash(_("Ti stiamo inviando un'e-mail a %(email)s: apri il link che contiene per completare la "
                "registrazione, poi accedi.", email=normalise_email(form.email.data)), "success")
        if form.registered_as.data == "representative":
            flash(_("Per partecipare a nome della tua organizzazione, dopo l'accesso chiedi di aderirvi (o di "
                    "registrarla) dalla pagina del tuo profilo."), "info")
        return redirect(url_for("accounts.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/register.html", form=form), status


@bp.get("/verifica-email/<token>")
def verify_email(token: str):
    try:
        user = tokens.read_verify_email_token(token)
    except tokens.TokenError as error:
        return _token_error(tokens.Purpose.verify_email, error.problem)
    operations.verify_email(user)
    db.session.commit()
    flash(_("Indirizzo e-mail verificato: ora puoi partecipare alla consultazione."), "success")
    if current_user.is_authenticated and current_user.id == user.id:
        return redirect(url_for("accounts.profile"))
    return redirect(url_for("accounts.login", next=url_for("accounts.profile")))


@bp.post("/profilo/verifica/invia")
@login_required
@_limit("RATELIMIT_RESEND", "RATELIMIT_RESET")
def resend_verification():
    user = current_user._get_current_object()
    if user.is_verified:
        flash(_("Il tuo indirizzo e-mail è già verificato."), "info")
    else:
        operations.send_verification_email(user)
        db.session.commit()
        flash(_("Ti stiamo inviando un nuovo link di verifica a %(email)s.", email=user.email), "success")
    return redirect(url_for("accounts.profile"))


# --- password reset -------------------------------------------------------------

@bp.route("/password/dimenticata", methods=["GET", "POST"])
@_limit("RATELIMIT_RESET")
def forgot_password():
    form = ForgotPasswordForm()
    if form.validate_on_submit():
        operations.request_password_reset(form.email.data)
        db.session.commit()
        # The same answer whether or not the address is registered.
        flash(_("Se l'indirizzo è registrato, riceverai a breve un'e-mail con un link per scegliere una nuova "
                "password. Controlla anche la cartella della posta indesiderata."), "info")
        return redirect(url_for("accounts.forgot_password"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/forgot_password.html", form=form), status


@bp.route("/password/nuova/<token>", methods=["GET", "POST"])
@_limit("RATELIMIT_RESET")
def reset_password(token: str):
    try:
        user = tokens.read_reset_password_token(token)
    except tokens.TokenError as error:
        return _token_error(tokens.Purpose.reset_password, error.problem)
    form = ResetPasswordForm()
    form.email_for_rules = user.email
    if form.validate_on_submit():
        operations.reset_password(user, form.password.data)
        db.session.commit()
        if current_user.is_authenticated:
            logout_user()
        flash(_("Password aggiornata. Per sicurezza abbiamo chiuso tutte le sessioni aperte: accedi con la nuova "
                "password."), "success")
        return redirect(url_for("accounts.login"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/reset_password.html", form=form, token=token, account=user), status


# --- profile ----------------------------------------------------------------

def _profile_form_data(user: User) -> dict:
    return {
        "display_name": user.display_name,
        "comune": str(user.comune_id) if user.comune_id is not None else OTHER_COMUNE,
        "digest_frequency": user.digest_frequency,
        "locale": user.locale,
    }


@bp.route("/profilo/", methods=["GET", "POST"])
@login_required
def profile():
    user = current_user._get_current_object()
    form = ProfileForm() if request.method == "POST" else ProfileForm(data=_profile_form_data(user))
    form.comune.choices = comune_choices(Comune.all_sorted())
    if form.validate_on_submit():
        try:
            changes = operations.update_profile(
                user, display_name=form.display_name.data, comune_id=comune_id_from(form.comune.data),
                digest_frequency=form.digest_frequency.data, locale=form.locale.data,
            )
        except operations.UnknownComune:
            db.session.rollback()
            form.comune.errors.append(_("Scegli un comune dall'elenco oppure «Altro comune»."))
        else:
            db.session.commit()
            if "locale" in changes:
                session["lang"] = form.locale.data
            flash(_("Profilo aggiornato.") if changes else _("Non c'era nulla da cambiare."),
                  "success" if changes else "info")
            return redirect(url_for("accounts.profile"))
    status = 400 if form.is_submitted() else 200
    verification_mail = None if user.is_verified else last_queued_email(user, "accounts/verify_email")
    return render_template("accounts/profile.html", form=form, user=user, membership=user.membership,
                           verification_mail=verification_mail), status


def _valid_with_current_password(form, user: User) -> bool:
    """Validate the form and the current password together, so every error shows at once."""
    valid = form.validate_on_submit()
    typed = form.current_password.data
    if form.is_submitted() and typed and not form.current_password.errors and not user.check_password(typed):
        form.current_password.errors.append(_("La password attuale non è corretta."))
        return False
    return valid


@bp.route("/profilo/password", methods=["GET", "POST"])
@login_required
def change_password():
    user = current_user._get_current_object()
    form = ChangePasswordForm()
    form.email_for_rules = user.email
    if _valid_with_current_password(form, user):
        operations.change_password(user, form.password.data)
        db.session.commit()
        # The version bump ended every session; this one continues under the new version.
        remembered = current_app.config.get("REMEMBER_COOKIE_NAME", "remember_token") in request.cookies
        _start_session(user, remember=remembered)
        flash(_("Password cambiata. Le sessioni aperte su altri dispositivi sono state chiuse."), "success")
        return redirect(url_for("accounts.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/change_password.html", form=form), status


@bp.route("/profilo/email", methods=["GET", "POST"])
@login_required
def change_email():
    user = current_user._get_current_object()
    form = ChangeEmailForm()
    if _valid_with_current_password(form, user):
        if normalise_email(form.email.data) == user.email:
            form.email.errors.append(_("È già il tuo indirizzo attuale."))
        else:
            try:
                operations.request_email_change(user, form.email.data)
            except operations.EmailTaken:
                db.session.rollback()
                form.email.errors.append(_("Questo indirizzo è già usato da un altro account."))
            else:
                db.session.commit()
                flash(_("Ti stiamo inviando un link a %(email)s: il tuo indirizzo cambierà quando lo aprirai. "
                        "Fino ad allora resta valido quello attuale.",
                        email=normalise_email(form.email.data)), "info")
                return redirect(url_for("accounts.profile"))
    status = 400 if form.is_submitted() else 200
    return render_template("accounts/change_email.html", form=form, user=user), status


@bp.get("/profilo/email/conferma/<token>")
def confirm_email_change(token: str):
    try:
        change = tokens.read_change_email_token(token)
    except tokens.TokenError as error:
        return _token_error(tokens.Purpose.change_email, error.problem)
    try:
        operations.change_email(change)
    except operations.EmailTaken:
        db.session.rollback()
        return _token_error(tokens.Purpose.change_email, tokens.TokenProblem.taken, status=409)
    db.session.commit()
    flash(_("Indirizzo e-mail cambiato: d'ora in poi accedi con %(email)s.", email=change.new_email), "success")
    if current_user.is_authenticated and current_user.id == change.user.id:
        return redirect(url_for("accounts.profile"))
    return redirect(url_for("accounts.login", next=url_for("accounts.profile")))


# --- information ------------------------------------------------------------

@bp.get("/privacy")
def privacy():
    return render_template("accounts/privacy.html")
