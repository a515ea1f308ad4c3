"""Moderation acts: one function per action. Each checks, changes objects through the
visibility table, resolves flags, writes the AuditEvent and the notifications, and
flushes; the view commits.

An "item" is a Proposal or a Comment.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from consulta.core import audit, notify
from consulta.core.db import utcnow
from consulta.core.events import phrase_key
from consulta.core.states import TransitionError, lock
from consulta.core.text import clean_plain
from consulta.extensions import db
from consulta.moderation.models import (
    FLAG_REASONS,
    HIDE_REASONS,
    SYSTEM,
    Flag,
    FlagResolution,
    visibility_table,
)
from consulta.proposals.models import ProposalState, Visibility


def kind_of(item: Any) -> str:
    """"proposal" or "comment"."""
    return item.__tablename__


def _flag_subject(item: Any):
    return Flag.proposal_id == item.id if kind_of(item) == "proposal" else Flag.comment_id == item.id


def _title(item: Any) -> str | None:
    if kind_of(item) == "proposal":
        return item.title
    subject = item.subject
    return subject.title if subject is not None else None


def _check_moderator(item: Any, actor: Any) -> None:
    if not item.can_moderate(actor):
        raise TransitionError(_("Solo i facilitatori di questo tavolo possono moderarne i contenuti."), 403)


def _lock_for_moderation(item: Any) -> None:
    """Lock the item for this transaction: two moderators acting at once are serialised, and the
    second, finding it already moderated, gets a 409 instead of a second act and a second notice."""
    lock(item, watch="visibility", message=_("Un altro moderatore ha appena moderato questo contenuto: ricarica "
                                              "la pagina per vederlo com'è ora."))


def _check_actionable(item: Any) -> None:
    """Withdrawn proposals and comments removed by their author are out of moderation's reach."""
    if kind_of(item) == "proposal" and item.state == ProposalState.withdrawn:
        raise TransitionError(_("La proposta è stata ritirata dall'autore: non si può più moderare."), 409)
    if kind_of(item) == "comment" and item.is_deleted:
        raise TransitionError(_("Il commento è stato eliminato dall'autore: non si può più moderare."), 409)


def open_flag_count(item: Any) -> int:
    return db.session.execute(
        select(func.count(Flag.id)).where(_flag_subject(item), Flag.resolved_at.is_(None))).scalar_one()


def _resolve_flags(item: Any, actor: Any, resolution: FlagResolution) -> int:
    """Close the item's open flags with the moderator's outcome; returns how many were open."""
    result = db.session.execute(
        update(Flag).where(_flag_subject(item), Flag.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolved_by_id=getattr(actor, "id", None), resolution=resolution.value)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _tell_author(item: Any, event: str, actor: Any, **data: Any) -> None:
    if item.author_id is not None:
        notify.emit([item.author_id], event, item, exclude=actor,
                    data={"title": _title(item), **{k: v for k, v in data.items() if v is not None}})


# --------------------------------------------------------------------------- approve

def approve(item: Any, actor: Any) -> None:
    """Publish an item waiting in a pre-moderated tavolo; its author and the followers are told."""
    from consulta.comments.operations import notify_comment_published
    from consulta.proposals.operations import publish_proposal

    _check_moderator(item, actor)
    _lock_for_moderation(item)
    _check_actionable(item)
    if kind_of(item) == "proposal":
        if item.state != ProposalState.submitted:
            raise TransitionError(_("La proposta è già stata pubblicata."), 409)
        publish_proposal(item, actor, moderated=True)
        item.hidden_reason = item.hidden_note = None
        item.hidden_by_flags = False
        _resolve_flags(item, actor, FlagResolution.dismissed)
        _tell_author(item, "proposal.approved_for_publication", actor)
    else:
        if item.visibility != Visibility.pending:
            raise TransitionError(_("Il commento non è in attesa di moderazione."), 409)
        visibility_table(item).apply(item, Visibility.visible, actor)
        _resolve_flags(item, actor, FlagResolution.dismissed)
        notify_comment_published(item)
        _tell_author(item, "comment.approved", actor)
    db.session.flush()


# --------------------------------------------------------------------------- hide

def hide(item: Any, actor: Any, *, reason: str, note: str | None = None) -> None:
    """Hide an item with a public reason; its author still sees it, everyone else sees the placeholder.

    Hiding an item that flags hid provisionally confirms it with the moderator's reason.
    """
    _check_moderator(item, actor)
    _lock_for_moderation(item)
    _check_actionable(item)
    if reason not in HIDE_REASONS:
        raise TransitionError(_("Scegli il motivo dall'elenco."), 400)
    note = clean_plain(note) or None
    key = phrase_key(f"moderation.{reason}")
    kind = kind_of(item)
    if item.visibility == Visibility.hidden:
        if not item.hidden_by_flags:
            raise TransitionError(_("Il contenuto è già nascosto."), 409)
        before = item.hidden_reason
        item.hidden_reason, item.hidden_note = key, note
        item.hidden_by_flags = False
        audit.record(actor, f"{kind}.hide_confirmed", item, {"hidden_reason": [before, key]}, reason=note,
                     reason_key=key)
    else:
        item.hidden_reason, item.hidden_note = key, note
        visibility_table(item).apply(item, Visibility.hidden, actor, reason=note, reason_key=key,
                                     context={"reason": key})
    flags = _resolve_flags(item, actor, FlagResolution.upheld)
    _tell_author(item, f"{kind}.hidden", actor, reason_key=key, reason=note, flags=flags or None)
    db.session.flush()


# --------------------------------------------------------------------------- restore

def restore(item: Any, actor: Any, *, note: str | None = None) -> None:
    """Show a hidden item again (a hidden proposal never published is published now)."""
    from consulta.proposals.operations import publish_proposal

    _check_moderator(item, actor)
    _lock_for_moderation(item)
    _check_actionable(item)
    if item.visibility != Visibility.hidden:
        raise TransitionError(_("Il contenuto non è nascosto: non c'è niente da ripristinare."), 409)
    note = clean_plain(note) or None
    kind = kind_of(item)
    before = item.hidden_reason
    if kind == "proposal" and item.state == ProposalState.submitted:
        publish_proposal(item, actor, moderated=True)
        event = "proposal.approved_for_publication"
    else:
        visibility_table(item).apply(item, Visibility.visible, actor, reason=note,
                                     audit_changes={"hidden_reason": [before, None]})
        event = f"{kind}.restored"
    item.hidden_reason = item.hidden_note = None
    item.hidden_by_flags = False
    _resolve_flags(item, actor, FlagResolution.dismissed)
    _tell_author(item, event, actor, note=note)
    db.session.flush()


# --------------------------------------------------------------------------- flags

def dismiss_flags(item: Any, actor: Any, *, note: str | None = None) -> int:
    """The moderator reads the flags on a public item and keeps it online."""
    _check_moderator(item, actor)
    _lock_for_moderation(item)
    _check_actionable(item)
    if item.visibility == Visibility.hidden:
        raise TransitionError(_("Il contenuto è nascosto: per rimetterlo online usa «Ripristina»."), 409)
    count = open_flag_count(item)
    if not count:
        raise TransitionError(_("Non ci sono segnalazioni da esaminare su questo contenuto."), 409)
    _resolve_flags(item, actor, FlagResolution.dismissed)
    note = clean_plain(note) or None
    audit.record(actor, f"{kind_of(item)}.flags_dismissed", item, {"flags": count}, reason=note)
    db.session.flush()
    return count


def flag_refusal(item: Any, user: Any) -> tuple[int, str] | None:
    """Why `user` may not flag `item` (HTTP status, Italian message), or None."""
    if item.can_flag(user):
        return None
    if not user.is_verified:
        return 403, _("Per segnalare un contenuto devi prima verificare il tuo indirizzo e-mail.")
    if user.is_blocked:
        return 403, _("Il tuo account è sospeso: non puoi segnalare contenuti.")
    if item.author_id == user.id:
        return 409, _("Non puoi segnalare un tuo contributo: se vuoi, modificalo o ritiralo.")
    if kind_of(item) == "proposal" and item.state == ProposalState.withdrawn:
        return 409, _("La proposta è stata ritirata dall'autore: non si può segnalare.")
    if kind_of(item) == "comment" and item.is_deleted:
        return 409, _("Il commento è stato eliminato dall'autore.")
    if item.visibility == Visibility.hidden:
        return 409, _("Il contenuto è già nascosto dai moderatori.")
    return 409, _("Il contenuto non è ancora pubblico: non si può segnalare.")


@dataclass
class FlagOutcome:
    flag: Flag
    provisionally_hidden: bool = False


def flag(item: Any, reporter: Any, *, reason: str, note: str | None = None) -> FlagOutcome:
    """A participant reports an item once. Enough distinct reports hide it provisionally in a
    post-moderated tavolo, until a moderator reviews it."""
    # Flags on one item are serialised on its row: the one that crosses the threshold hides it, and the
    # next ones see it hidden already (refused, nothing stored): hidden once, the author told once.
    lock(item)
    refusal = flag_refusal(item, reporter)
    if refusal is not None:
        raise TransitionError(refusal[1], refusal[0])
    if reason not in FLAG_REASONS:
        raise TransitionError(_("Scegli il motivo dall'elenco."), 400)
    note = clean_plain(note) or None
    if reason == "other" and not note:
        raise TransitionError(_("Spiega il motivo della segnalazione."), 400)
    already = db.session.execute(
        select(Flag.id).where(_flag_subject(item), Flag.reporter_id == reporter.id)).first()
    if already is not None:
        raise TransitionError(_("Hai già segnalato questo contenuto: i facilitatori lo stanno esaminando."), 409)
    kind = kind_of(item)
    row = Flag(tavolo_id=item.tavolo_id, reporter_id=reporter.id, reason=reason, note=note,
               proposal_id=item.id if kind == "proposal" else None,
               comment_id=item.id if kind == "comment" else None)
    try:
        # A savepoint: the unique constraint decides a race between two identical requests.
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        raise TransitionError(_("Hai già segnalato questo contenuto: i facilitatori lo stanno esaminando."),
                              409) from None
    audit.record(reporter, f"{kind}.flag", item, {"reason": reason})
    outcome = FlagOutcome(row)

    threshold = int(current_app.config.get("FLAGS_TO_HIDE", 3))
    if item.tavolo.moderation == "post" and item.visibility == Visibility.visible:
        count = open_flag_count(item)
        if threshold > 0 and count >= threshold:
            key = phrase_key("moderation.flags", count)
            item.hidden_reason, item.hidden_note = key, None
            item.hidden_by_flags = True
            visibility_table(item).apply(item, Visibility.hidden, SYSTEM, reason_key=key, context={"reason": key},
                                         audit_changes={"automatic": True, "flags": count})
            _tell_author(item, f"{kind}.hidden", None, reason_key=key, flags=count)
            outcome.provisionally_hidden = True
    db.session.flush()
    return outcome


# --------------------------------------------------------------------------- bulk

@dataclass
class BulkResult:
    done: int = 0
    # Items someone else had already moderated meanwhile: left as they are.
    skipped: list[str] = field(default_factory=list)


def bulk_moderate(items: list[Any], actor: Any, *, action: str, reason: str | None = None,
                  note: str | None = None) -> BulkResult:
    """Approve or hide several items with one reason, in one transaction.

    Every item must be in a tavolo the actor moderates (else nothing changes: 403); items already
    moderated by someone else meanwhile are skipped and reported.
    """
    if action not in ("approve", "hide"):
        raise TransitionError(_("Azione sconosciuta."), 400)
    if not items:
        raise TransitionError(_("Seleziona almeno un contenuto."), 400)
    for item in items:
        _check_moderator(item, actor)
    if action == "hide" and reason not in HIDE_REASONS:
        raise TransitionError(_("Per nascondere scegli il motivo dall'elenco."), 400)
    result = BulkResult()
    for item in items:
        try:
            with db.session.begin_nested():
                if action == "approve":
                    approve(item, actor)
                else:
                    hide(item, actor, reason=reason, note=note)
        except TransitionError as refused:
            if refused.status == 403:
                raise
            result.skipped.append(_title(item) or _("un commento"))
            continue
        result.done += 1
    return result
