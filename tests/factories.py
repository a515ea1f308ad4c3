"""The one set of factories of the suite (a pytest plugin, loaded by tests/conftest.py).

A factory reaches a state through the domain operation that reaches it in the product: a proposal is
submitted by `submit_proposal`, published by moderation's `approve`, answered by `answer_proposal`,
hidden by `hide`; minutes are opened, filled and approved by the meetings operations. So a test cannot
build a state the app could never reach. What factories set by hand is only the clock
(`created_minutes_ago`, a meeting's date) and, in `insert_ballots`, bulk rows for volume tests.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import func, insert, select
from stdnum import luhn

from consulta.accounts import operations as accounts_ops
from consulta.accounts.models import User
from consulta.ambito.models import Ambito, Comune
from consulta.comments import operations as comments_ops
from consulta.core.db import utcnow
from consulta.core.text import render_markdown, slugify
from consulta.extensions import db
from consulta.meetings import operations as meetings_ops
from consulta.moderation import operations as moderation
from consulta.organisations.models import Membership, Organisation
from consulta.plan.models import Plan
from consulta.proposals import operations as proposals_ops
from consulta.proposals.models import count_on_proposal
from consulta.tavoli import operations as tavoli_ops
from consulta.tavoli.models import Tavolo
from consulta.votes import operations as votes_ops
from consulta.votes.models import Vote

DEFAULT_PASSWORD = "Prova-della-Consulta-42"

# 8…: the demo's bodies have 9… (consulta/demo.py), and a test may add its own beside the demo's.
_TAX_CODES = iter(f"8{n:06d}055" for n in range(1, 999_999))


def valid_tax_code() -> str:
    """A fresh, valid 11-digit codice fiscale of a body."""

    base = next(_TAX_CODES)
    return base + luhn.calc_check_digit(base)


# --------------------------------------------------------------------------- people and organisations

@pytest.fixture
def create_user(app):

    counter = iter(range(1, 10_000))

    def factory(*, email=None, display_name=None, password=DEFAULT_PASSWORD, verified=True, role="participant",
                blocked_reason=None, comune=None, organisation=None, representative=True, **kwargs):
        n = next(counter)
        user = accounts_ops.create_user(
            email=email or f"persona{n}@example.org",
            display_name=display_name or f"Persona {n}",
            password=password, verified=verified, role=role, check_password=False,
            comune_id=comune.id if comune is not None else None,
            registered_as="representative" if organisation is not None else "citizen",
            **kwargs,
        )
        if blocked_reason:
            user.blocked_at = utcnow()
            user.blocked_reason = blocked_reason
        if organisation is not None:
            db.session.add(Membership(user_id=user.id, organisation_id=organisation.id,
                                      is_representative=representative, status="active", decided_at=utcnow()))
        db.session.commit()
        return user

    return factory


@pytest.fixture
def dummy_user(create_user):
    return create_user(email="dummy@example.org", display_name="Dora Dummy")


@pytest.fixture
def admin_user(create_user):
    return build_admin(create_user)


def build_admin(create_user):
    return create_user(email="admin@example.org", display_name="Ufficio di Piano", role="admin")


@pytest.fixture
def create_comune(app):

    def factory(name="Narni", istat_code=None):
        comune = Comune(name=name, slug=slugify(name), istat_code=istat_code)
        db.session.add(comune)
        db.session.commit()
        return comune

    return factory


@pytest.fixture
def ambito(app, create_comune):
    return build_ambito(create_comune)


def build_ambito(create_comune) -> Ambito:
    """The Ambito with three comuni, Narni capofila."""
    narni = create_comune("Narni", "055022")
    create_comune("Amelia", "055005")
    create_comune("Otricoli", "055024")
    a = Ambito(name="Ambito Territoriale Sociale n. 11", number="11", lead_comune_id=narni.id)
    db.session.add(a)
    db.session.commit()
    return a


@pytest.fixture
def create_organisation(app):

    counter = iter(range(1, 10_000))

    def factory(*, name=None, type="volunteer", status="verified", tax_code=None, comune=None, **kwargs):
        n = next(counter)
        org = Organisation(
            name=name or f"Associazione di prova {n}", type=type, tax_code=tax_code or valid_tax_code(),
            status=status, verified_at=utcnow() if status == "verified" else None,
            rejection_reason="Dati incompleti" if status == "rejected" else None,
            comune_id=comune.id if comune is not None else None, **kwargs,
        )
        db.session.add(org)
        db.session.commit()
        return org

    return factory


# --------------------------------------------------------------------------- plans and tavoli

@pytest.fixture
def create_plan(app):

    def factory(*, title="Piano Sociale di Zona 2025–2027", status="consulting", period_start=2025,
                period_end=2027, **kwargs):
        plan = Plan(title=title, status=status, period_start=period_start, period_end=period_end, **kwargs)
        db.session.add(plan)
        db.session.commit()
        return plan

    return factory


@pytest.fixture
def create_tavolo(app, create_plan):

    counter = iter(range(1, 10_000))

    def factory(*, plan=None, slug=None, title=None, area="Anziani", phase="open", moderation="post",
                vote_mode="person", facilitators=(), deadline_days: float | None = 14, description="", **kwargs):
        n = next(counter)
        plan = plan or create_plan()
        tavolo = Tavolo(
            plan_id=plan.id, slug=slug or f"tavolo-{n}", title=title or f"Tavolo di prova {n}", area=area,
            phase=phase, moderation=moderation, vote_mode=vote_mode,
            description=description, description_html=render_markdown(description),
            proposal_deadline=None if deadline_days is None else utcnow() + timedelta(days=deadline_days),
            position=n, **kwargs,
        )
        tavolo.facilitators.extend(facilitators)
        db.session.add(tavolo)
        db.session.commit()
        return tavolo

    return factory


@pytest.fixture
def tavolo(create_tavolo):
    return create_tavolo(slug="anziani", title="Anziani", phase="open")


@pytest.fixture
def create_follow(app):
    """A follow of a tavolo or a proposal, through the follow operations (idempotent)."""

    def factory(user, *, tavolo=None, proposal=None):
        if tavolo is not None:
            tavoli_ops.follow_tavolo(tavolo, user)
        if proposal is not None:
            proposals_ops.follow_proposal(user, proposal)
        db.session.commit()

    return factory


# --------------------------------------------------------------------------- who moderates

@pytest.fixture
def moderator_of(app):
    """moderator_of(tavolo, given=None): who acts for a factory — `given`, else the tavolo's first
    facilitator, else an admin (an existing one, or one made for the purpose)."""

    def pick(tavolo, given=None):
        if given is not None:
            return given
        if tavolo.facilitators:
            return tavolo.facilitators[0]
        admin = db.session.execute(select(User).where(User.role == "admin", User.blocked_at.is_(None))
                                   .order_by(User.id).limit(1)).scalar_one_or_none()
        return admin or accounts_ops.create_user(email="ufficio.di.piano@example.org", display_name="Ufficio di Piano",
                             password=DEFAULT_PASSWORD, role="admin", verified=True, check_password=False)

    return pick


def _backdate(row, minutes_ago: float, *columns: str) -> None:
    """Move a row's timestamps into the past (the clock is the one thing factories set by hand)."""
    if minutes_ago:
        when = utcnow() - timedelta(minutes=minutes_ago)
        for column in columns:
            if getattr(row, column) is not None or column == "created_at":
                setattr(row, column, when)


# --------------------------------------------------------------------------- objectives

@pytest.fixture
def create_objective(app, moderator_of):
    """An objective of `tavolo`, created and moved to `status` by the tavoli operations."""

    def factory(tavolo, *, title="Più assistenza domiciliare", body="Testo dell'obiettivo.", status="published",
                author=None):
        actor = moderator_of(tavolo, author)
        objective = tavoli_ops.create_objective(tavolo, actor, title=title, body=body)
        if status in ("published", "approved"):
            tavoli_ops.change_objective_status(objective, "published", actor)
        if status in ("approved", "dropped"):
            tavoli_ops.change_objective_status(objective, status, actor)
        db.session.commit()
        return objective

    return factory


# --------------------------------------------------------------------------- proposals

ANSWERED = ("approved", "partially_approved", "rejected")


@pytest.fixture
def create_proposal(app, moderator_of):
    """A proposal in `state`, reached as the product reaches it.

    Online proposals are submitted by `author` (published at once in a post-moderated tavolo, approved
    from the queue in a pre-moderated one); `channel` other than online records an off-line contribution.
    `state="submitted"` needs a pre-moderated tavolo (with `visibility="hidden"`: refused from the queue);
    `visibility="hidden"` hides it with `hide_reason`.
    """

    def factory(tavolo, author=None, *, title="Un centro diurno per gli anziani", body="Apriamo un **centro diurno**.",
                state="published", visibility="visible", hide_reason="off_topic", hide_note=None, organisation=None,
                objective=None, created_minutes_ago: float = 0, facilitator=None, channel="online",
                protocol_number=None, author_name=None, answer="Motivazione della risposta.", merged_into=None):
        moderator = moderator_of(tavolo, facilitator)
        if channel == "online":
            proposal = proposals_ops.submit_proposal(tavolo=tavolo, author=author, title=title, body=body, objective=objective,
                                           organisation=organisation)
            if state == "submitted" and proposal.state != "submitted":
                raise ValueError("a post-moderated tavolo publishes at once: use a pre-moderated tavolo")
            if state != "submitted" and proposal.state == "submitted":
                moderation.approve(proposal, moderator)
        else:
            proposal = proposals_ops.record_offline_proposal(
                tavolo=tavolo, recorder=moderator, channel=channel, protocol_number=protocol_number, title=title,
                body=body, organisation=organisation, author_name=author_name, objective=objective)
        if state == "under_review":
            proposals_ops.start_review(proposal, moderator)
        elif state in ANSWERED:
            proposals_ops.answer_proposal(proposal, moderator, outcome=state, motivation=answer)
        elif state == "merged":
            proposals_ops.merge_proposal(proposal, merged_into, moderator, motivation=answer)
        elif state == "withdrawn":
            proposals_ops.withdraw_proposal(proposal, author)
        if visibility == "hidden":
            moderation.hide(proposal, moderator, reason=hide_reason, note=hide_note)
        _backdate(proposal, created_minutes_ago, "created_at", "published_at")
        db.session.commit()
        return proposal

    return factory


# --------------------------------------------------------------------------- comments

@pytest.fixture
def create_comment(app, moderator_of):
    """A comment (or reply) by `author`, through the comments operations; `visibility` "visible" in a
    pre-moderated tavolo is approved by a moderator, "hidden" is hidden, `deleted` removed by its author."""

    def factory(subject, author, *, body="Sono d'accordo.", stance=None, parent=None, visibility="visible",
                hide_reason="off_topic", deleted=False, created_minutes_ago: float = 0, commit=True):
        comment = comments_ops.create_comment(subject, author, body=body, stance=stance, parent=parent)
        moderator = None
        if visibility != comment.visibility:
            moderator = moderator_of(subject.tavolo)
            if visibility == "visible":
                moderation.approve(comment, moderator)
            elif visibility == "hidden":
                moderation.hide(comment, moderator, reason=hide_reason)
            else:
                raise ValueError(f"a comment cannot be made {visibility} in this tavolo")
        if deleted:
            comments_ops.delete_comment(comment, author)
        _backdate(comment, created_minutes_ago, "created_at")
        if commit:
            db.session.commit()
        else:
            db.session.flush()
        return comment

    return factory


# --------------------------------------------------------------------------- votes

@pytest.fixture
def create_vote(app):
    """`voter` votes on `subject` through cast_vote (for their organisation when the tavolo votes by
    organisation and they represent one)."""

    def factory(subject, voter, value="for", *, commit=True):
        vote = votes_ops.cast_vote(subject, voter, value)
        if commit:
            db.session.commit()
        return vote

    return factory


@pytest.fixture
def insert_ballots(app):
    """Many ballots at once, as cast_vote stores them, for tallies and query-count tests that need
    volume rather than voters: insert_ballots(subject, [(category, value), ...]). Also stores what an
    older release may have left (an unknown category), which the pages must still show safely."""

    counter = iter(range(1, 10_000_000))

    def add(subject, ballots: Iterable[tuple[str, str]], *, commit=True):
        kind = subject.__tablename__
        now = utcnow()
        rows = [{"tavolo_id": subject.tavolo_id, "proposal_id": subject.id if kind == "proposal" else None,
                 "objective_id": subject.id if kind == "objective" else None,
                 "ballot_key": f"person:{1_000_000 + next(counter)}", "category": category, "value": value,
                 "created_at": now, "updated_at": now} for category, value in ballots]
        if rows:
            db.session.execute(insert(Vote), rows)
        if kind == "proposal":  # as cast_vote counts them (no voter: no participant)
            count_on_proposal(subject.id, votes_for=sum(row["value"] == "for" for row in rows))
        if commit:
            db.session.commit()

    return add


# --------------------------------------------------------------------------- flags

@pytest.fixture
def create_flag(app):
    """`reporter` flags `item` through moderation's flag operation (which may hide it at the threshold)."""

    def factory(item, reporter, *, reason="offensive", note=None, minutes_ago: float = 0):
        outcome = moderation.flag(item, reporter, reason=reason, note=note)
        _backdate(outcome.flag, minutes_ago, "created_at")
        db.session.commit()
        return outcome.flag

    return factory


# --------------------------------------------------------------------------- tavolo members, meetings, minutes

@dataclass
class Seat:
    organisation: Any
    delegate: Any
    substitute: Any | None
    member: Any


@pytest.fixture
def create_seat(create_organisation, create_user, moderator_of):
    """An organisation with a representative (delegate), optionally a substitute, that asked to sit at a
    tavolo; accepted (the default) or rejected by a facilitator, or still `requested`."""

    counter = iter(range(1, 1000))

    def factory(tavolo, *, name=None, type="volunteer", status="accepted", with_substitute=False):
        n = next(counter)
        org = create_organisation(name=name or f"Associazione {n}", type=type)
        delegate = create_user(email=f"delegato{n}@example.org", display_name=f"Delegato {n}", organisation=org)
        substitute = (create_user(email=f"sostituto{n}@example.org", display_name=f"Sostituto {n}",
                                  organisation=org, representative=False) if with_substitute else None)
        member, _what = meetings_ops.request_membership(tavolo, delegate, delegate=delegate, substitute=substitute)
        if status == "accepted":
            meetings_ops.accept_member(member, moderator_of(tavolo))
        elif status == "rejected":
            meetings_ops.reject_member(member, moderator_of(tavolo), "Non pertinente")
        db.session.commit()
        return Seat(org, delegate, substitute, member)

    return factory


@pytest.fixture
def create_meeting(app, moderator_of):
    """A meeting convened through schedule_meeting; `starts_in` may be negative for one that already took
    place (the date is then moved into the past, the clock being the one thing set by hand)."""

    def factory(tavolo, *, title="Primo incontro", starts_in=timedelta(days=7), place="Sala consiliare, Narni",
                online_url=None, status="scheduled", agenda="- Apertura\n- Proposte sugli anziani", by=None):
        actor = moderator_of(tavolo, by)
        starts_at = utcnow().replace(microsecond=0) + starts_in
        meeting = meetings_ops.schedule_meeting(tavolo, actor, meetings_ops.MeetingFields(
            title=title, starts_at=max(starts_at, utcnow() + timedelta(hours=1)), ends_at=None, place=place,
            online_url=online_url, agenda=agenda, proposals=[], objectives=[]))
        meeting.starts_at = starts_at
        if status == "held":
            meetings_ops.mark_meeting_held(meeting, actor)
        elif status == "cancelled":
            meetings_ops.cancel_meeting(meeting, actor, "Maltempo")
        db.session.commit()
        return meeting

    return factory


@pytest.fixture
def create_minutes(app, moderator_of):
    """Draft minutes of a meeting that took place, through the minutes operations: text, the member
    attendance of `seats` (as delegates), other persons present `externals` as (name, role), and one
    decision per (subject, outcome), by consensus."""

    def factory(meeting, *, text="Si discute delle proposte.", seats=(), externals=(), decisions=(), by=None):
        actor = moderator_of(meeting.tavolo, by)
        minutes = meetings_ops.start_minutes(meeting, actor, tavolo=meeting.tavolo)
        meetings_ops.update_minutes_text(minutes, actor, agenda_items="Apertura\nProposte", text=text)
        if seats:
            meetings_ops.set_member_attendance(minutes, actor, {seat.member.id: "delegate" for seat in seats},
                                               [seat.member for seat in seats])
        for name, role in externals:
            meetings_ops.add_external(minutes, actor, name=name, role=role)
        for subject, outcome in decisions:
            is_proposal = subject.__tablename__ == "proposal"
            meetings_ops.save_decision(minutes, actor, meetings_ops.DecisionFields(
                proposal=subject if is_proposal else None, objective=None if is_proposal else subject,
                outcome=outcome, method="consensus", votes_for=None, votes_against=None, votes_abstained=None,
                motivation=f"Motivazione per {subject.title}.", dissents={}), organisations={})
        db.session.commit()
        return minutes

    return factory


@pytest.fixture
def approve_minutes(app, moderator_of):
    """Approve draft minutes through approve_minutes (which seals them and applies the decisions)."""

    def do(minutes, by=None):
        meetings_ops.approve_minutes(minutes, moderator_of(minutes.tavolo, by))
        db.session.commit()
        return minutes

    return do


@dataclass
class Approved:
    minutes: Any
    decisions: list


@pytest.fixture
def approve_decisions(create_meeting, create_minutes, approve_minutes):
    """Approved minutes of a held meeting with one decision per (subject, outcome)."""
    counter = iter(range(1, 1000))

    def factory(tavolo, decisions, *, by):
        n = next(counter)
        meeting = create_meeting(tavolo, title=f"Incontro {n}", starts_in=-timedelta(days=n + 1), agenda="- Proposte",
                                 by=by)
        minutes = create_minutes(meeting, text="Si discute.", externals=[("Ospite", "Assistente sociale")],
                                 decisions=decisions, by=by)
        approve_minutes(minutes, by)
        return Approved(minutes, list(minutes.decisions))

    return factory


# --------------------------------------------------------------------------- reading back

@pytest.fixture
def count_rows(app):
    def count(model, *conditions):
        return db.session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()

    return count


# --------------------------------------------------------------------------- the cast of a permission table

@dataclass
class Cast:
    """Everyone a permission table needs, around one organisation and one facilitator."""

    organisation: Any
    participant: Any
    unverified: Any
    blocked: Any
    representative: Any
    member: Any | None
    facilitator: Any
    admin: Any

    @property
    def citizen(self):
        return self.participant

    def get(self, role):
        return None if role == "anonymous" else getattr(self, role)


@pytest.fixture
def cast(create_user, create_organisation):
    org = create_organisation(name="Cooperativa Sociale Il Ponte", type="social_coop")
    return Cast(
        organisation=org,
        participant=create_user(email="carla@example.org", display_name="Carla Cittadina"),
        unverified=create_user(email="ugo@example.org", display_name="Ugo Nonverificato", verified=False),
        blocked=create_user(email="bruno@example.org", display_name="Bruno Bloccato",
                            blocked_reason="Messaggi offensivi"),
        representative=create_user(email="rita@example.org", display_name="Rita Rappresentante", organisation=org),
        member=create_user(email="marco@example.org", display_name="Marco Socio", organisation=org,
                           representative=False),
        facilitator=create_user(email="fabio@example.org", display_name="Fabio Facilitatore", role="facilitator"),
        admin=create_user(email="admin@example.org", display_name="Ufficio di Piano", role="admin"),
    )


@pytest.fixture
def as_role(client, cast):
    """as_role("participant") logs the client in as that member of the cast; "anonymous" stays logged out."""

    def do(role):
        user = cast.get(role)
        if user is not None:
            client.login(user)
        return client

    return do
