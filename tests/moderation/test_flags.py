"""Flags: a verified participant reports a public proposal or comment once, with a reason;
enough distinct reports hide it provisionally in a post-moderated tavolo until a moderator decides."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.core.audit import AuditEvent
from consulta.extensions import db
from consulta.moderation.models import Flag
from tests.moderation.helpers import text_of


def flags_of(item):
    column = Flag.proposal_id if item.__tablename__ == "proposal" else Flag.comment_id
    return db.session.execute(select(Flag).where(column == item.id).order_by(Flag.id)).scalars().all()


def test_a_participant_flags_a_proposal_once(client, people, post_tavolo, make_proposal, audit_count):
    proposal = make_proposal(post_tavolo, title="Proposta discutibile")
    url = f"/proposte/{proposal.id}/segnala"
    client.login(people.reader)
    assert "Segnala un problema" in text_of(client.get(f"/proposte/{proposal.id}/"))
    page = text_of(client.get(url))
    assert "Segnala la proposta" in page and "Contiene dati personali di terzi" in page

    response = client.post(url, data={"reason": "offensive", "note": "Insulta un'associazione."})

    assert response.status_code == 302 and response.headers["Location"] == f"/proposte/{proposal.id}/"
    [flag] = flags_of(proposal)
    assert (flag.reporter_id, flag.reason, flag.note, flag.resolved_at) == (
        people.reader.id, "offensive", "Insulta un'associazione.", None)
    assert flag.tavolo_id == post_tavolo.id
    page = text_of(client.get(f"/proposte/{proposal.id}/"))
    assert "Grazie: la segnalazione è arrivata ai facilitatori del tavolo." in page
    assert "Hai segnalato questa proposta ai facilitatori." in page

    # Twice: refused, nothing stored, no audit row.
    before = audit_count()
    response = client.post(url, data={"reason": "spam"})
    assert response.status_code == 409 and "Hai già segnalato questo contenuto" in text_of(response)
    assert client.get(url).status_code == 409
    assert len(flags_of(proposal)) == 1 and audit_count() == before


def test_a_flag_needs_a_reason_and_other_needs_words(client, people, post_tavolo, make_proposal):
    proposal = make_proposal(post_tavolo)
    url = f"/proposte/{proposal.id}/segnala"
    client.login(people.reader)

    response = client.post(url, data={})
    assert response.status_code == 400 and "Scegli il motivo della segnalazione." in text_of(response)
    response = client.post(url, data={"reason": "other", "note": "  "})
    assert response.status_code == 400 and "Spiega in breve il motivo della segnalazione." in text_of(response)
    response = client.post(url, data={"reason": "spam", "note": "y" * 501})
    assert response.status_code == 400 and "al massimo 500 caratteri" in text_of(response)
    response = client.post(url, data={"reason": "invented"})
    assert response.status_code == 400
    assert flags_of(proposal) == []

    assert client.post(url, data={"reason": "other", "note": "Testo copiato da un sito."}).status_code == 302
    assert flags_of(proposal)[0].note == "Testo copiato da un sito."


@pytest.mark.parametrize("who, status", [
    ("anonymous", 302), ("unverified", 403), ("blocked", 403), ("author", 409),
])
def test_who_may_not_flag(client, people, post_tavolo, make_proposal, who, status):
    proposal = make_proposal(post_tavolo)
    user = people.get(who)
    if user is not None:
        client.login(user)

    response = client.post(f"/proposte/{proposal.id}/segnala", data={"reason": "spam"})

    assert response.status_code == status
    if status == 302:
        assert "/accedi" in response.headers["Location"]
    assert flags_of(proposal) == []


def test_flagging_content_that_is_not_public_is_refused(client, people, pre_tavolo, post_tavolo, make_proposal,
                                                        create_comment):
    pending = make_proposal(pre_tavolo, state="submitted")
    hidden = make_proposal(post_tavolo, visibility="hidden", hide_reason="spam")
    withdrawn = make_proposal(post_tavolo, state="withdrawn")
    client.login(people.reader)

    assert client.post(f"/proposte/{pending.id}/segnala", data={"reason": "spam"}).status_code == 404
    response = client.post(f"/proposte/{hidden.id}/segnala", data={"reason": "spam"})
    assert response.status_code == 409 and "già nascosto" in text_of(response)
    response = client.post(f"/proposte/{withdrawn.id}/segnala", data={"reason": "spam"})
    assert response.status_code == 409 and "ritirata" in text_of(response)


def test_enough_flags_hide_a_comment_provisionally_in_a_post_tavolo(
        app, client, people, post_tavolo, make_proposal, create_comment, create_user, notifications):
    proposal = make_proposal(post_tavolo)
    comment = create_comment(proposal, people.author, body="Parole offensive verso il vicino")
    reporters = [people.reader, people.representative, create_user(email="terza@example.org")]
    assert app.config["FLAGS_TO_HIDE"] == 3

    for n, reporter in enumerate(reporters, start=1):
        client.login(reporter)
        response = client.post(f"/commenti/{comment.id}/segnala", data={"reason": "offensive"})
        assert response.status_code == 302
        db.session.refresh(comment)
        assert comment.visibility == ("hidden" if n == 3 else "visible")
        client.logout()

    # The system's reason is stored as a key, said in the reader's language.
    assert comment.hidden_by_flags and comment.hidden_reason == "moderation.flags:3"
    assert comment.hidden_reason_text == "in attesa di revisione dopo 3 segnalazioni"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "comment.hide")).scalar_one()
    assert event.actor_id is None and event.changes["automatic"] is True and event.changes["flags"] == 3
    assert (event.reason, event.reason_key) == (None, "moderation.flags:3")
    assert event.tavolo_id == post_tavolo.id
    [note] = notifications("comment.hidden")
    assert note.user_id == people.author.id

    public = text_of(client.get(f"/proposte/{proposal.id}/"))
    assert "Parole offensive" not in public
    assert "Nascosto in attesa di revisione dei facilitatori, dopo le segnalazioni dei partecipanti." in public
    client.login(people.author)
    assert "Parole offensive" in text_of(client.get(f"/proposte/{proposal.id}/"))
    client.logout()

    # The moderator sees it in the queue as hidden pending review, and restores it.
    client.login(people.facilitator)
    queue = text_of(client.get("/facilitazione/moderazione/"))
    assert "Nascosto in attesa di revisione" in queue and "3 segnalazioni" in queue
    assert client.post(f"/facilitazione/moderazione/commenti/{comment.id}/ripristina").status_code == 302
    db.session.refresh(comment)
    assert (comment.visibility, comment.hidden_by_flags) == ("visible", False)
    assert {f.resolution for f in flags_of(comment)} == {"dismissed"}
    assert all(f.resolved_by_id == people.facilitator.id for f in flags_of(comment))
    assert "Coda vuota" in text_of(client.get("/facilitazione/moderazione/"))


def test_the_moderator_confirms_a_provisional_hide_with_a_reason(
        app, client, people, post_tavolo, make_proposal, create_flag, create_user):
    app.config["FLAGS_TO_HIDE"] = 2
    try:
        proposal = make_proposal(post_tavolo, title="Con un indirizzo")
        create_flag(proposal, people.reader, reason="personal_data")
        client.login(people.representative)
        client.post(f"/proposte/{proposal.id}/segnala", data={"reason": "personal_data"})
    finally:
        app.config["FLAGS_TO_HIDE"] = 3
    db.session.refresh(proposal)
    assert proposal.visibility == "hidden" and proposal.hidden_by_flags
    client.logout()
    assert "Nascosta in attesa di revisione" in text_of(client.get(f"/proposte/{proposal.id}/"))

    client.login(people.facilitator)
    response = client.post(f"/facilitazione/moderazione/proposte/{proposal.id}/nascondi",
                           data={"reason": "personal_data"})
    assert response.status_code == 302
    db.session.refresh(proposal)
    assert proposal.visibility == "hidden" and not proposal.hidden_by_flags
    assert (proposal.hidden_reason, proposal.hidden_note) == ("moderation.personal_data", None)
    assert proposal.hidden_reason_text == "contiene dati personali di terzi"
    assert {f.resolution for f in flags_of(proposal)} == {"upheld"}
    confirmed = db.session.execute(
        select(AuditEvent).where(AuditEvent.action == "proposal.hide_confirmed")).scalar_one()
    assert confirmed.reason_key == "moderation.personal_data" and confirmed.reason is None
    assert confirmed.reason_text == "contiene dati personali di terzi"
    assert confirmed.changes == {"hidden_reason": ["moderation.flags:2", "moderation.personal_data"]}
    # Hiding again what a moderator already hid is a conflict.
    response = client.post(f"/facilitazione/moderazione/proposte/{proposal.id}/nascondi", data={"reason": "spam"})
    assert response.status_code == 409 and "già nascosto" in text_of(response)


def test_flags_in_a_pre_tavolo_go_to_the_queue_without_hiding(
        app, client, people, pre_tavolo, make_proposal, create_flag, create_user):
    proposal = make_proposal(pre_tavolo)
    create_flag(proposal, people.reader)
    create_flag(proposal, people.representative)
    client.login(create_user(email="terza@example.org"))

    client.post(f"/proposte/{proposal.id}/segnala", data={"reason": "offensive"})

    db.session.refresh(proposal)
    assert proposal.visibility == "visible"
    client.logout()
    client.login(people.facilitator)
    assert "Segnalato" in text_of(client.get("/facilitazione/moderazione/"))
    # Kept online: the flags are closed as dismissed and the act is audited.
    assert client.post(f"/facilitazione/moderazione/proposte/{proposal.id}/mantieni",
                       data={"note": "Critica legittima"}).status_code == 302
    assert {f.resolution for f in flags_of(proposal)} == {"dismissed"}
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "proposal.flags_dismissed")).scalar_one()
    assert event.changes == {"flags": 3} and event.reason == "Critica legittima"
    response = client.post(f"/facilitazione/moderazione/proposte/{proposal.id}/mantieni")
    assert response.status_code == 409 and "Non ci sono segnalazioni" in text_of(response)


def test_the_thread_offers_to_flag_each_comment_once(client, people, post_tavolo, make_proposal, create_comment,
                                                    create_flag):
    proposal = make_proposal(post_tavolo)
    first = create_comment(proposal, people.author, body="Primo")
    second = create_comment(proposal, people.representative, body="Secondo")
    create_flag(first, people.reader)
    own = create_comment(proposal, people.reader, body="Mio")
    client.login(people.reader)

    html = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)

    assert f"/commenti/{second.id}/segnala" in html
    assert f"/commenti/{first.id}/segnala" not in html and "Hai segnalato questo commento" in html
    assert f"/commenti/{own.id}/segnala" not in html


def test_the_database_refuses_a_second_flag_by_the_same_person(app, people, post_tavolo, make_proposal):
    """The unique constraint is what settles two identical requests arriving together."""
    from sqlalchemy.exc import IntegrityError

    proposal = make_proposal(post_tavolo)
    db.session.add(Flag(tavolo_id=post_tavolo.id, proposal_id=proposal.id, reporter_id=people.reader.id,
                        reason="spam"))
    db.session.commit()
    db.session.add(Flag(tavolo_id=post_tavolo.id, proposal_id=proposal.id, reporter_id=people.reader.id,
                        reason="offensive"))
    with pytest.raises(IntegrityError):
        db.session.commit()
    db.session.rollback()
    assert len(flags_of(proposal)) == 1
