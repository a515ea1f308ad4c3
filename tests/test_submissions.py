"""One-time submission tokens and the one 409 handler, over HTTP on both databases.

A creating form carries a random token: sent twice, it stores one object and the second POST lands on
the first one's page with "Era già stata inviata". Lost races, integrity errors and stale rows answer
409 with an Italian page from one error handler, after a rollback; a state re-read under lock refuses
a move the page decided on a stale state.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.orm.exc import StaleDataError

from consulta.accounts.models import User
from consulta.comments.models import Comment
from consulta.core.audit import AuditEvent
from consulta.core.db import utcnow
from consulta.core.notify import Notification
from consulta.core.states import Conflict, TransitionError
from consulta.core.submissions import Submission
from consulta.extensions import db
from consulta.meetings import operations as meetings_ops
from consulta.meetings.models import Meeting
from consulta.moderation import operations as moderation_ops
from consulta.plan import operations as plan_ops
from consulta.proposals import operations as proposals_ops
from consulta.proposals.models import Proposal
from consulta.tavoli.models import Objective
from consulta.votes import operations as votes_ops
from consulta.votes.models import Vote
from tests.meetings.test_meetings import meeting_data


def token_of(html: str, form_marker: str | None = None) -> str:
    if form_marker is not None:
        html = html[html.index(form_marker):]
    match = re.search(r'name="submission_token"[^>]*value="([^"]+)"', html) or re.search(
        r'value="([^"]+)"[^>]*name="submission_token"', html)
    assert match, "no submission token in the form"
    return match.group(1)


def count(model, *conditions) -> int:
    return db.session.execute(select(func.count()).select_from(model).where(*conditions)).scalar_one()


# --------------------------------------------------------------------------- tokens

def test_a_proposal_sent_twice_with_one_token_is_stored_once_and_lands_on_the_first(client, tavolo, dummy_user):
    client.login(dummy_user)
    path = f"/tavoli/{tavolo.slug}/proposte/nuova"
    token = token_of(client.get(path).get_data(as_text=True))
    data = {"title": "Navetta per il centro diurno", "body": "Una navetta al mattino.", "submission_token": token}

    first = client.post(path, data=data)
    second = client.post(path, data=data)

    [proposal] = db.session.execute(select(Proposal)).scalars().all()
    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"] == f"/proposte/{proposal.id}/"
    page = client.get(second.headers["Location"]).get_data(as_text=True)
    assert "Era già stata inviata" in page
    [row] = db.session.execute(select(Submission)).scalars().all()
    assert (row.user_id, row.object_type, row.object_id) == (dummy_user.id, "proposal", proposal.id)


def test_a_new_form_has_a_new_token(client, tavolo, dummy_user):
    client.login(dummy_user)
    path = f"/tavoli/{tavolo.slug}/proposte/nuova"
    first = token_of(client.get(path).get_data(as_text=True))
    client.post(path, data={"title": "Prima proposta", "body": "Testo.", "submission_token": first})
    second = token_of(client.get(path).get_data(as_text=True))

    client.post(path, data={"title": "Seconda proposta", "body": "Testo.", "submission_token": second})

    assert first != second
    assert count(Proposal) == 2


def test_a_refused_form_keeps_its_token_and_the_corrected_one_is_stored(client, tavolo, dummy_user):
    client.login(dummy_user)
    path = f"/tavoli/{tavolo.slug}/proposte/nuova"
    token = token_of(client.get(path).get_data(as_text=True))

    refused = client.post(path, data={"title": "", "body": "Testo.", "submission_token": token})
    assert refused.status_code == 400 and token_of(refused.get_data(as_text=True)) == token
    stored = client.post(path, data={"title": "Ora con il titolo", "body": "Testo.", "submission_token": token})

    assert stored.status_code == 302 and count(Proposal) == 1


def test_a_comment_sent_twice_is_stored_once(client, tavolo, create_proposal, create_user, dummy_user):
    author = create_user(email="autrice@example.org", display_name="Anna Autrice")
    proposal = create_proposal(tavolo, author, title="Proposta commentata")
    client.login(dummy_user)
    page = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    data = {"body": "Sono d'accordo.", "submission_token": token_of(page, 'id="nuovo-commento"')}

    first = client.post(f"/proposte/{proposal.id}/commenti", data=data)
    second = client.post(f"/proposte/{proposal.id}/commenti", data=data)

    [comment] = db.session.execute(select(Comment)).scalars().all()
    assert first.status_code == second.status_code == 302
    assert second.headers["Location"] == first.headers["Location"] == f"/proposte/{proposal.id}/#commento-{comment.id}"


def test_replies_to_two_comments_from_one_page_are_both_stored(client, tavolo, create_proposal, create_comment,
                                                                create_user, dummy_user):
    other = create_user(email="altra@example.org", display_name="Altra Persona")
    proposal = create_proposal(tavolo, other, title="Proposta discussa")
    first, second = create_comment(proposal, other, body="Primo."), create_comment(proposal, other, body="Secondo.")
    client.login(dummy_user)
    page = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    tokens = set(re.findall(r'name="submission_token" value="([^"]+)"', page))
    assert len(tokens) == 3  # the new comment and one reply form per comment, each with its own token

    for parent in (first, second):
        form = page[page.index(f'name="parent_id" value="{parent.id}"') - 400:]
        response = client.post(f"/proposte/{proposal.id}/commenti", data={
            "body": "Risposta.", "parent_id": str(parent.id), "submission_token": token_of(form)})
        assert response.status_code == 302

    assert count(Comment, Comment.parent_id.is_not(None)) == 2


def test_an_offline_contribution_recorded_twice_is_stored_once(client, tavolo, create_user):
    facilitator = create_user(email="fac@example.org", display_name="Fabio Facilitatore", role="facilitator")
    tavolo.facilitators.append(facilitator)
    db.session.commit()
    client.login(facilitator)
    path = f"/facilitazione/tavoli/{tavolo.slug}/proposte/registra"
    data = {"channel": "paper", "protocol_number": "2025/77", "presenter": "citizen", "author_name": "Giuseppina Verdi",
            "title": "Più ore di assistenza", "body": "Consegnata allo sportello.",
            "submission_token": token_of(client.get(path).get_data(as_text=True))}

    first, second = client.post(path, data=data), client.post(path, data=data)

    [proposal] = db.session.execute(select(Proposal)).scalars().all()
    assert first.headers["Location"] == second.headers["Location"] == f"/proposte/{proposal.id}/"


def test_a_meeting_convened_twice_is_stored_once(client, tavolo, create_user, create_seat):
    facilitator = create_user(email="fac@example.org", display_name="Fabio Facilitatore", role="facilitator")
    tavolo.facilitators.append(facilitator)
    db.session.commit()
    create_seat(tavolo, name="Auser Narni")
    client.login(facilitator)
    path = f"/facilitazione/tavoli/{tavolo.slug}/incontri/nuovo"
    data = {**meeting_data(), "submission_token": token_of(client.get(path).get_data(as_text=True))}

    first, second = client.post(path, data=data), client.post(path, data=data)

    [meeting] = db.session.execute(select(Meeting)).scalars().all()
    assert first.headers["Location"] == second.headers["Location"] == f"/incontri/{meeting.id}/"


def test_an_objective_created_twice_is_stored_once(client, tavolo, create_user):
    facilitator = create_user(email="fac@example.org", display_name="Fabio Facilitatore", role="facilitator")
    tavolo.facilitators.append(facilitator)
    db.session.commit()
    client.login(facilitator)
    path = f"/facilitazione/tavoli/{tavolo.slug}/obiettivi/nuovo"
    data = {"title": "Più assistenza domiciliare", "body": "Testo.",
            "submission_token": token_of(client.get(path).get_data(as_text=True))}

    first, second = client.post(path, data=data), client.post(path, data=data)

    assert first.status_code == second.status_code == 302
    assert first.headers["Location"] == second.headers["Location"]
    assert count(Objective, Objective.title == "Più assistenza domiciliare") == 1


def test_a_token_sent_by_someone_else_stores_nothing_and_answers_409(client, tavolo, dummy_user, create_user):
    client.login(dummy_user)
    path = f"/tavoli/{tavolo.slug}/proposte/nuova"
    token = token_of(client.get(path).get_data(as_text=True))
    client.post(path, data={"title": "La mia proposta", "body": "Testo.", "submission_token": token})
    client.logout()
    client.login(create_user(email="altro@example.org", display_name="Altro Utente"))

    response = client.post(path, data={"title": "Copia", "body": "Testo.", "submission_token": token})

    assert response.status_code == 409 and "già stato inviato" in response.get_data(as_text=True)
    assert count(Proposal) == 1


# --------------------------------------------------------------------------- the one 409 handler

@pytest.fixture
def racing_app(make_app, dummy_user):
    """An app with routes that lose races the way real views do (a duplicate row, a row deleted
    meanwhile, a state moved meanwhile); each also writes a row first, which must not survive."""
    other = make_app()
    user_id = dummy_user.id

    def trace():
        db.session.get(User, user_id).display_name = "Modificato prima dell'errore"
        db.session.flush()

    def duplicate():
        trace()
        db.session.add(User(email=db.session.get(User, user_id).email, display_name="Doppio", password_hash="x",
                               privacy_consent_at=utcnow()))
        db.session.flush()
        return "mai"

    def stale():
        trace()
        raise StaleDataError("UPDATE statement on table 'vote' expected to update 1 row(s); 0 were matched.")

    def moved():
        trace()
        raise Conflict()

    for name, view in (("duplicate", duplicate), ("stale", stale), ("moved", moved)):
        other.add_url_rule(f"/prova-gara/{name}", name, view, methods=["POST"])
    other.config["WTF_CSRF_ENABLED"] = False
    return other


@pytest.mark.parametrize(("route", "message"), [
    ("duplicate", "Un'altra richiesta ha modificato gli stessi dati nello stesso momento"),
    ("stale", "Un'altra richiesta ha modificato gli stessi dati nello stesso momento"),
    ("moved", "Nel frattempo un'altra persona ha già modificato questo contenuto"),
])
def test_a_lost_race_answers_409_in_italian_and_keeps_nothing(racing_app, dummy_user, route, message):
    with racing_app.test_client() as client:
        response = client.post(f"/prova-gara/{route}", headers={"Referer": "http://localhost/proposte/1/"})

    html = response.get_data(as_text=True).replace("&#39;", "'")
    assert response.status_code == 409
    assert message in html and 'href="/proposte/1/"' in html  # back to the page, to see it as it is now
    db.session.expire_all()
    assert db.session.get(User, dummy_user.id).display_name != "Modificato prima dell'errore"


def test_an_answer_decided_on_a_stale_page_is_refused_with_409(client, tavolo, create_proposal, create_user):
    """The losing request of two answers, replayed in order: it read the proposal before the winner
    committed. Re-read under lock, the state has moved: 409, nothing stored, one notice."""
    first = create_user(email="f1@example.org", display_name="Franca Prima", role="facilitator")
    second = create_user(email="f2@example.org", display_name="Filippo Secondo", role="facilitator")
    author = create_user(email="autrice@example.org", display_name="Anna Autrice")
    tavolo.facilitators.extend([first, second])
    proposal = create_proposal(tavolo, author, title="Centro diurno")
    db.session.commit()
    proposals_ops.answer_proposal(proposal, first, outcome="approved", motivation="Sì.")
    db.session.commit()
    set_committed_value(proposal, "state", "published")  # what the loser read

    with pytest.raises(Conflict, match="Un altro facilitatore ha appena risposto"):
        proposals_ops.answer_proposal(proposal, second, outcome="rejected", motivation="No.")
    db.session.rollback()

    assert db.session.get(Proposal, proposal.id).state == "approved"
    assert count(Notification, Notification.user_id == author.id, Notification.event == "proposal.answered") == 1


def test_minutes_approved_on_a_stale_page_are_refused_with_409(tavolo, create_user, create_meeting, create_minutes):
    facilitator = create_user(email="f1@example.org", display_name="Franca Prima", role="facilitator")
    other = create_user(email="f2@example.org", display_name="Filippo Secondo", role="facilitator")
    tavolo.facilitators.extend([facilitator, other])
    db.session.commit()
    meeting = create_meeting(tavolo, starts_in=timedelta(hours=-3), by=facilitator)
    minutes = create_minutes(meeting, externals=[("Maria Rossi", "Assistente sociale")], by=facilitator)
    meetings_ops.approve_minutes(minutes, facilitator)
    db.session.commit()
    set_committed_value(minutes, "status", "draft")  # what the loser read

    with pytest.raises(TransitionError) as refused:
        meetings_ops.approve_minutes(minutes, other)
    db.session.rollback()

    assert refused.value.status == 409 and "Il verbale è approvato" in refused.value.message
    assert db.session.get(type(minutes), minutes.id).approved_by_id == facilitator.id


def test_a_vote_on_a_proposal_withdrawn_meanwhile_is_refused_with_409(tavolo, create_user, create_proposal):
    author = create_user(email="autrice@example.org", display_name="Anna Autrice")
    voter = create_user(email="votante@example.org", display_name="Vera Votante")
    proposal = create_proposal(tavolo, author, title="Proposta ritirata")
    proposals_ops.withdraw_proposal(proposal, author)
    db.session.commit()
    set_committed_value(proposal, "state", "published")  # what the vote's page showed

    with pytest.raises(Conflict, match="Non si può più votare"):
        votes_ops.cast_vote(proposal, voter, "for")
    db.session.rollback()

    assert count(Vote, Vote.proposal_id == proposal.id) == 0


def test_a_plan_adopted_twice_at_once_is_adopted_once(create_plan, admin_user, create_user):
    other_admin = create_user(email="admin2@example.org", display_name="Altro Ufficio", role="admin")
    plan = create_plan(status="consulting")
    plan_ops.change_plan_status(plan, "adopted", admin_user, adoption_reference="DCC n. 12",
                                adoption_date=date(2025, 3, 1))
    db.session.commit()
    set_committed_value(plan, "status", "consulting")  # what the second admin's page showed

    with pytest.raises(Conflict):
        plan_ops.change_plan_status(plan, "adopted", other_admin, adoption_reference="DCC n. 13",
                                    adoption_date=date(2025, 3, 2))
    db.session.rollback()

    assert count(AuditEvent, AuditEvent.action == "plan.adopt") == 1
    assert db.session.get(type(plan), plan.id).adoption_reference == "DCC n. 12"


def test_two_moderators_hiding_the_same_proposal_hide_it_once(tavolo, create_user, create_proposal):
    first = create_user(email="f1@example.org", display_name="Franca Prima", role="facilitator")
    second = create_user(email="f2@example.org", display_name="Filippo Secondo", role="facilitator")
    author = create_user(email="autrice@example.org", display_name="Anna Autrice")
    tavolo.facilitators.extend([first, second])
    proposal = create_proposal(tavolo, author, title="Proposta fuori tema")
    db.session.commit()
    moderation_ops.hide(proposal, first, reason="off_topic")
    db.session.commit()
    set_committed_value(proposal, "visibility", "visible")  # what the second moderator's page showed

    with pytest.raises(Conflict, match="Un altro moderatore ha appena moderato"):
        moderation_ops.hide(proposal, second, reason="spam")
    db.session.rollback()

    assert count(Notification, Notification.user_id == author.id, Notification.event == "proposal.hidden") == 1
