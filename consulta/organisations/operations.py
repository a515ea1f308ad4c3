"""Organisation operations: each changes objects, applies the transition tables,
writes audit events and notifications, and flushes; the view commits.

The decisions of an admin also e-mail the people concerned; the messages are
written into the outbox in the view's transaction and sent after its commit
(core.mail.send_email_after_commit).
"""

from __future__ import annotations

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from consulta.accounts.models import Role, User
from consulta.core import audit, notify
from consulta.core.db import utcnow
from consulta.core.mail import external_url, send_email_after_commit
from consulta.core.states import TransitionError
from consulta.extensions import db
from consulta.organisations.models import (
    MEMBERSHIP_TRANSITIONS,
    ORGANISATION_TRANSITIONS,
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationStatus,
)


class RequestRefused(Exception):
    """A request a user may not make now; `field` names the form field to blame, if any."""

    def __init__(self, message: str, *, field: str | None = None, status: int = 409):
        super().__init__(message)
        self.message = message
        self.field = field
        self.status = status


# --------------------------------------------------------------------------- requests

def _ensure_free_to_request(user: User) -> None:
    """One membership per user: refuse while one is pending or active; drop a rejected one."""
    current = user.membership
    if current is None:
        return
    if current.is_pending:
        raise RequestRefused(_(
            "Hai già una richiesta in attesa per «%(name)s»: "
            "potrai farne un'altra dopo la decisione dell'Ufficio di Piano.", name=current.organisation.name))
    if current.is_active:
        raise RequestRefused(_(
            "Rappresenti già «%(name)s»: si può rappresentare una sola organizzazione alla volta.",
            name=current.organisation.name))
    # A rejected request is replaced by the new one; its story stays in the audit log.
    db.session.delete(current)
    db.session.flush()
    db.session.expire(user, ["membership"])


def _admins() -> list[int]:
    return list(db.session.execute(
        select(User.id).where(User.role == Role.admin, User.blocked_at.is_(None))
    ).scalars())


def organisation_with_tax_code(tax_code: str) -> Organisation | None:
    return db.session.execute(select(Organisation).where(Organisation.tax_code == tax_code)).scalar_one_or_none()


def request_organisation(
    user: User,
    *,
    name: str,
    type: str,
    tax_code: str,
    runts_number: str | None,
    comune_id: int | None,
    website: str | None,
) -> Membership:
    """Ask to register a new organisation: it starts pending, with the requester's membership pending."""
    _ensure_free_to_request(user)
    existing = organisation_with_tax_code(tax_code)
    if existing is not None:
        if existing.is_verified:
            message = _("Un'organizzazione con questo codice fiscale è già registrata: «%(name)s». "
                        "Puoi chiedere di rappresentarla.", name=existing.name)
        elif existing.is_pending:
            message = _("Un'organizzazione con questo codice fiscale è già in attesa di verifica.")
        else:
            message = _("Un'organizzazione con questo codice fiscale è stata respinta in passato: "
                        "contatta l'Ufficio di Piano.")
        raise RequestRefused(message, field="tax_code")
    organisation = Organisation(
        name=name, type=type, tax_code=tax_code, runts_number=runts_number, comune_id=comune_id,
        website=website, created_by_id=user.id,
    )
    membership = Membership(user=user, organisation=organisation, is_representative=True)
    db.session.add_all([organisation, membership])
    db.session.flush()
    audit.record(user, "organisation.request", organisation, {
        "name": [None, name], "type": [None, type], "tax_code": [None, tax_code],
        "status": [None, organisation.status],
    })
    audit.record(user, "membership.request", membership, {
        "organisation_id": [None, organisation.id], "status": [None, membership.status],
    })
    notify.emit(_admins(), "organisation.requested", organisation, data={"name": name}, exclude=user)
    db.session.flush()
    return membership


def request_membership(user: User, organisation: Organisation) -> Membership:
    """Ask to represent an already verified organisation."""
    if not organisation.is_verified:
        raise RequestRefused(_("Si può chiedere di rappresentare solo un'organizzazione verificata."))
    _ensure_free_to_request(user)
    membership = Membership(user=user, organisation=organisation, is_representative=True)
    db.session.add(membership)
    db.session.flush()
    audit.record(user, "membership.request", membership, {
        "organisation_id": [None, organisation.id], "status": [None, membership.status],
    })
    notify.emit(_admins(), "membership.requested", membership,
                data={"organisation": organisation.name, "user": user.display_name}, exclude=user)
    db.session.flush()
    return membership


# --------------------------------------------------------------------------- decisions

def _email(user: User, subject, template: str, **context) -> None:
    """Tell `user` about a decision, in their language, once the view's commit succeeds."""
    send_email_after_commit(user.email, subject, f"organisations/{template}", locale=user.locale,
                            user=user, profile_url=external_url("accounts.profile"), **context)


def _refuse_unless_pending(obj, what: str) -> None:
    if obj.status != "pending":
        raise TransitionError(_("%(what)s non è in attesa di decisione (stato attuale: %(state)s).",
                                what=what, state=obj.status_label.lower()), 409)


def _decide_membership(membership: Membership, actor: User, target: str, reason: str | None,
                       *, notify_member: bool = True) -> None:
    source = membership.status
    MEMBERSHIP_TRANSITIONS.apply(membership, target, actor, reason=reason, context={"reason": reason})
    membership.decided_at = utcnow()
    membership.decided_by_id = actor.id
    membership.rejection_reason = reason if target == MembershipStatus.rejected else None
    if not notify_member:  # the organisation's own notification tells them
        return
    if target == MembershipStatus.active:
        event = "membership.accepted"
    else:
        event = "membership.revoked" if source == MembershipStatus.active else "membership.rejected"
    notify.emit([membership.user_id], event, membership,
                data={"organisation": membership.organisation.name, "reason": reason})


def verify_organisation(organisation: Organisation, actor: User) -> None:
    """Verify a pending (or previously rejected) organisation; its founder's pending membership becomes active."""
    if organisation.is_verified:
        raise TransitionError(_("Questa organizzazione è già verificata."), 409)
    ORGANISATION_TRANSITIONS.apply(organisation, OrganisationStatus.verified, actor)
    organisation.verified_at = utcnow()
    organisation.verified_by_id = actor.id
    organisation.rejection_reason = None
    public_url = external_url("organisations.show", organisation_id=organisation.id)
    for membership in list(organisation.memberships):
        if membership.is_pending:
            _decide_membership(membership, actor, MembershipStatus.active, None, notify_member=False)
            _email(membership.user, _l("«%(name)s» è stata verificata", name=organisation.name),
                   "organisation_verified",
                   organisation=organisation, url=public_url)
    recipients = {m.user_id for m in organisation.memberships if m.is_active}
    if organisation.created_by_id:
        recipients.add(organisation.created_by_id)
    notify.emit(recipients, "organisation.verified", organisation, data={"name": organisation.name})
    db.session.flush()


def reject_organisation(organisation: Organisation, actor: User, reason: str) -> None:
    """Reject a pending organisation, or revoke a verified one; its memberships end with the same reason."""
    if organisation.status == OrganisationStatus.rejected:
        raise TransitionError(_("Questa organizzazione è già stata respinta."), 409)
    revoking = organisation.is_verified
    ORGANISATION_TRANSITIONS.apply(organisation, OrganisationStatus.rejected, actor,
                                   reason=reason, context={"reason": reason})
    organisation.rejection_reason = reason
    template = "organisation_revoked" if revoking else "organisation_rejected"
    subject = (_l("«%(name)s» non è più un'organizzazione verificata", name=organisation.name) if revoking
               else _l("La richiesta per «%(name)s» è stata respinta", name=organisation.name))
    recipients = set()
    for membership in list(organisation.memberships):
        if membership.is_pending or membership.is_active:
            _decide_membership(membership, actor, MembershipStatus.rejected, reason, notify_member=False)
            recipients.add(membership.user_id)
            _email(membership.user, subject, template, organisation=organisation, reason=reason,
                   request_url=external_url("organisations.request"))
    if organisation.created_by_id:
        recipients.add(organisation.created_by_id)
    event = "organisation.revoked" if revoking else "organisation.rejected"
    notify.emit(recipients, event, organisation, data={"name": organisation.name, "reason": reason})
    db.session.flush()


def accept_membership(membership: Membership, actor: User) -> None:
    _refuse_unless_pending(membership, _("Questa richiesta di rappresentanza"))
    organisation = membership.organisation
    if not organisation.is_verified:
        raise TransitionError(_(
            "L'organizzazione non è ancora verificata: verificala, e la richiesta di chi l'ha registrata "
            "sarà accettata insieme."), 409)
    _decide_membership(membership, actor, MembershipStatus.active, None)
    db.session.flush()
    _email(membership.user, _l("Ora rappresenti «%(name)s»", name=organisation.name), "membership_accepted",
           organisation=organisation, url=external_url("organisations.show", organisation_id=organisation.id))


def reject_membership(membership: Membership, actor: User, reason: str) -> None:
    """Reject a pending join request, or revoke an active membership."""
    if membership.is_rejected:
        raise TransitionError(_("Questa rappresentanza è già stata respinta o revocata."), 409)
    revoking = membership.is_active
    _decide_membership(membership, actor, MembershipStatus.rejected, reason)
    db.session.flush()
    organisation = membership.organisation
    if revoking:
        subject, template = _l("Non rappresenti più «%(name)s»", name=organisation.name), "membership_revoked"
    else:
        subject = _l("La richiesta di rappresentare «%(name)s» è stata respinta", name=organisation.name)
        template = "membership_rejected"
    _email(membership.user, subject, template, organisation=organisation, reason=reason,
           request_url=external_url("organisations.request"))
