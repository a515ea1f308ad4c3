"""Routes of the meetings domain: tavolo membership, meetings (with iCalendar),
the minutes editor of the facilitators, public minutes and their exports.

Each route loads with explicit loader options, checks a model's can_* method,
calls one operation, commits once and redirects. Convocation e-mails leave
after the commit.
"""

from __future__ import annotations

from flask import Response, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from consulta.core.errors import abort_with
from consulta.core.input_guard import paginate
from consulta.core.permissions import is_authenticated
from consulta.core.states import TransitionError
from consulta.core.submissions import one_time, remember
from consulta.core.text import render_markdown
from consulta.core.views import load_or_404, require
from consulta.extensions import db
from consulta.meetings import bp, queries
from consulta.meetings import operations as ops
from consulta.meetings.forms import (
    ActionForm,
    ApproveForm,
    CancelMeetingForm,
    ExternalForm,
    HeldMeetingForm,
    MeetingForm,
    MemberRequestForm,
    MinutesTextForm,
    OptionalReasonForm,
    ParticipantForm,
    RejectMemberForm,
    StartMinutesForm,
    decision_form,
    member_attendance_form,
    member_presence,
)
from consulta.meetings.mail import send_convocations
from consulta.meetings.models import (
    AttendanceKind,
    Decision,
    ImmutableMinutes,
    Meeting,
    MeetingStatus,
    MemberStatus,
    Minutes,
    TavoloMember,
)
from consulta.tavoli.models import Tavolo

SLUG_MAX = 120
MEETINGS_PER_PAGE = 20


# --- template globals for other domains' pages ---------------------------------

bp.add_app_template_global(queries.decision_for_objective, "decision_for_objective")


# --- loading ---------------------------------------------------------------------

def _load_tavolo(slug: str) -> Tavolo:
    if len(slug) > SLUG_MAX:
        abort_with(404, _("Tavolo non trovato."))
    tavolo = db.session.execute(
        select(Tavolo).where(Tavolo.slug == slug).options(selectinload(Tavolo.facilitators))
    ).scalar_one_or_none()
    if tavolo is None or not tavolo.can_view(current_user):
        abort_with(404, _("Tavolo non trovato."))
    return tavolo


def _load_meeting(meeting_id: int) -> Meeting:
    meeting = load_or_404(
        Meeting, meeting_id,
        joinedload(Meeting.tavolo).selectinload(Tavolo.facilitators),
        selectinload(Meeting.proposals), selectinload(Meeting.objectives),
    )
    if not meeting.can_view(current_user):
        abort_with(404, _("Incontro non trovato."))
    return meeting


def _load_member(tavolo: Tavolo, member_id: int) -> TavoloMember:
    member = db.session.execute(
        select(TavoloMember).where(TavoloMember.id == member_id, TavoloMember.tavolo_id == tavolo.id)
    ).unique().scalar_one_or_none()
    if member is None:
        abort_with(404, _("Adesione non trovata."))
    return member


def _load_minutes(minutes_id: int) -> Minutes:
    minutes = queries.load_minutes_for_page(minutes_id)
    if not minutes.can_view(current_user):
        abort_with(404, _("Verbale non trovato."))
    return minutes


def _editable_minutes(minutes_id: int) -> Minutes:
    """A verbale the current user may edit now: 403 for others, 409 once approved."""
    minutes = queries.load_minutes_for_page(minutes_id)
    require(minutes.can_manage(current_user))
    if not minutes.is_draft:
        abort_with(409, ImmutableMinutes().message)
    return minutes


def _status(form) -> int:
    return 400 if form.is_submitted() else 200


def _refused(error: TransitionError, form=None, field: str | None = None) -> bool:
    """Show a 400 refusal from an operation next to its form field (`field`, else the one the error
    names); other statuses propagate."""
    if error.status != 400 or form is None:
        raise error
    db.session.rollback()
    field = field or error.field
    target = form[field] if field else None
    if target is not None:
        target.errors = [*target.errors, error.message]
    else:
        form.form_errors.append(error.message)
    return True


# =================================================================================== membership

@bp.get("/tavoli/<slug>/membri/")
def members(slug: str):
    tavolo = _load_tavolo(slug)
    return _render_members(tavolo)


def _render_members(tavolo: Tavolo, reject_forms: dict | None = None, status: int = 200):
    own_seat = None
    organisation = current_user.represented_organisation if is_authenticated(current_user) else None
    if organisation is not None:
        own_seat = queries.member_of(tavolo.id, organisation.id)
    pending = queries.pending_members(tavolo.id) if tavolo.can_facilitate(current_user) else []
    groups = queries.tavolo_members(tavolo)
    reject_forms = reject_forms or {}
    return render_template(
        "meetings/members.html", tavolo=tavolo, groups=groups, pending=pending, own_seat=own_seat,
        organisation=organisation, can_request=TavoloMember.can_request(tavolo, current_user),
        reject_forms={m.id: reject_forms.get(m.id) or RejectMemberForm(formdata=None, prefix=f"r{m.id}") for m in pending},
        action_form=ActionForm(),
    ), status


@bp.route("/tavoli/<slug>/membri/adesione", methods=["GET", "POST"])
def member_request(slug: str):
    tavolo = _load_tavolo(slug)
    require(is_authenticated(current_user))
    if not TavoloMember.can_request(tavolo, current_user):
        if tavolo.phase == "closed":
            abort_with(409, _("Il tavolo è chiuso: non accoglie nuove adesioni."))
        abort_with(403, _("Solo chi rappresenta un'organizzazione verificata può chiederne l'adesione al tavolo."))
    organisation = current_user.represented_organisation
    seat = queries.member_of(tavolo.id, organisation.id)
    people = queries.organisation_people(organisation.id)
    form = MemberRequestForm(people)
    if request.method == "GET":
        if seat is not None and seat.is_active_seat:
            form.delegate.data = seat.delegate_id
            form.substitute.data = str(seat.substitute_id) if seat.substitute_id else ""
        else:
            form.delegate.data = current_user.id
    if form.validate_on_submit():
        _member, what = ops.request_membership(tavolo, current_user, delegate=form.delegate_user,
                                               substitute=form.substitute_user)
        db.session.commit()
        messages = {
            "requested": _("Richiesta di adesione inviata: i facilitatori del tavolo la esamineranno."),
            "requested_again": _("Nuova richiesta di adesione inviata: i facilitatori del tavolo la esamineranno."),
            "updated": _("Delegato e sostituto aggiornati."),
        }
        flash(messages[what], "success")
        return redirect(url_for("meetings.members", slug=tavolo.slug))
    return render_template("meetings/member_request.html", tavolo=tavolo, organisation=organisation, seat=seat,
                           form=form), _status(form)


@bp.post("/tavoli/<slug>/membri/<int:member_id>/accetta")
def member_accept(slug: str, member_id: int):
    tavolo = _load_tavolo(slug)
    member = _load_member(tavolo, member_id)
    require(tavolo.can_facilitate(current_user))
    if not member.can_accept(current_user):
        abort_with(409, _("Questa adesione non è in attesa di conferma (stato: %(state)s).",
                          state=member.status_label.lower()))
    ops.accept_member(member, current_user)
    db.session.commit()
    flash(_("«%(name)s» è ora membro del tavolo.", name=member.organisation.name), "success")
    return redirect(url_for("meetings.members", slug=tavolo.slug))


@bp.post("/tavoli/<slug>/membri/<int:member_id>/rifiuta")
def member_reject(slug: str, member_id: int):
    tavolo = _load_tavolo(slug)
    member = _load_member(tavolo, member_id)
    require(tavolo.can_facilitate(current_user))
    if not member.can_reject(current_user):
        abort_with(409, _("Questa adesione non è in attesa di conferma (stato: %(state)s).",
                          state=member.status_label.lower()))
    form = RejectMemberForm(prefix=f"r{member.id}")
    if not form.validate_on_submit():
        return _render_members(tavolo, {member.id: form}, 400)
    ops.reject_member(member, current_user, form.reason.data)
    db.session.commit()
    flash(_("Adesione di «%(name)s» non accolta.", name=member.organisation.name), "success")
    return redirect(url_for("meetings.members", slug=tavolo.slug))


@bp.post("/tavoli/<slug>/membri/<int:member_id>/uscita")
def member_leave(slug: str, member_id: int):
    tavolo = _load_tavolo(slug)
    member = _load_member(tavolo, member_id)
    require(is_authenticated(current_user))
    require(member.can_leave(current_user) or tavolo.can_facilitate(current_user)
            or member.can_update_delegates(current_user))
    if not member.can_leave(current_user):
        abort_with(409, _("L'organizzazione non siede a questo tavolo (stato: %(state)s).",
                          state=member.status_label.lower()))
    form = OptionalReasonForm()
    if not form.validate_on_submit():
        abort_with(400, "; ".join(e for errors in form.errors.values() for e in errors))
    was_requested = member.status == MemberStatus.requested
    ops.leave_tavolo(member, current_user, form.reason.data)
    db.session.commit()
    flash(_("Richiesta di adesione ritirata.") if was_requested else
          _("«%(name)s» non è più membro del tavolo.", name=member.organisation.name), "success")
    return redirect(url_for("meetings.members", slug=tavolo.slug))


# =================================================================================== meetings

@bp.get("/tavoli/<slug>/incontri/")
def tavolo_meetings(slug: str):
    tavolo = _load_tavolo(slug)
    page = paginate(
        select(Meeting).where(Meeting.tavolo_id == tavolo.id).order_by(Meeting.starts_at.desc(), Meeting.id.desc()),
        per_page=MEETINGS_PER_PAGE)
    return render_template("meetings/meetings.html", tavolo=tavolo, page=page,
                           minutes_of=queries.approved_minutes_ids([m.id for m in page.items]))


@bp.get("/tavoli/<slug>/incontri.ics")
def tavolo_feed(slug: str):
    from consulta.meetings.ics import tavolo_feed as build_feed

    tavolo = _load_tavolo(slug)
    meetings = list(db.session.execute(
        select(Meeting).where(Meeting.tavolo_id == tavolo.id).order_by(Meeting.starts_at, Meeting.id)
    ).scalars())
    return _calendar_response(build_feed(tavolo, meetings), f"incontri-{tavolo.slug}.ics", inline=True)


def _calendar_response(body: bytes, filename: str, inline: bool = False) -> Response:
    response = Response(body, mimetype="text/calendar")
    response.headers["Content-Type"] = "text/calendar; charset=utf-8"
    response.headers["Content-Disposition"] = f'{"inline" if inline else "attachment"}; filename="{filename}"'
    response.headers["Cache-Control"] = "public, max-age=900"
    return response


@bp.get("/incontri/<int:meeting_id>/")
def show(meeting_id: int):
    meeting = _load_meeting(meeting_id)
    return _render_meeting(meeting)


def _render_meeting(meeting: Meeting, cancel_form: CancelMeetingForm | None = None, status: int = 200):
    manager = meeting.can_manage(current_user)
    documents = [m for m in queries.meeting_minutes(meeting.id) if m.is_approved or manager]
    original = next((m for m in documents if m.corrects_id is None), None)
    return render_template(
        "meetings/meeting.html", meeting=meeting, tavolo=meeting.tavolo, documents=documents,
        has_original=original is not None, cancel_form=cancel_form or CancelMeetingForm(formdata=None),
        action_form=ActionForm(), members_count=len(queries.accepted_members(meeting.tavolo_id)),
    ), status


@bp.get("/incontri/<int:meeting_id>.ics")
def meeting_ics(meeting_id: int):
    from consulta.meetings.ics import meeting_calendar

    meeting = _load_meeting(meeting_id)
    return _calendar_response(meeting_calendar(meeting), f"incontro-{meeting.id}.ics")


def _meeting_subject_choices(tavolo: Tavolo):
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Objective

    proposals = list(db.session.execute(
        select(Proposal).where(Proposal.tavolo_id == tavolo.id, Proposal.visibility == "visible",
                               Proposal.state.not_in(("submitted", "withdrawn")))
        .order_by(Proposal.id)
    ).scalars())
    objectives = list(db.session.execute(
        select(Objective).where(Objective.tavolo_id == tavolo.id, Objective.status != "draft")
        .order_by(Objective.position, Objective.id)
    ).unique().scalars())
    return proposals, objectives


def _meeting_fields(form: MeetingForm) -> ops.MeetingFields:
    return ops.MeetingFields(
        title=form.title.data, starts_at=form.starts_at, ends_at=form.ends_at, place=form.place.data,
        online_url=form.online_url.data, agenda=form.agenda.data or "", proposals=form.picked_proposals,
        objectives=form.picked_objectives,
    )


def _new_meeting_page(slug: str, form_class, create, created_message, **page):
    """The page that creates a meeting (convened or already held): its form, the operation, the answer."""
    tavolo = _load_tavolo(slug)
    require(Meeting.can_schedule(tavolo, current_user))
    proposals, objectives = _meeting_subject_choices(tavolo)
    form = one_time(form_class)(proposals=proposals, objectives=objectives)
    if form.is_submitted():
        form.read_subjects(request.form)
    if form.validate_on_submit():
        try:
            meeting = create(tavolo, current_user, _meeting_fields(form))
            message = created_message(meeting)
            remember(form, meeting, url_for("meetings.show", meeting_id=meeting.id))
            db.session.commit()
        except TransitionError as error:
            _refused(error, form)
        else:
            flash(message, "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_template("meetings/meeting_form.html", tavolo=tavolo, meeting=None, form=form,
                           **page), _status(form)


@bp.route("/facilitazione/tavoli/<slug>/incontri/nuovo", methods=["GET", "POST"])
def meeting_new(slug: str):
    def convene(meeting) -> str:
        sent = send_convocations(meeting)  # written to the outbox in this transaction
        return _("Incontro convocato.") + " " + (
            _("Convocazione in invio per e-mail a %(num)d persone (delegati e sostituti).", num=sent) if sent
            else _("Il tavolo non ha ancora membri con un delegato: nessuna convocazione inviata."))

    return _new_meeting_page(slug, MeetingForm, ops.schedule_meeting, convene)


@bp.route("/facilitazione/tavoli/<slug>/incontri/svolto", methods=["GET", "POST"])
def meeting_record_held(slug: str):
    """A meeting held elsewhere or before: recorded without convocations, ready for its minutes."""
    return _new_meeting_page(slug, HeldMeetingForm, ops.record_held_meeting,
                             lambda meeting: _("Incontro registrato come svolto: ora puoi scriverne il verbale."),
                             held=True)


@bp.route("/facilitazione/incontri/<int:meeting_id>/modifica", methods=["GET", "POST"])
def meeting_edit(meeting_id: int):
    meeting = _load_meeting(meeting_id)
    require(meeting.can_manage(current_user))
    if not meeting.can_edit(current_user):
        abort_with(409, _("Si possono modificare solo gli incontri convocati, non quelli svolti o annullati."))
    tavolo = meeting.tavolo
    proposals, objectives = _meeting_subject_choices(tavolo)
    form = MeetingForm(obj=meeting if request.method == "GET" else None, proposals=proposals,
                       objectives=objectives)
    if request.method == "GET":
        form.fill_from(meeting)
    else:
        form.read_subjects(request.form)
    if form.validate_on_submit():
        try:
            changes = ops.update_meeting(meeting, current_user, _meeting_fields(form))
            resent = bool({"starts_at", "ends_at", "place", "online_url", "title"} & changes.keys())
            sent = send_convocations(meeting, "update") if resent else 0
            db.session.commit()
        except TransitionError as error:
            _refused(error, form)
        else:
            if resent:
                flash(_("Incontro aggiornato: la convocazione aggiornata è in invio a %(num)d persone.",
                        num=sent), "success")
            else:
                flash(_("Incontro aggiornato.") if changes else _("Nessuna modifica da salvare."), "success")
            return redirect(url_for("meetings.show", meeting_id=meeting.id))
    return render_template("meetings/meeting_form.html", tavolo=tavolo, meeting=meeting, form=form), _status(form)


@bp.post("/facilitazione/incontri/<int:meeting_id>/annulla")
def meeting_cancel(meeting_id: int):
    meeting = _load_meeting(meeting_id)
    require(meeting.can_manage(current_user))
    if not meeting.can_cancel(current_user):
        abort_with(409, _("Si possono annullare solo gli incontri convocati."))
    form = CancelMeetingForm()
    if not form.validate_on_submit():
        return _render_meeting(meeting, form, 400)
    ops.cancel_meeting(meeting, current_user, form.reason.data)
    sent = send_convocations(meeting, "cancellation")
    db.session.commit()
    flash(_("Incontro annullato: l'avviso è in invio a %(num)d persone.", num=sent), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


@bp.post("/facilitazione/incontri/<int:meeting_id>/svolto")
def meeting_held(meeting_id: int):
    meeting = _load_meeting(meeting_id)
    require(meeting.can_manage(current_user))
    ops.mark_meeting_held(meeting, current_user)
    db.session.commit()
    flash(_("Incontro segnato come svolto: ora puoi scriverne il verbale."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting.id))


# =================================================================================== minutes editor

@bp.post("/facilitazione/tavoli/<slug>/verbali/nuovo")
def minutes_new(slug: str):
    tavolo = _load_tavolo(slug)
    require(tavolo.can_facilitate(current_user))
    form = StartMinutesForm()
    if not form.validate_on_submit() or form.meeting_key() is None:
        abort_with(400, _("Indica l'incontro di cui scrivere il verbale."))
    meeting = db.session.get(Meeting, form.meeting_key())
    if meeting is None:
        abort_with(400, _("L'incontro indicato non esiste."))
    if meeting.tavolo_id != tavolo.id:
        abort_with(400, _("L'incontro scelto non appartiene a questo tavolo: il verbale si scrive nel tavolo "
                          "dell'incontro."))
    minutes = ops.start_minutes(meeting, current_user, tavolo=tavolo)
    db.session.commit()
    flash(_("Bozza del verbale creata: registra presenze, testo e decisioni, poi approvalo."), "success")
    return redirect(url_for("meetings.editor", minutes_id=minutes.id))


def _editor_context(minutes: Minutes) -> dict:
    members = queries.accepted_members(minutes.tavolo_id)
    return {
        "minutes": minutes, "meeting": minutes.meeting, "tavolo": minutes.tavolo,
        "groups": queries.attendance_groups(minutes), "members_count": len(members),
    }


@bp.get("/facilitazione/verbali/<int:minutes_id>/")
def editor(minutes_id: int):
    minutes = queries.load_minutes_for_page(minutes_id)
    require(minutes.can_manage(current_user))
    if minutes.is_approved:
        return redirect(url_for("meetings.minutes", minutes_id=minutes.id))
    return render_template("meetings/editor.html", approve_form=ApproveForm(formdata=None), action_form=ActionForm(),
                           **_editor_context(minutes))


@bp.route("/facilitazione/verbali/<int:minutes_id>/testo", methods=["GET", "POST"])
def editor_text(minutes_id: int):
    minutes = _editable_minutes(minutes_id)
    form = MinutesTextForm(obj=minutes if request.method == "GET" else None)
    preview = None
    if form.validate_on_submit():
        if "preview" in request.form:
            preview = {"text": render_markdown(form.text.data), "items": [
                line.strip() for line in (form.agenda_items.data or "").splitlines() if line.strip()]}
            return render_template("meetings/editor_text.html", form=form, preview=preview,
                                   **_editor_context(minutes))
        ops.update_minutes_text(minutes, current_user, agenda_items=form.agenda_items.data or "",
                                text=form.text.data or "")
        db.session.commit()
        flash(_("Testo del verbale salvato."), "success")
        return redirect(url_for("meetings.editor", minutes_id=minutes.id, _anchor="testo"))
    return render_template("meetings/editor_text.html", form=form, preview=preview,
                           **_editor_context(minutes)), _status(form)


def _attendance_page(minutes: Minutes, *, member_form=None, participant_form=None, external_form=None,
                     status: int = 200):
    members = queries.accepted_members(minutes.tavolo_id)
    current = {}
    by_org = {a.organisation_id: a for a in minutes.attendance if a.kind == AttendanceKind.member}
    for member in members:
        row = by_org.get(member.organisation_id)
        current[member.id] = row.attended_as if row is not None else "absent"
    return render_template(
        "meetings/editor_attendance.html",
        member_form=member_form or member_attendance_form(members, current),
        participant_form=participant_form or ParticipantForm(formdata=None),
        external_form=external_form or ExternalForm(formdata=None),
        others=[a for a in minutes.attendance if a.kind != AttendanceKind.member],
        action_form=ActionForm(), **_editor_context(minutes),
    ), status


@bp.route("/facilitazione/verbali/<int:minutes_id>/presenze", methods=["GET", "POST"])
def editor_attendance(minutes_id: int):
    minutes = _editable_minutes(minutes_id)
    if request.method == "GET":
        return _attendance_page(minutes)
    members = queries.accepted_members(minutes.tavolo_id)
    form = member_attendance_form(members, {}, formdata=request.form)
    unknown = [k for k in request.form if k.startswith("member_") and k not in form]
    if unknown:
        abort_with(400, _("Una delle organizzazioni indicate non è aderente a questo tavolo."))
    if not form.validate_on_submit():
        return _attendance_page(minutes, member_form=form, status=400)
    try:
        ops.set_member_attendance(minutes, current_user, member_presence(form), members)
        db.session.commit()
    except TransitionError as error:
        _refused(error, form)
        return _attendance_page(minutes, member_form=form, status=400)
    flash(_("Presenze salvate: %(num)d organizzazioni aderenti presenti.", num=minutes.members_present), "success")
    return redirect(url_for("meetings.editor", minutes_id=minutes.id, _anchor="presenze"))


@bp.post("/facilitazione/verbali/<int:minutes_id>/presenze/partecipanti")
def editor_add_participant(minutes_id: int):
    from consulta.accounts.models import User, normalise_email

    minutes = _editable_minutes(minutes_id)
    form = ParticipantForm()
    if form.validate_on_submit():
        user = db.session.execute(
            select(User).where(User.email == normalise_email(form.email.data))).scalar_one_or_none()
        if user is None:
            form.email.errors = [_("Nessuna persona registrata con questo indirizzo: aggiungila tra gli esterni.")]
        else:
            try:
                ops.add_participant(minutes, current_user, user)
                db.session.commit()
            except TransitionError as error:
                _refused(error, form, "email")
            else:
                flash(_("%(name)s aggiunto/a ai presenti.", name=user.display_name), "success")
                return redirect(url_for("meetings.editor_attendance", minutes_id=minutes.id, _anchor="altri"))
    minutes = queries.load_minutes_for_page(minutes_id)
    return _attendance_page(minutes, participant_form=form, status=400)


@bp.post("/facilitazione/verbali/<int:minutes_id>/presenze/esterni")
def editor_add_external(minutes_id: int):
    minutes = _editable_minutes(minutes_id)
    form = ExternalForm()
    if form.validate_on_submit():
        ops.add_external(minutes, current_user, name=form.name.data, role=form.role.data)
        db.session.commit()
        flash(_("%(name)s aggiunto/a ai presenti.", name=form.name.data), "success")
        return redirect(url_for("meetings.editor_attendance", minutes_id=minutes.id, _anchor="esterni"))
    return _attendance_page(minutes, external_form=form, status=400)


@bp.post("/facilitazione/verbali/<int:minutes_id>/presenze/<int:attendance_id>/elimina")
def editor_remove_attendance(minutes_id: int, attendance_id: int):
    minutes = _editable_minutes(minutes_id)
    row = next((a for a in minutes.attendance if a.id == attendance_id), None)
    if row is None:
        abort_with(404, _("Presenza non trovata in questo verbale."))
    ops.remove_attendance(minutes, current_user, row)
    db.session.commit()
    flash(_("%(name)s tolto/a dai presenti.", name=row.name), "success")
    return redirect(url_for("meetings.editor_attendance", minutes_id=minutes.id))


def _decision_subjects(minutes: Minutes):
    """(group label, [(key, title)]) of what the verbale may decide: this tavolo's public proposals and objectives."""
    proposals, objectives = _meeting_subject_choices(minutes.tavolo)
    discussed = {p.id for p in minutes.meeting.proposals}
    decidable = [p for p in proposals if p.state not in ("merged",)]
    groups = []
    first = [(f"p:{p.id}", f"{p.title} (n. {p.id})") for p in decidable if p.id in discussed]
    rest = [(f"p:{p.id}", f"{p.title} (n. {p.id})") for p in decidable if p.id not in discussed]
    if first:
        groups.append((_("Proposte all'ordine del giorno"), first))
    if rest:
        groups.append((_("Proposte") if not first else _("Altre proposte del tavolo"), rest))
    if objectives:
        groups.append((_("Obiettivi"), [(f"o:{o.id}", o.title) for o in objectives]))
    return groups, {p.id: p for p in decidable}, {o.id: o for o in objectives}


def _dissent_organisations(minutes: Minutes):
    from consulta.organisations.models import Organisation

    ids = sorted({a.organisation_id for a in minutes.attendance if a.organisation_id is not None})
    if not ids:
        return []
    return list(db.session.execute(
        select(Organisation).where(Organisation.id.in_(ids)).order_by(Organisation.name)).unique().scalars())


def _decision_page(minutes: Minutes, decision: Decision | None):
    subjects, proposals, objectives = _decision_subjects(minutes)
    organisations = _dissent_organisations(minutes)
    taken = {d.subject_key for d in minutes.decisions if d is not decision}
    if request.method == "POST":
        form = decision_form(subjects, organisations, taken=taken, present=minutes.members_present,
                             formdata=request.form)
    else:
        form = decision_form(subjects, organisations, taken=taken, present=minutes.members_present, obj=decision)
        if decision is not None:
            form.subject.data = decision.subject_key
            form.confirm_outcome.data = decision.outcome_note is not None
            for dissent in decision.dissents:
                if f"dissent_{dissent.organisation_id}" in form:
                    form[f"dissent_{dissent.organisation_id}"].data = dissent.text
    if form.validate_on_submit():
        kind, _sep, raw_id = form.subject.data.partition(":")
        fields = ops.DecisionFields(
            proposal=proposals.get(int(raw_id)) if kind == "p" else None,
            objective=objectives.get(int(raw_id)) if kind == "o" else None,
            outcome=form.outcome.data, method=form.method.data, votes_for=form.votes_for.data,
            votes_against=form.votes_against.data, votes_abstained=form.votes_abstained.data,
            motivation=form.motivation.data,
            dissents={o.id: form[f"dissent_{o.id}"].data or "" for o in organisations},
            outcome_note=form.outcome_note.data if form.confirm_outcome.data else None,
        )
        try:
            saved = ops.save_decision(minutes, current_user, fields, decision,
                                      organisations={o.id: o for o in organisations})
            db.session.commit()
        except TransitionError as error:
            _refused(error, form, "subject")
        else:
            flash(_("Decisione su «%(title)s» salvata.", title=saved.subject_title), "success")
            return redirect(url_for("meetings.editor", minutes_id=minutes.id, _anchor="decisioni"))
        minutes = queries.load_minutes_for_page(minutes.id)
    return render_template("meetings/editor_decision.html", form=form, decision=decision,
                           **_editor_context(minutes)), _status(form)


@bp.route("/facilitazione/verbali/<int:minutes_id>/decisioni/nuova", methods=["GET", "POST"])
def editor_decision_new(minutes_id: int):
    minutes = _editable_minutes(minutes_id)
    return _decision_page(minutes, None)


def _decision_of(minutes: Minutes, decision_id: int) -> Decision:
    decision = next((d for d in minutes.decisions if d.id == decision_id), None)
    if decision is None:
        abort_with(404, _("Decisione non trovata in questo verbale."))
    return decision


@bp.route("/facilitazione/verbali/<int:minutes_id>/decisioni/<int:decision_id>/modifica", methods=["GET", "POST"])
def editor_decision_edit(minutes_id: int, decision_id: int):
    minutes = _editable_minutes(minutes_id)
    return _decision_page(minutes, _decision_of(minutes, decision_id))


@bp.post("/facilitazione/verbali/<int:minutes_id>/decisioni/<int:decision_id>/elimina")
def editor_decision_delete(minutes_id: int, decision_id: int):
    minutes = _editable_minutes(minutes_id)
    decision = _decision_of(minutes, decision_id)
    title = decision.subject_title
    ops.delete_decision(minutes, current_user, decision)
    db.session.commit()
    flash(_("Decisione su «%(title)s» eliminata.", title=title), "success")
    return redirect(url_for("meetings.editor", minutes_id=minutes.id, _anchor="decisioni"))


@bp.post("/facilitazione/verbali/<int:minutes_id>/approva")
def editor_approve(minutes_id: int):
    minutes = _editable_minutes(minutes_id)
    form = ApproveForm()
    if not form.validate_on_submit():
        return render_template("meetings/editor.html", approve_form=form, action_form=ActionForm(),
                               **_editor_context(minutes)), 400
    applied = ops.approve_minutes(minutes, current_user)
    db.session.commit()
    flash(_("Verbale approvato e pubblicato. Decisioni applicate: %(num)d.",
            num=sum(1 for d in applied if d["outcome"] != "deferred")), "success")
    return redirect(url_for("meetings.minutes", minutes_id=minutes.id))


@bp.post("/facilitazione/verbali/<int:minutes_id>/rettifica")
def editor_rectify(minutes_id: int):
    minutes = queries.load_minutes_for_page(minutes_id)
    require(minutes.can_manage(current_user))
    correction = ops.create_rettifica(minutes, current_user)
    db.session.commit()
    flash(_("Bozza di rettifica creata: parte dal testo del verbale approvato; correggi e approva."), "success")
    return redirect(url_for("meetings.editor", minutes_id=correction.id))


@bp.post("/facilitazione/verbali/<int:minutes_id>/elimina")
def editor_delete(minutes_id: int):
    minutes = _editable_minutes(minutes_id)
    meeting_id = minutes.meeting_id
    ops.delete_minutes(minutes, current_user)
    db.session.commit()
    flash(_("Bozza del verbale eliminata."), "success")
    return redirect(url_for("meetings.show", meeting_id=meeting_id))


# =================================================================================== public minutes

def _public_minutes(minutes_id: int) -> Minutes:
    minutes = _load_minutes(minutes_id)
    if not minutes.is_approved:
        # Drafts are for facilitators, in the editor; nobody else learns they exist.
        if minutes.can_manage(current_user):
            return minutes
        abort_with(404, _("Verbale non trovato."))
    return minutes


@bp.get("/verbali/<int:minutes_id>/")
def minutes(minutes_id: int):
    minutes = _load_minutes(minutes_id)
    if not minutes.is_approved:
        return redirect(url_for("meetings.editor", minutes_id=minutes.id))
    from consulta.meetings.canonical import content_hash

    return render_template(
        "meetings/minutes.html", minutes=minutes, meeting=minutes.meeting, tavolo=minutes.tavolo,
        groups=queries.attendance_groups(minutes), correction=queries.correction_of(minutes),
        action_form=ActionForm(),
        # Recomputed at every reading: the reader sees that the text below is the one that was approved.
        hash_intact=content_hash(minutes) == minutes.content_hash,
    )


def _export_name(minutes: Minutes, extension: str) -> str:
    return f"verbale-{minutes.id}-{minutes.meeting.starts_at:%Y%m%d}.{extension}"


@bp.get("/verbali/<int:minutes_id>.pdf")
def minutes_pdf(minutes_id: int):
    from consulta.meetings.exports import minutes_pdf as build_pdf

    minutes = _public_minutes(minutes_id)
    body = build_pdf(minutes, groups=queries.attendance_groups(minutes))
    return Response(body, mimetype="application/pdf", headers={
        "Content-Disposition": f'attachment; filename="{_export_name(minutes, "pdf")}"'})


@bp.get("/verbali/<int:minutes_id>.odt")
def minutes_odt(minutes_id: int):
    from consulta.meetings.exports import ODT_MIMETYPE
    from consulta.meetings.exports import minutes_odt as build_odt

    minutes = _public_minutes(minutes_id)
    body = build_odt(minutes, groups=queries.attendance_groups(minutes))
    return Response(body, mimetype=ODT_MIMETYPE, headers={
        "Content-Disposition": f'attachment; filename="{_export_name(minutes, "odt")}"'})


@bp.get("/facilitazione/tavoli/<slug>/incontri/")
def facilitation_meetings(slug: str):
    """The facilitators' list of a tavolo's meetings with their verbali, drafts included."""
    tavolo = _load_tavolo(slug)
    require(tavolo.can_facilitate(current_user))
    page = paginate(
        select(Meeting).where(Meeting.tavolo_id == tavolo.id).order_by(Meeting.starts_at.desc(), Meeting.id.desc()),
        per_page=MEETINGS_PER_PAGE)
    ids = [m.id for m in page.items]
    documents: dict[int, list[Minutes]] = {}
    if ids:
        for row in db.session.execute(select(Minutes).where(Minutes.meeting_id.in_(ids))
                                      .order_by(Minutes.created_at, Minutes.id)).scalars():
            documents.setdefault(row.meeting_id, []).append(row)
    counts = dict(db.session.execute(
        select(Minutes.status, func.count()).where(Minutes.tavolo_id == tavolo.id).group_by(Minutes.status)).all())
    return render_template("meetings/facilitation_meetings.html", tavolo=tavolo, page=page, documents=documents,
                           counts=counts, start_form=StartMinutesForm(formdata=None),
                           status_scheduled=MeetingStatus.scheduled)

