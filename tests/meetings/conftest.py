"""Factories of the meetings tests: member organisations, proposals in any state,
meetings and minutes, and a way to lift the immutability triggers (for the
tampering test and for emptying the tables after a test on SQLite)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consulta.core.db import utcnow
from consulta.core.text import render_markdown
from consulta.extensions import db
from tests.conftest import immutability_guard_lifted

# The shared cleanup lifts the approved-minutes triggers itself; tampering tests use the same helper.
guard_lifted = immutability_guard_lifted


@pytest.fixture
def facilitator(create_user):
    return create_user(email="fabio@example.org", display_name="Fabio Facilitatore", role="facilitator")


@pytest.fixture
def other_facilitator(create_user):
    return create_user(email="olga@example.org", display_name="Olga Altrotavolo", role="facilitator")


@pytest.fixture
def table(create_tavolo, facilitator):
    """The tavolo under test: facilitated by `facilitator`, quorum of 2 member organisations."""
    return create_tavolo(slug="anziani", title="Anziani e non autosufficienza", facilitators=[facilitator],
                         quorum=2)


@pytest.fixture
def other_table(create_tavolo, other_facilitator):
    return create_tavolo(slug="disabilita", title="Disabilità", facilitators=[other_facilitator])


@dataclass
class Seat:
    organisation: object
    delegate: object
    substitute: object | None
    member: object


@pytest.fixture
def create_seat(create_organisation, create_user):
    """An organisation with a representative (delegate), optionally a substitute, seated at a tavolo."""
    from consulta.meetings.models import TavoloMember

    counter = iter(range(1, 1000))

    def factory(tavolo, *, name=None, type="volunteer", status="accepted", with_substitute=False):
        n = next(counter)
        org = create_organisation(name=name or f"Associazione {n}", type=type)
        delegate = create_user(email=f"delegato{n}@example.org", display_name=f"Delegato {n}", organisation=org)
        substitute = (create_user(email=f"sostituto{n}@example.org", display_name=f"Sostituto {n}",
                                  organisation=org, representative=False) if with_substitute else None)
        member = TavoloMember(
            tavolo_id=tavolo.id, organisation_id=org.id, delegate_id=delegate.id,
            substitute_id=substitute.id if substitute else None, status=status, requested_by_id=delegate.id,
            decided_at=utcnow() if status in ("accepted", "rejected") else None,
            rejection_reason="Non pertinente" if status == "rejected" else None,
        )
        db.session.add(member)
        db.session.commit()
        return Seat(org, delegate, substitute, member)

    return factory


@pytest.fixture
def create_objective(app):
    from consulta.tavoli.models import Objective

    def factory(tavolo, *, title="Più assistenza domiciliare", status="published"):
        objective = Objective(tavolo_id=tavolo.id, title=title, body="Testo.", body_html="<p>Testo.</p>",
                              status=status, published_at=utcnow() if status != "draft" else None)
        db.session.add(objective)
        db.session.commit()
        return objective

    return factory


@pytest.fixture
def create_proposal(app):
    """A proposal in any state; states past `published` go through the transition table."""
    from consulta.proposals.models import PROPOSAL_TRANSITIONS, Proposal

    def factory(tavolo, author, *, title="Un centro diurno per gli anziani", state="published",
                facilitator=None, visibility="visible"):
        proposal = Proposal(
            tavolo_id=tavolo.id, author_id=author.id, title=title, body="Apriamo un **centro diurno**.",
            body_html=render_markdown("Apriamo un **centro diurno**."), category="citizen",
            state="submitted" if state == "submitted" else "published",
            visibility="pending" if state == "submitted" else visibility,
            published_at=None if state == "submitted" else utcnow(),
        )
        db.session.add(proposal)
        db.session.flush()
        if state in ("under_review", "approved", "partially_approved", "rejected"):
            PROPOSAL_TRANSITIONS.apply(proposal, "under_review", facilitator)
        if state in ("approved", "partially_approved", "rejected"):
            proposal.answer = "Risposta del facilitatore."
            proposal.answer_html = render_markdown(proposal.answer)
            proposal.answered_by_id = facilitator.id
            proposal.answered_at = utcnow()
            PROPOSAL_TRANSITIONS.apply(proposal, state, facilitator, context={"answer": proposal.answer})
        if state == "withdrawn":
            PROPOSAL_TRANSITIONS.apply(proposal, "withdrawn", author)
        db.session.commit()
        return proposal

    return factory


@pytest.fixture
def citizen(create_user):
    return create_user(email="carla@example.org", display_name="Carla Cittadina")


@pytest.fixture
def create_meeting(app):
    """A meeting stored directly; `starts_in` may be negative for a meeting that already took place."""
    from consulta.meetings.models import Meeting

    def factory(tavolo, *, title="Primo incontro", starts_in=timedelta(days=7), place="Sala consiliare, Narni",
                online_url=None, status="scheduled", agenda="- Apertura\n- Proposte sugli anziani"):
        meeting = Meeting(tavolo_id=tavolo.id, title=title, starts_at=utcnow().replace(microsecond=0) + starts_in,
                          place=place, online_url=online_url, agenda=agenda, agenda_html=render_markdown(agenda),
                          status=status, cancel_reason="Maltempo" if status == "cancelled" else None)
        db.session.add(meeting)
        db.session.commit()
        return meeting

    return factory


@pytest.fixture
def create_minutes(app):
    """Draft minutes of a meeting, optionally with text, member attendance and decisions."""
    from consulta.meetings.models import Attendance, Decision, Minutes

    def factory(meeting, *, text="Si discute delle proposte.", seats=(), decisions=(), corrects=None):
        minutes = Minutes(meeting_id=meeting.id, tavolo_id=meeting.tavolo_id, status="draft", text=text,
                          text_html=render_markdown(text), agenda_items="Apertura\nProposte",
                          quorum_required=meeting.tavolo.quorum, members_present=len(seats),
                          quorum_reached=(len(seats) >= meeting.tavolo.quorum) if meeting.tavolo.quorum else None,
                          corrects_id=corrects.id if corrects else None)
        for seat in seats:
            minutes.attendance.append(Attendance(
                kind="member", organisation_id=seat.organisation.id, organisation_name=seat.organisation.name,
                category=seat.organisation.type, attended_as="delegate", user_id=seat.delegate.id,
                name=seat.delegate.display_name))
        for subject, outcome in decisions:
            is_proposal = subject.__tablename__ == "proposal"
            minutes.decisions.append(Decision(
                proposal_id=subject.id if is_proposal else None, objective_id=None if is_proposal else subject.id,
                subject_title=subject.title, outcome=outcome, method="consensus",
                motivation=f"Motivazione per {subject.title}.",
                motivation_html=render_markdown(f"Motivazione per {subject.title}.")))
        db.session.add(minutes)
        db.session.commit()
        return minutes

    return factory


@pytest.fixture
def approve(client):
    """Approve minutes through the editor as `user`; returns the response."""

    def do(minutes, user):
        client.login(user)
        response = client.post(f"/facilitazione/verbali/{minutes.id}/approva", data={"confirm": "y"})
        client.logout()
        return response

    return do


@pytest.fixture
def count_rows(app):
    def count(model, *conditions):
        return db.session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()

    return count
