"""Answers and merges: the facilitator takes a proposal into evaluation and answers it with a
motivation, or merges it into another proposal of the same tavolo; authors and followers are told.
Minutes decisions later confirm or overturn the answer through their own transitions."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.core.audit import AuditEvent
from consulta.extensions import db
from consulta.proposals.models import PROPOSAL_TRANSITIONS, Proposal
from tests.moderation.helpers import text_of


def answer_url(proposal):
    return f"/facilitazione/proposte/{proposal.id}/risposta"


def actions_on(proposal):
    return db.session.execute(select(AuditEvent.action).where(
        AuditEvent.subject_type == "proposal", AuditEvent.subject_id == proposal.id).order_by(AuditEvent.id)
    ).scalars().all()


def test_the_facilitator_takes_a_proposal_into_evaluation(client, people, post_tavolo, make_proposal, notifications):
    proposal = make_proposal(post_tavolo)
    client.login(people.facilitator)
    assert "Metti in valutazione" in text_of(client.get(f"/proposte/{proposal.id}/"))

    response = client.post(f"/facilitazione/proposte/{proposal.id}/valutazione")

    assert response.status_code == 302
    db.session.refresh(proposal)
    assert proposal.state == "under_review"
    assert [n.user_id for n in notifications("proposal.under_review")] == [people.author.id]
    page = text_of(client.get(f"/proposte/{proposal.id}/"))
    assert "La proposta è ora in valutazione" in page and "I facilitatori del tavolo stanno valutando" in page
    response = client.post(f"/facilitazione/proposte/{proposal.id}/valutazione")
    assert response.status_code == 409 and "già in valutazione" in text_of(response)


def test_an_answer_with_a_motivation_reaches_the_author_and_the_followers(
        client, people, post_tavolo, make_proposal, create_follow, notifications):
    proposal = make_proposal(post_tavolo, title="Trasporto sociale serale")
    create_follow(people.reader, proposal=proposal)
    client.login(people.facilitator)
    page = text_of(client.get(answer_url(proposal)))
    assert "Rispondi alla proposta" in page and "Accolta in parte" in page

    response = client.post(answer_url(proposal), data={
        "outcome": "rejected",
        "motivation": "Il servizio esiste già: vedi il **bando 2024**.<script>alert(1)</script>",
    })

    assert response.status_code == 302
    db.session.refresh(proposal)
    assert proposal.state == "rejected"
    assert proposal.answered_by_id == people.facilitator.id and proposal.answered_at is not None
    assert "<strong>bando 2024</strong>" in proposal.answer_html and "<script" not in proposal.answer_html
    assert actions_on(proposal) == ["proposal.submit", "proposal.publish", "proposal.review", "proposal.answer"]
    answer_event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "proposal.answer")).scalar_one()
    assert answer_event.tavolo_id == post_tavolo.id and answer_event.changes["state"] == ["under_review", "rejected"]
    recipients = sorted(n.user_id for n in notifications("proposal.answered"))
    assert recipients == sorted([people.author.id, people.reader.id])
    client.logout()

    client.login(people.author)
    page = text_of(client.get(f"/proposte/{proposal.id}/"))
    assert "Risposta del tavolo" in page and "Non accolta" in page and "Il servizio esiste già" in page
    assert "Fabio Facilitatore" in page


@pytest.mark.parametrize("motivation", ["", "   ", "\n\n"])
def test_answering_without_a_motivation_is_refused(client, people, post_tavolo, make_proposal, audit_count,
                                                   motivation):
    proposal = make_proposal(post_tavolo, state="under_review")
    client.login(people.facilitator)
    before = audit_count()

    response = client.post(answer_url(proposal), data={"outcome": "rejected", "motivation": motivation})

    assert response.status_code == 400
    assert "Scrivi la motivazione: ogni risposta deve essere motivata." in text_of(response)
    db.session.refresh(proposal)
    assert proposal.state == "under_review" and proposal.answer is None and audit_count() == before


def test_answer_bad_input(client, people, post_tavolo, make_proposal, audit_count):
    proposal = make_proposal(post_tavolo)
    client.login(people.facilitator)
    before = audit_count()

    response = client.post(answer_url(proposal), data={"outcome": "maybe", "motivation": "Perché sì"})
    assert response.status_code == 400 and "Scegli l'esito della valutazione." in text_of(response)
    response = client.post(answer_url(proposal), data={"outcome": "approved", "motivation": "x" * 10_001})
    assert response.status_code == 400 and "al massimo 10000 caratteri" in text_of(response)
    assert "x" * 100 in response.get_data(as_text=True)  # the text is kept
    response = client.post(answer_url(proposal), data={"outcome": "merged", "motivation": "Doppione"})
    assert response.status_code == 400 and "Scegli la proposta in cui unire questa." in text_of(response)
    response = client.post(answer_url(proposal), data={"outcome": "merged", "merge_into": "1; drop",
                                                       "motivation": "Doppione"})
    assert response.status_code == 400
    db.session.refresh(proposal)
    assert proposal.state == "published" and audit_count() == before


def test_a_duplicate_is_merged_and_both_pages_say_so(client, people, post_tavolo, make_proposal, notifications):
    target = make_proposal(post_tavolo, title="Centro diurno a Narni")
    duplicate = make_proposal(post_tavolo, people.reader, title="Un centro per anziani a Narni")
    client.login(people.facilitator)

    response = client.post(answer_url(duplicate), data={
        "outcome": "merged", "merge_into": str(target.id), "motivation": "Chiede la stessa cosa."})

    assert response.status_code == 302
    db.session.refresh(duplicate)
    assert duplicate.state == "merged" and duplicate.merged_into_id == target.id
    assert duplicate.answer == "Chiede la stessa cosa."
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "proposal.merge")).scalar_one()
    assert event.changes["merged_into_id"] == [None, target.id] and event.tavolo_id == post_tavolo.id
    [note] = notifications("proposal.merged")
    assert note.user_id == people.reader.id and note.data["target_id"] == target.id
    client.logout()
    merged_page = text_of(client.get(f"/proposte/{duplicate.id}/"))
    assert "Questa proposta è stata unita a: Centro diurno a Narni" in merged_page
    target_page = text_of(client.get(f"/proposte/{target.id}/"))
    assert "Proposte unite a questa" in target_page and "Un centro per anziani a Narni" in target_page


def test_merge_refusals(client, people, post_tavolo, other_tavolo, make_proposal, audit_count):
    proposal = make_proposal(post_tavolo, title="Questa")
    elsewhere = make_proposal(other_tavolo, title="Di un altro tavolo")
    withdrawn = make_proposal(post_tavolo, title="Ritirata", state="withdrawn")
    hidden = make_proposal(post_tavolo, title="Nascosta", visibility="hidden", hide_reason="spam")
    client.login(people.facilitator)
    before = audit_count()

    cases = [
        (elsewhere.id, "Si può unire solo a una proposta dello stesso tavolo."),
        (proposal.id, "Una proposta non può essere unita a se stessa"),
        (withdrawn.id, "«Ritirata» è «ritirata»: non si può unire"),
        (hidden.id, "«Nascosta» è nascosta dal moderatore"),
        (987654, "La proposta indicata per l'unione non esiste."),
    ]
    for target_id, message in cases:
        response = client.post(answer_url(proposal), data={
            "outcome": "merged", "merge_into": str(target_id), "motivation": "Doppione"})
        assert response.status_code == 409, target_id
        assert message in text_of(response)
        assert "Doppione" in response.get_data(as_text=True)  # the motivation is kept

    db.session.refresh(proposal)
    assert proposal.state == "published" and proposal.merged_into_id is None and proposal.answer is None
    assert audit_count() == before


def test_a_merge_in_a_circle_is_refused(client, people, post_tavolo, make_proposal, audit_count):
    first = make_proposal(post_tavolo, title="Prima")
    second = make_proposal(post_tavolo, title="Seconda")
    client.login(people.facilitator)
    client.post(answer_url(first), data={"outcome": "merged", "merge_into": str(second.id), "motivation": "Uguali"})
    db.session.refresh(first)
    assert first.merged_into_id == second.id
    before = audit_count()

    response = client.post(answer_url(second), data={
        "outcome": "merged", "merge_into": str(first.id), "motivation": "Uguali"})

    assert response.status_code == 409
    assert "Unione circolare: «Prima» è già unita a questa proposta." in text_of(response)
    db.session.refresh(second)
    assert second.state == "published" and audit_count() == before


@pytest.mark.parametrize("state, message", [
    ("withdrawn", "ritirata dall'autore"),
    ("submitted", "ancora in attesa di moderazione"),
    ("approved", "ha già una risposta"),
])
def test_answering_a_proposal_in_the_wrong_state_is_refused(client, people, pre_tavolo, make_proposal, audit_count,
                                                             state, message):
    proposal = make_proposal(pre_tavolo, state=state)
    client.login(people.facilitator)
    before = audit_count()

    for response in (client.get(answer_url(proposal)),
                     client.post(answer_url(proposal), data={"outcome": "rejected", "motivation": "No"}),
                     client.post(f"/facilitazione/proposte/{proposal.id}/valutazione")):
        assert response.status_code == 409 and message in text_of(response)
    db.session.refresh(proposal)
    assert proposal.state == state and audit_count() == before


@pytest.mark.parametrize("who, status", [
    ("anonymous", 302), ("author", 403), ("reader", 403), ("other_facilitator", 403),
])
def test_only_the_tavolo_facilitators_answer(client, people, post_tavolo, make_proposal, audit_count, who, status):
    proposal = make_proposal(post_tavolo)
    user = people.get(who)
    if user is not None:
        client.login(user)
    before = audit_count()

    for response in (client.get(answer_url(proposal)),
                     client.post(answer_url(proposal), data={"outcome": "approved", "motivation": "Sì"}),
                     client.post(f"/facilitazione/proposte/{proposal.id}/valutazione")):
        assert response.status_code == status
    db.session.refresh(proposal)
    assert proposal.state == "published" and audit_count() == before


def test_the_admin_answers_any_tavolo(client, people, other_tavolo, make_proposal):
    proposal = make_proposal(other_tavolo)
    client.login(people.admin)
    response = client.post(answer_url(proposal), data={"outcome": "partially_approved", "motivation": "In parte."})
    assert response.status_code == 302
    assert db.session.get(Proposal, proposal.id).state == "partially_approved"


# --------------------------------------------------------------------------- minutes decisions

@pytest.mark.parametrize("source, target", [
    ("approved", "rejected"), ("approved", "partially_approved"), ("rejected", "approved"),
    ("partially_approved", "rejected"), ("published", "approved"),
])
def test_a_minutes_decision_may_overturn_or_give_an_answer(app, people, post_tavolo, make_proposal, source, target):
    from consulta.core.db import utcnow

    proposal = make_proposal(post_tavolo, state=source)
    # As the minutes do: the decision's motivation becomes the answer.
    proposal.answer, proposal.answered_by_id, proposal.answered_at = "Dal verbale", people.facilitator.id, utcnow()

    PROPOSAL_TRANSITIONS.apply(proposal, target, people.facilitator, context={"answer": "Dal verbale"})
    db.session.commit()

    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "minutes.decision")).scalar_one()
    assert event.changes["state"] == [source, target]


def test_minutes_decision_rules(app, people, post_tavolo, other_tavolo, make_proposal):
    from consulta.core.states import TransitionError

    proposal = make_proposal(post_tavolo, state="approved")
    # Not to the same state, not without a motivation, not by someone else's facilitator.
    assert PROPOSAL_TRANSITIONS.find("approved", "approved") is None
    assert PROPOSAL_TRANSITIONS.find("withdrawn", "approved") is None
    assert PROPOSAL_TRANSITIONS.find("merged", "approved") is None
    with pytest.raises(TransitionError) as refused:
        PROPOSAL_TRANSITIONS.apply(proposal, "rejected", people.facilitator, context={"answer": " "})
    assert refused.value.status == 409
    with pytest.raises(TransitionError) as refused:
        PROPOSAL_TRANSITIONS.apply(proposal, "rejected", people.other_facilitator, context={"answer": "x"})
    assert refused.value.status == 403
    db.session.rollback()
