"""Routes of the admin area (/gestione/): organisations to verify, users, the audit log."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import joinedload, selectinload

from consulta.accounts.models import ROLE_LABELS, Role, User, normalise_email
from consulta.admin import bp, operations
from consulta.admin.forms import BlockForm, ConfirmForm, RejectForm, RoleForm
from consulta.admin.permissions import (
    can_administer,
    can_block,
    can_change_role,
    can_unblock,
    is_self,
)
from consulta.core import events as catalogue
from consulta.core import keyset
from consulta.core.audit import AuditEvent
from consulta.core.errors import abort_with
from consulta.core.input_guard import page_number, parse_id
from consulta.core.views import load_or_404, require, safe_next_url
from consulta.extensions import db
from consulta.organisations import operations as organisation_operations
from consulta.organisations.models import (
    ORGANISATION_STATUS_LABELS,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationStatus,
)

USERS_PER_PAGE = 25
AUDIT_PER_PAGE = 50
QUEUE_PER_PAGE = 25
ROME = ZoneInfo("Europe/Rome")
USER_STATES = {"bloccati", "attivi", "non_verificati"}


@bp.before_request
def _only_admins():
    # Every route of this blueprint: anonymous -> login, everyone else but admins -> 403.
    require(can_administer(current_user))


@bp.context_processor
def _audit_helpers():
    return {"action_label": catalogue.action_label, "subject_label": catalogue.subject_label, "subject_url": subject_url,
            "audit_value": catalogue.show_value, "audit_field": catalogue.field_label, "role_labels": ROLE_LABELS}


# Subjects of the audit log with a page: the admin pages of this area, the public proposal page.
_ADMIN_PAGES = {
    "organisation": ("admin.organisation", "organisation_id"),
    "membership": ("admin.membership", "membership_id"),
    "user": ("admin.user", "user_id"),
}


def subject_url(subject_type: str, subject_id: int | None) -> str | None:
    if subject_id is None:
        return None
    if subject_type in _ADMIN_PAGES:
        endpoint, argument = _ADMIN_PAGES[subject_type]
        return url_for(endpoint, **{argument: subject_id})
    if subject_type == "proposal":
        return url_for("proposals.show", proposal_id=subject_id)
    return None


def _text_arg(name: str, limit: int = 100) -> str:
    value = request.args.get(name, "").strip()
    if len(value) > limit:
        abort_with(400, _("Il filtro può avere al massimo %(max)d caratteri.", max=limit))
    return value


# --------------------------------------------------------------------------- home

@bp.get("/")
def index():
    def count(query):
        return db.session.execute(query).scalar_one()

    counts = {
        "pending_organisations": count(select(func.count(Organisation.id))
                                       .where(Organisation.status == OrganisationStatus.pending)),
        "pending_memberships": count(select(func.count()).select_from(_pending_joins_query().subquery())),
        "users": count(select(func.count(User.id))),
        "blocked_users": count(select(func.count(User.id)).where(User.blocked_at.is_not(None))),
    }
    recent = list(db.session.execute(select(AuditEvent).order_by(AuditEvent.at.desc(), AuditEvent.id.desc())
                                     .limit(5)).scalars())
    return render_template("admin/index.html", counts=counts, recent=recent)


# --------------------------------------------------------------------------- organisations

def _pending_joins_query():
    """Join requests to verified organisations; a new organisation's founder is decided with it."""
    return (select(Membership).join(Membership.organisation)
            .where(Membership.status == MembershipStatus.pending,
                   Organisation.status == OrganisationStatus.verified))


@bp.get("/organizzazioni/")
def organisations():
    pending = db.paginate(
        select(Organisation).where(Organisation.status == OrganisationStatus.pending)
        .options(joinedload(Organisation.created_by))
        .order_by(Organisation.created_at, Organisation.id),
        page=page_number("pagina"), per_page=QUEUE_PER_PAGE, max_per_page=QUEUE_PER_PAGE,
    )
    joins = db.paginate(
        _pending_joins_query().options(joinedload(Membership.user), joinedload(Membership.organisation))
        .order_by(Membership.requested_at, Membership.id),
        page=page_number("pagina_adesioni"), per_page=QUEUE_PER_PAGE, max_per_page=QUEUE_PER_PAGE,
    )
    return render_template("admin/organisations.html", pending=pending, joins=joins, confirm=ConfirmForm())


@bp.get("/organizzazioni/elenco")
def organisations_list():
    status = request.args.get("stato", "").strip()
    if status and status not in ORGANISATION_STATUS_LABELS:
        abort_with(400, _("Stato sconosciuto."))
    q = _text_arg("q")
    query = select(Organisation)
    if status:
        query = query.where(Organisation.status == status)
    if q:
        query = query.where(or_(func.lower(Organisation.name).contains(q.lower(), autoescape=True),
                                Organisation.tax_code == q.replace(" ", "").upper()))
    pagination = db.paginate(query.order_by(func.lower(Organisation.name), Organisation.id),
                             page=page_number(), per_page=QUEUE_PER_PAGE, max_per_page=QUEUE_PER_PAGE)
    return render_template("admin/organisations_list.html", pagination=pagination, status=status, q=q,
                           status_labels=ORGANISATION_STATUS_LABELS)


def _organisation_page(organisation: Organisation, reject_form: RejectForm | None = None, status: int = 200):
    memberships = list(db.session.execute(
        select(Membership).where(Membership.organisation_id == organisation.id)
        .options(joinedload(Membership.user)).order_by(Membership.requested_at, Membership.id)
    ).scalars())
    membership_ids = [m.id for m in memberships]
    history = list(db.session.execute(
        select(AuditEvent).where(or_(
            and_(AuditEvent.subject_type == "organisation", AuditEvent.subject_id == organisation.id),
            and_(AuditEvent.subject_type == "membership", AuditEvent.subject_id.in_(membership_ids)),
        )).order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(50)
    ).scalars())
    return render_template(
        "admin/organisation.html", organisation=organisation, memberships=memberships, events=history,
        reject_form=reject_form or RejectForm(formdata=None), confirm=ConfirmForm(),
    ), status


def _load_organisation(organisation_id: int) -> Organisation:
    return load_or_404(Organisation, organisation_id, joinedload(Organisation.created_by),
                       joinedload(Organisation.verified_by))


@bp.get("/organizzazioni/<int:organisation_id>/")
def organisation(organisation_id: int):
    return _organisation_page(_load_organisation(organisation_id))


@bp.post("/organizzazioni/<int:organisation_id>/verifica")
def verify_organisation(organisation_id: int):
    organisation = _load_organisation(organisation_id)
    require(organisation.can_review(current_user))
    if not ConfirmForm().validate_on_submit():
        abort_with(400, _("Il modulo non è valido: ricarica la pagina e riprova."))
    organisation_operations.verify_organisation(organisation, current_user)
    db.session.commit()  # the e-mails leave now
    flash(_("«%(name)s» è verificata: ora è nell'elenco pubblico.", name=organisation.name), "success")
    return redirect(_back_to(url_for("admin.organisations")))


@bp.post("/organizzazioni/<int:organisation_id>/rifiuta")
def reject_organisation(organisation_id: int):
    organisation = _load_organisation(organisation_id)
    require(organisation.can_review(current_user))
    form = RejectForm()
    if not form.validate_on_submit():
        return _organisation_page(organisation, form, 400)
    revoking = organisation.is_verified
    organisation_operations.reject_organisation(organisation, current_user, form.cleaned_reason)
    db.session.commit()  # the e-mails leave now
    if revoking:
        flash(_("La verifica di «%(name)s» è stata revocata.", name=organisation.name), "success")
    else:
        flash(_("La richiesta per «%(name)s» è stata respinta.", name=organisation.name), "success")
    return redirect(_back_to(url_for("admin.organisations")))


def _back_to(default: str) -> str:
    return safe_next_url(request.form.get("next"), default)


def _membership_page(membership: Membership, reject_form: RejectForm | None = None, status: int = 200):
    history = list(db.session.execute(
        select(AuditEvent).where(AuditEvent.subject_type == "membership", AuditEvent.subject_id == membership.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(50)
    ).scalars())
    return render_template("admin/membership.html", membership=membership, events=history,
                           reject_form=reject_form or RejectForm(formdata=None), confirm=ConfirmForm()), status


def _load_membership(membership_id: int) -> Membership:
    return load_or_404(Membership, membership_id, joinedload(Membership.user), joinedload(Membership.organisation))


@bp.get("/adesioni/<int:membership_id>/")
def membership(membership_id: int):
    return _membership_page(_load_membership(membership_id))


@bp.post("/adesioni/<int:membership_id>/accetta")
def accept_membership(membership_id: int):
    membership = _load_membership(membership_id)
    require(membership.can_review(current_user))
    if not ConfirmForm().validate_on_submit():
        abort_with(400, _("Il modulo non è valido: ricarica la pagina e riprova."))
    organisation_operations.accept_membership(membership, current_user)
    db.session.commit()  # the e-mails leave now
    flash(_("%(user)s ora rappresenta «%(name)s».", user=membership.user.display_name,
            name=membership.organisation.name), "success")
    return redirect(_back_to(url_for("admin.organisations")))


@bp.post("/adesioni/<int:membership_id>/rifiuta")
def reject_membership(membership_id: int):
    membership = _load_membership(membership_id)
    require(membership.can_review(current_user))
    form = RejectForm()
    if not form.validate_on_submit():
        return _membership_page(membership, form, 400)
    revoking = membership.is_active
    organisation_operations.reject_membership(membership, current_user, form.cleaned_reason)
    db.session.commit()  # the e-mails leave now
    if revoking:
        flash(_("L'adesione di %(user)s è stata revocata.", user=membership.user.display_name), "success")
    else:
        flash(_("La richiesta di %(user)s è stata respinta.", user=membership.user.display_name), "success")
    return redirect(_back_to(url_for("admin.organisations")))


# --------------------------------------------------------------------------- users

@bp.get("/utenti/")
def users():
    q = _text_arg("q")
    role = request.args.get("ruolo", "").strip()
    state = request.args.get("stato", "").strip()
    if role and role not in {r.value for r in Role}:
        abort_with(400, _("Ruolo sconosciuto."))
    if state and state not in USER_STATES:
        abort_with(400, _("Stato sconosciuto."))
    query = select(User).options(selectinload(User.membership))
    if q:
        needle = q.lower()
        query = query.where(or_(func.lower(User.display_name).contains(needle, autoescape=True),
                                User.email.contains(needle, autoescape=True)))
    if role:
        query = query.where(User.role == role)
    if state == "bloccati":
        query = query.where(User.blocked_at.is_not(None))
    elif state == "attivi":
        query = query.where(User.blocked_at.is_(None), User.email_verified_at.is_not(None))
    elif state == "non_verificati":
        query = query.where(User.email_verified_at.is_(None))
    pagination = db.paginate(query.order_by(func.lower(User.display_name), User.id),
                             page=page_number(), per_page=USERS_PER_PAGE, max_per_page=USERS_PER_PAGE)
    return render_template("admin/users.html", pagination=pagination, q=q, role=role, state=state)


def _user_page(user: User, *, role_form=None, block_form=None, status: int = 200):
    history = list(db.session.execute(
        select(AuditEvent).where(AuditEvent.subject_type == "user", AuditEvent.subject_id == user.id)
        .order_by(AuditEvent.at.desc(), AuditEvent.id.desc()).limit(20)
    ).scalars())
    return render_template(
        "admin/user.html", user=user, events=history,
        role_form=role_form or RoleForm(formdata=None, role=user.role),
        block_form=block_form or BlockForm(formdata=None), confirm=ConfirmForm(),
        can_change_role=can_change_role(current_user, user), can_block=can_block(current_user, user),
        can_unblock=can_unblock(current_user, user), is_self=is_self(current_user, user),
    ), status


def _load_user(user_id: int) -> User:
    return load_or_404(User, user_id, selectinload(User.membership))


@bp.get("/utenti/<int:user_id>/")
def user(user_id: int):
    return _user_page(_load_user(user_id))


@bp.post("/utenti/<int:user_id>/ruolo")
def change_role(user_id: int):
    user = _load_user(user_id)
    if is_self(current_user, user):
        abort_with(403, _("Non puoi cambiare il tuo ruolo: chiedilo a un altro amministratore."))
    require(can_change_role(current_user, user))
    form = RoleForm()
    if not form.validate_on_submit():
        return _user_page(user, role_form=form, status=400)
    before = user.role
    if operations.change_role(user, current_user, form.role.data):
        db.session.commit()
        flash(_("Il ruolo di %(name)s ora è «%(role)s» (prima: «%(before)s»).", name=user.display_name,
                role=ROLE_LABELS[user.role], before=ROLE_LABELS[before]), "success")
    else:
        flash(_("%(name)s ha già questo ruolo: nessuna modifica.", name=user.display_name), "info")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/utenti/<int:user_id>/blocca")
def block_user(user_id: int):
    user = _load_user(user_id)
    if is_self(current_user, user):
        abort_with(403, _("Non puoi bloccare il tuo account."))
    if user.is_blocked:
        abort_with(409, _("Questo account è già bloccato."))
    require(can_block(current_user, user))
    form = BlockForm()
    if not form.validate_on_submit():
        return _user_page(user, block_form=form, status=400)
    operations.block_user(user, current_user, form.cleaned_reason)
    db.session.commit()
    flash(_("L'account di %(name)s è bloccato: le sue sessioni sono state chiuse.", name=user.display_name),
          "success")
    return redirect(url_for("admin.user", user_id=user.id))


@bp.post("/utenti/<int:user_id>/sblocca")
def unblock_user(user_id: int):
    user = _load_user(user_id)
    if is_self(current_user, user):
        abort_with(403, _("Non puoi sbloccare il tuo account."))
    if not user.is_blocked:
        abort_with(409, _("Questo account non è bloccato."))
    require(can_unblock(current_user, user))
    if not ConfirmForm().validate_on_submit():
        abort_with(400, _("Il modulo non è valido: ricarica la pagina e riprova."))
    operations.unblock_user(user, current_user)
    db.session.commit()
    flash(_("L'account di %(name)s è di nuovo attivo.", name=user.display_name), "success")
    return redirect(url_for("admin.user", user_id=user.id))


# --------------------------------------------------------------------------- audit log

def _parse_day(name: str) -> date | None:
    raw = request.args.get(name, "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        abort_with(400, _("Data non valida: usa il formato AAAA-MM-GG."))


def _rome_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=ROME).astimezone(UTC)


@bp.get("/registro/")
def audit():
    known_actions = set(db.session.execute(select(AuditEvent.action).distinct()).scalars()) | set(catalogue.actions())
    known_subjects = (set(db.session.execute(select(AuditEvent.subject_type).distinct()).scalars())
                      | set(catalogue.subjects()))
    action = request.args.get("azione", "").strip()
    subject_type = request.args.get("oggetto", "").strip()
    subject_id_raw = request.args.get("oggetto_id", "").strip()
    actor_email = _text_arg("attore", 254)
    since, until = _parse_day("dal"), _parse_day("al")
    if action and action not in known_actions:
        abort_with(400, _("Azione sconosciuta."))
    if subject_type and subject_type not in known_subjects:
        abort_with(400, _("Tipo di oggetto sconosciuto."))
    if subject_id_raw and parse_id(subject_id_raw) is None:
        abort_with(400, _("Identificativo dell'oggetto non valido."))
    if actor_email and "@" not in actor_email:
        abort_with(400, _("Indica l'e-mail di chi ha compiuto l'azione."))
    if since and until and since > until:
        abort_with(400, _("La data iniziale è successiva a quella finale."))

    query = select(AuditEvent)
    if action:
        query = query.where(AuditEvent.action == action)
    if subject_type:
        query = query.where(AuditEvent.subject_type == subject_type)
    if subject_id_raw:
        query = query.where(AuditEvent.subject_id == int(subject_id_raw))
    actor_missing = False
    if actor_email:
        actor = User.by_email(normalise_email(actor_email))
        actor_missing = actor is None
        query = query.where(AuditEvent.actor_id == (actor.id if actor else -1))
    if since:
        query = query.where(AuditEvent.at >= _rome_midnight_utc(since))
    if until:
        query = query.where(AuditEvent.at < _rome_midnight_utc(until + timedelta(days=1)))
    pagination = keyset.paginate(query, (AuditEvent.at, AuditEvent.id), name="audit", per_page=AUDIT_PER_PAGE)
    names = _subject_names(pagination.items)
    return render_template(
        "admin/audit.html", pagination=pagination, names=names, actor_missing=actor_missing,
        actions=sorted(known_actions, key=lambda a: (catalogue.action_label(a).lower(), a)),
        subjects=sorted(known_subjects, key=lambda s: (catalogue.subject_label(s).lower(), s)),
        filters={"azione": action, "oggetto": subject_type, "oggetto_id": subject_id_raw, "attore": actor_email,
                 "dal": since.isoformat() if since else "", "al": until.isoformat() if until else ""},
    )


def _subject_names(events) -> dict[tuple[str, int], str]:
    """Readable names of the organisations, users and memberships on a page: one query per type."""
    wanted: dict[str, set[int]] = {}
    for event in events:
        if event.subject_id is not None:
            wanted.setdefault(event.subject_type, set()).add(event.subject_id)
    names: dict[tuple[str, int], str] = {}
    if wanted.get("organisation"):
        for ident, name in db.session.execute(
                select(Organisation.id, Organisation.name).where(Organisation.id.in_(wanted["organisation"]))):
            names[("organisation", ident)] = name
    if wanted.get("user"):
        for ident, name in db.session.execute(
                select(User.id, User.display_name).where(User.id.in_(wanted["user"]))):
            names[("user", ident)] = name
    if wanted.get("membership"):
        for ident, person, organisation in db.session.execute(
                select(Membership.id, User.display_name, Organisation.name)
                .join(User, User.id == Membership.user_id)
                .join(Organisation, Organisation.id == Membership.organisation_id)
                .where(Membership.id.in_(wanted["membership"]))):
            names[("membership", ident)] = f"{person} → {organisation}"
    return names
