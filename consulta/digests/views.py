"""Routes: /notifiche/ (page and preferences), /disiscrizione/<token>, /gestione/posta/."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload

from consulta.accounts.models import User
from consulta.core import keyset
from consulta.core.errors import abort_with
from consulta.core.input_guard import page_number
from consulta.core.notify import Notification
from consulta.core.views import load_or_404, require, safe_next_url
from consulta.digests import bp
from consulta.digests.builder import page_lines
from consulta.digests.forms import OutboxFilterForm, PreferencesForm, SendNowForm
from consulta.digests.models import (
    OUTBOX_STATUS_LABELS,
    OutboxEmail,
    can_manage_notifications,
    can_mark_read,
    can_remove_follow,
)
from consulta.digests.operations import (
    SendNowRefused,
    mark_all_read,
    mark_read,
    notification_count,
    prepare_send_now,
    remove_follow,
    resend_row,
    unsubscribe,
    update_preferences,
)
from consulta.digests.settings import setting
from consulta.digests.tokens import (
    UnsubscribeProblem,
    UnsubscribeTokenError,
    read_unsubscribe_token,
)
from consulta.extensions import csrf, db


@bp.app_context_processor
def _notification_badge():
    # base.html may show {{ notification_count(current_user) }} next to the profile link.
    return {"notification_count": notification_count}


# --------------------------------------------------------------------------- notifications page

def _owned_notification(notification_id: int) -> Notification:
    require(can_manage_notifications(current_user))
    note = load_or_404(Notification, notification_id)
    if not can_mark_read(current_user, note):
        abort(404)  # somebody else's: as if it did not exist
    return note


@bp.get("/notifiche/")
def index():
    require(can_manage_notifications(current_user))
    only_unread = request.args.get("filtro") == "non-lette"
    query = select(Notification).where(Notification.user_id == current_user.id)
    if only_unread:
        query = query.where(Notification.read_at.is_(None))
    pagination = keyset.paginate(query, (Notification.created_at, Notification.id), name="notifications",
                                 per_page=int(setting("NOTIFICATIONS_PER_PAGE")))
    unread = notification_count(current_user)
    return render_template(
        "digests/index.html", pagination=pagination, lines=page_lines(pagination.items, current_user),
        unread=unread, only_unread=only_unread,
    )


def _back_to_list():
    return redirect(safe_next_url(request.form.get("next"), url_for("digests.index")))


@bp.post("/notifiche/<int:notification_id>/letta")
def mark_one_read(notification_id: int):
    note = _owned_notification(notification_id)
    mark_read(current_user, note)
    db.session.commit()
    flash(_("Notifica segnata come letta."), "success")
    return _back_to_list()


@bp.post("/notifiche/lette")
def mark_everything_read():
    require(can_manage_notifications(current_user))
    count = mark_all_read(current_user)
    db.session.commit()
    if count:
        flash(_("Tutte le notifiche sono state segnate come lette."), "success")
    else:
        flash(_("Non c'erano notifiche da leggere."), "info")
    return _back_to_list()


# --------------------------------------------------------------------------- preferences

def _follows():
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Follow, Tavolo

    tavoli = db.session.execute(
        select(Follow, Tavolo).join(Tavolo, Tavolo.id == Follow.tavolo_id)
        .where(Follow.user_id == current_user.id).order_by(Tavolo.position, Tavolo.title)).all()
    proposals = db.session.execute(
        select(Follow, Proposal).join(Proposal, Proposal.id == Follow.proposal_id)
        .where(Follow.user_id == current_user.id).order_by(Follow.created_at.desc())).all()
    # A proposal hidden or pending since it was followed keeps its row but not its title.
    proposals = [(follow, proposal, proposal.can_read_text(current_user)) for follow, proposal in proposals]
    return tavoli, proposals


@bp.route("/notifiche/preferenze", methods=["GET", "POST"])
def preferences():
    require(can_manage_notifications(current_user))
    form = PreferencesForm(data={"digest_frequency": current_user.digest_frequency, "locale": current_user.locale}
                           if request.method == "GET" else None)
    if form.validate_on_submit():
        update_preferences(current_user, digest_frequency=form.digest_frequency.data, locale=form.locale.data)
        db.session.commit()
        session["lang"] = form.locale.data
        flash(_("Preferenze salvate."), "success")
        return redirect(url_for("digests.preferences"))
    tavoli, proposals = _follows()
    status = 400 if form.is_submitted() else 200
    return render_template("digests/preferences.html", form=form, followed_tavoli=tavoli,
                           followed_proposals=proposals), status


@bp.post("/notifiche/preferenze/seguiti/<int:follow_id>/rimuovi")
def unfollow(follow_id: int):
    from consulta.tavoli.models import Follow

    require(can_manage_notifications(current_user))
    follow = load_or_404(Follow, follow_id)
    if not can_remove_follow(current_user, follow):
        abort(404)
    what = "tavolo" if follow.tavolo_id is not None else "proposal"
    remove_follow(current_user, follow)
    db.session.commit()
    if what == "tavolo":
        flash(_("Non segui più questo tavolo: non riceverai più i suoi aggiornamenti."), "success")
    else:
        flash(_("Non segui più questa proposta."), "success")
    return redirect(url_for("digests.preferences"))


# --------------------------------------------------------------------------- unsubscribe

def _invalid_token(problem: UnsubscribeProblem):
    return render_template("digests/unsubscribe_invalid.html", expired=problem == UnsubscribeProblem.expired), 400


@bp.route("/disiscrizione/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058 one-click POSTs carry no CSRF token: the signed token is the authorisation.
def unsubscribe_link(token: str):
    try:
        user = read_unsubscribe_token(token)
    except UnsubscribeTokenError as error:
        return _invalid_token(error.problem)
    if request.method == "POST":
        unsubscribe(user)
        db.session.commit()
        if request.form.get("List-Unsubscribe") == "One-Click":
            # A mail client, not a person: answer at once, nothing to redirect to.
            return render_template("digests/unsubscribe.html", user=user, done=True)
        flash(_("Fatto: non riceverai più i riepiloghi via e-mail."), "success")
        return redirect(url_for("digests.unsubscribe_link", token=token), code=303)
    return render_template("digests/unsubscribe.html", user=user, done=user.digest_frequency == "off")


# --------------------------------------------------------------------------- admin outbox

def _render_outbox(filter_form: OutboxFilterForm, send_form: SendNowForm, status: str, code: int):
    query = select(OutboxEmail).options(joinedload(OutboxEmail.recipient))
    if status:
        query = query.where(OutboxEmail.status == status)
    query = query.order_by(OutboxEmail.created_at.desc(), OutboxEmail.id.desc())
    per_page = int(setting("OUTBOX_PER_PAGE"))
    page = page_number("pagina") if request.method == "GET" else 1
    pagination = db.paginate(query, page=page, per_page=per_page, max_per_page=per_page)
    counts = dict(db.session.execute(select(OutboxEmail.status, func.count()).group_by(OutboxEmail.status)).all())
    return render_template(
        "digests/outbox.html", pagination=pagination, form=filter_form, status=status, send_form=send_form,
        counts=[(key, label, counts.get(key, 0)) for key, label in OUTBOX_STATUS_LABELS.items()],
    ), code


@bp.get("/gestione/posta/")
def outbox():
    require(OutboxEmail.can_view_outbox(current_user))
    form = OutboxFilterForm(request.args)
    if not form.validate():
        return _render_outbox(form, SendNowForm(), "", 400)
    return _render_outbox(form, SendNowForm(), form.stato.data, 200)


def _report_queued(email: str) -> None:
    # The request only writes the row: the sender (flask send-mail) delivers it within seconds.
    flash(_("E-mail per %(email)s messa in coda: partirà entro pochi istanti. Se non riesce, la trovi qui "
            "come «Non riuscita» con il motivo.", email=email), "success")


@bp.post("/gestione/posta/invia")
def send_now():
    require(OutboxEmail.can_view_outbox(current_user))
    form = SendNowForm()
    user = None
    if form.validate_on_submit():
        user = User.by_email(form.email.data)
        if user is None:
            form.email.errors.append(_("Nessun account con questo indirizzo e-mail."))
    if user is None:
        return _outbox_with_errors(form, 400)
    try:
        row = prepare_send_now(user, current_user)
    except SendNowRefused as refusal:
        db.session.rollback()
        form.email.errors.append(refusal.message)
        return _outbox_with_errors(form, refusal.status)
    db.session.commit()
    if row is None:
        flash(_("Nessuna novità per %(email)s: nessun riepilogo da inviare.", email=user.email), "info")
    else:
        _report_queued(user.email)
    return redirect(url_for("digests.outbox"))


def _outbox_with_errors(send_form: SendNowForm, code: int):
    return _render_outbox(OutboxFilterForm(formdata=None), send_form, "", code)


@bp.post("/gestione/posta/<int:row_id>/invia")
def send_row_now(row_id: int):
    require(OutboxEmail.can_view_outbox(current_user))
    row = load_or_404(OutboxEmail, row_id, joinedload(OutboxEmail.recipient))
    if not row.can_send_now(current_user):
        abort_with(409, _("Questa e-mail è «%(status)s»: non può essere inviata di nuovo.",
                          status=row.status_label.lower()))
    email = row.to_address
    resend_row(row, current_user)
    db.session.commit()
    _report_queued(email)
    return redirect(url_for("digests.outbox"))

