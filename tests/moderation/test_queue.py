"""The moderation queue: pending and flagged items, oldest first; approve, hide with a reason,
restore; bulk actions; the author is told; every act is audited with its tavolo."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from consulta.core.audit import AuditEvent
from consulta.extensions import db
from consulta.proposals.models import Proposal
from consulta.proposals.operations import withdraw_proposal
from tests.moderation.helpers import text_of

QUEUE = "/facilitazione/moderazione/"


def test_a_pending_proposal_waits_in_the_queue_and_the_facilitator_approves_it(
        client, people, pre_tavolo, audit_count, notifications):
    client.login(people.author)
    response = client.post(f"/tavoli/{pre_tavolo.slug}/proposte/nuova",
                           data={"title": "Doposcuola nei comuni piccoli", "body": "Un doposcuola a Otricoli."})
    proposal_id = int(re.search(r"/proposte/(\d+)/", response.headers["Location"]).group(1))
    client.logout()
    # Nobody but the author and the moderators sees it yet.
    client.login(people.reader)
    assert client.get(f"/proposte/{proposal_id}/").status_code == 404
    client.logout()

    client.login(people.facilitator)
    page = text_of(client.get(QUEUE))
    assert "Doposcuola nei comuni piccoli" in page and "In attesa di moderazione" in page
    assert "Anna Autrice" in page and "A titolo personale" in page and "Minori e famiglie" in page
    assert "1 in attesa" in page

    response = client.post(f"/facilitazione/moderazione/proposte/{proposal_id}/approva", data={"next": QUEUE})
    assert response.status_code == 302 and response.headers["Location"] == QUEUE
    proposal = db.session.get(Proposal, proposal_id)
    assert (proposal.state, proposal.visibility) == ("published", "visible")
    assert proposal.published_at is not None
    events = db.session.execute(select(AuditEvent).where(AuditEvent.subject_id == proposal_id,
                                                         AuditEvent.subject_type == "proposal")
                                .order_by(AuditEvent.id)).scalars().all()
    assert [e.action for e in events] == ["proposal.submit", "proposal.publish", "proposal.approve"]
    assert all(e.tavolo_id == pre_tavolo.id for e in events)
    assert events[-1].actor_id == people.facilitator.id
    [note] = notifications("proposal.approved_for_publication")
    assert note.user_id == people.author.id and note.data["title"] == "Doposcuola nei comuni piccoli"
    assert "Coda vuota" in text_of(client.get(QUEUE))

    client.logout()
    assert client.get(f"/proposte/{proposal_id}/").status_code == 200


def test_the_queue_lists_pending_and_flagged_items_oldest_first(
        client, people, pre_tavolo, post_tavolo, make_proposal, create_comment, create_flag):
    old = make_proposal(pre_tavolo, title="Vecchia in attesa", state="submitted", created_minutes_ago=60 * 24 * 3)
    new = make_proposal(pre_tavolo, title="Nuova in attesa", state="submitted", created_minutes_ago=5)
    public = make_proposal(post_tavolo, title="Pubblica segnalata", created_minutes_ago=60 * 24 * 10)
    create_flag(public, people.reader, reason="personal_data", note="C'è il nome di un minore", minutes_ago=60 * 24)
    create_flag(public, people.representative, reason="personal_data", minutes_ago=60)
    waiting_comment = create_comment(make_proposal(pre_tavolo, title="Con commento"), people.reader,
                                     body="Commento in attesa", visibility="pending", created_minutes_ago=120)
    # Not in the queue: published without flags, withdrawn, a deleted comment.
    make_proposal(post_tavolo, title="Tranquilla")
    withdrawn = make_proposal(post_tavolo, title="Ritirata segnalata")
    create_flag(withdrawn, people.reader)
    withdraw_proposal(withdrawn, withdrawn.author)  # flagged, then withdrawn by its author
    db.session.commit()

    client.login(people.facilitator)
    html = client.get(QUEUE).get_data(as_text=True)
    order = [m.group(1) for m in re.finditer(r'id="voce-([pc]-\d+)"', html)]
    assert order == [f"p-{old.id}", f"p-{public.id}", f"c-{waiting_comment.id}", f"p-{new.id}"]
    page = text_of(client.get(QUEUE))
    assert "3 giorni" in page and "Segnalato" in page
    assert "2 segnalazioni" in page and "Contiene dati personali di terzi: C'è il nome di un minore" in page
    assert "3 in attesa" in page and "1 segnalato" in page
    assert "Tranquilla" not in page and "Ritirata segnalata" not in page

    # One tavolo only.
    page = text_of(client.get(f"{QUEUE}{post_tavolo.slug}/"))
    assert "Pubblica segnalata" in page and "Vecchia in attesa" not in page
    assert client.get(f"{QUEUE}?tavolo={post_tavolo.slug}").headers["Location"] == f"{QUEUE}{post_tavolo.slug}/"


def test_each_facilitator_sees_only_their_tavoli_and_admins_see_all(
        client, people, pre_tavolo, other_tavolo, make_proposal):
    make_proposal(pre_tavolo, title="Del mio tavolo", state="submitted")
    make_proposal(other_tavolo, title="Di un altro tavolo", state="submitted")

    client.login(people.other_facilitator)
    page = text_of(client.get(QUEUE))
    assert "Di un altro tavolo" in page and "Del mio tavolo" not in page
    assert client.get(f"{QUEUE}{pre_tavolo.slug}/").status_code == 403
    client.logout()

    client.login(people.admin)
    page = text_of(client.get(QUEUE))
    assert "Di un altro tavolo" in page and "Del mio tavolo" in page


def test_hiding_needs_a_reason_and_shows_a_public_placeholder(
        client, people, post_tavolo, make_proposal, audit_count, notifications):
    proposal = make_proposal(post_tavolo, title="Con dati di terzi", body="Il signor Mario Rossi di via Roma 3.")
    url = f"/facilitazione/moderazione/proposte/{proposal.id}/nascondi"
    client.login(people.facilitator)
    page = text_of(client.get(url))
    assert "Il signor Mario Rossi" in page and "Contiene dati personali di terzi" in page
    before = audit_count()

    response = client.post(url, data={"note": "Qualcosa"})
    assert response.status_code == 400
    assert "Scegli il motivo per cui nascondi il contenuto." in text_of(response)
    assert "Qualcosa" in response.get_data(as_text=True)  # the input is kept
    response = client.post(url, data={"reason": "made_up"})
    assert response.status_code == 400
    response = client.post(url, data={"reason": "personal_data", "note": "x" * 401})
    assert response.status_code == 400 and "al massimo 400 caratteri" in text_of(response)
    db.session.refresh(proposal)
    assert proposal.visibility == "visible" and audit_count() == before

    response = client.post(url, data={"reason": "personal_data", "note": "Indirizzo privato."})
    assert response.status_code == 302
    db.session.refresh(proposal)
    assert proposal.visibility == "hidden"
    # The reason is a key, said in the reader's language; the moderator's words are kept as written.
    assert (proposal.hidden_reason, proposal.hidden_note) == ("moderation.personal_data", "Indirizzo privato.")
    assert proposal.hidden_reason_text == "contiene dati personali di terzi. Indirizzo privato."
    [event] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "proposal.hide")).scalars().all()
    assert event.tavolo_id == post_tavolo.id and event.changes == {"visibility": ["visible", "hidden"]}
    assert (event.reason_key, event.reason) == ("moderation.personal_data", "Indirizzo privato.")
    assert event.reason_text == proposal.hidden_reason_text
    [note] = notifications("proposal.hidden")
    assert note.user_id == people.author.id
    assert (note.data["reason_key"], note.data["reason"]) == ("moderation.personal_data", "Indirizzo privato.")
    client.logout()

    public = text_of(client.get(f"/proposte/{proposal.id}/"))
    assert "Mario Rossi" not in public and "Con dati di terzi" not in public
    assert "Nascosta dal moderatore" in public and "contiene dati personali di terzi. Indirizzo privato." in public
    listing = text_of(client.get(f"/tavoli/{post_tavolo.slug}/"))
    assert "Proposta nascosta dal moderatore" in listing and "Con dati di terzi" not in listing

    client.login(people.author)
    own = text_of(client.get(f"/proposte/{proposal.id}/"))
    assert "Mario Rossi" in own and "Vedi il testo perché sei l'autore" in own


def test_a_hidden_item_is_restored(client, people, post_tavolo, make_proposal, create_comment, notifications):
    proposal = make_proposal(post_tavolo, visibility="hidden", hide_reason="off_topic")
    comment = create_comment(proposal, people.reader, body="Un commento nascosto", visibility="hidden")
    client.login(people.facilitator)

    assert client.post(f"/facilitazione/moderazione/proposte/{proposal.id}/ripristina").status_code == 302
    assert client.post(f"/facilitazione/moderazione/commenti/{comment.id}/ripristina",
                       data={"note": "Era in tema"}).status_code == 302

    db.session.refresh(proposal)
    db.session.refresh(comment)
    assert (proposal.visibility, proposal.hidden_reason) == ("visible", None)
    assert (comment.visibility, comment.hidden_reason) == ("visible", None)
    restore = db.session.execute(select(AuditEvent).where(AuditEvent.action == "comment.restore")).scalar_one()
    assert restore.reason == "Era in tema" and restore.tavolo_id == post_tavolo.id
    assert [n.user_id for n in notifications("proposal.restored")] == [people.author.id]
    assert [n.user_id for n in notifications("comment.restored")] == [people.reader.id]
    # Restoring what is not hidden is a conflict.
    response = client.post(f"/facilitazione/moderazione/proposte/{proposal.id}/ripristina")
    assert response.status_code == 409 and "non è nascosto" in text_of(response)


def test_a_pending_comment_is_approved_and_its_followers_are_told(
        client, people, pre_tavolo, make_proposal, create_comment, create_follow, notifications):
    proposal = make_proposal(pre_tavolo)
    create_follow(people.representative, proposal=proposal)
    comment = create_comment(proposal, people.reader, body="Sono d'accordo", visibility="pending")
    client.login(people.facilitator)

    response = client.post(f"/facilitazione/moderazione/commenti/{comment.id}/approva")
    assert response.status_code == 302
    db.session.refresh(comment)
    assert comment.visibility == "visible"
    assert [n.user_id for n in notifications("comment.approved")] == [people.reader.id]
    assert people.representative.id in [n.user_id for n in notifications("comment.created")]
    response = client.post(f"/facilitazione/moderazione/commenti/{comment.id}/approva")
    assert response.status_code == 409 and "non è in attesa" in text_of(response)


def test_bulk_approve_and_bulk_hide_with_one_reason(client, people, pre_tavolo, make_proposal, create_comment,
                                                    audit_count):
    proposals = [make_proposal(pre_tavolo, title=f"In attesa {n}", state="submitted") for n in range(3)]
    comment = create_comment(make_proposal(pre_tavolo), people.reader, body="Spam spam", visibility="pending")
    spam = make_proposal(pre_tavolo, title="Pubblicità", state="submitted")
    client.login(people.facilitator)
    tokens = [f"p-{p.id}" for p in proposals]

    response = client.post("/facilitazione/moderazione/azioni",
                           data={"items": tokens, "bulk_action": "approve", "next": QUEUE})
    assert response.status_code == 302
    assert "3 contenuti approvati e pubblicati." in text_of(client.get(QUEUE))
    for p in proposals:
        db.session.refresh(p)
        assert (p.state, p.visibility) == ("published", "visible")

    before = audit_count()
    response = client.post("/facilitazione/moderazione/azioni",
                           data={"items": [f"c-{comment.id}", f"p-{spam.id}"], "bulk_action": "hide"})
    assert response.status_code == 400
    assert "Per nascondere scegli il motivo dall'elenco." in text_of(response)
    response = client.post("/facilitazione/moderazione/azioni", data={"bulk_action": "hide", "bulk_reason": "spam"})
    assert response.status_code == 400 and "Seleziona almeno un contenuto" in text_of(response)
    response = client.post("/facilitazione/moderazione/azioni",
                           data={"items": ["p-abc"], "bulk_action": "hide", "bulk_reason": "spam"})
    assert response.status_code == 400
    assert audit_count() == before

    response = client.post("/facilitazione/moderazione/azioni",
                           data={"items": [f"c-{comment.id}", f"p-{spam.id}", f"p-{proposals[0].id}"],
                                 "bulk_action": "hide", "bulk_reason": "spam", "bulk_note": "Pubblicità"})
    assert response.status_code == 302
    db.session.refresh(comment)
    db.session.refresh(spam)
    assert comment.visibility == "hidden" and comment.hidden_reason_text == "spam o pubblicità. Pubblicità"
    assert spam.visibility == "hidden" and spam.state == "submitted"
    page = text_of(client.get(QUEUE))
    assert "3 contenuti nascosti." in page  # the published one can be hidden too


def test_bulk_on_an_item_of_another_tavolo_changes_nothing(client, people, pre_tavolo, other_tavolo, make_proposal,
                                                           audit_count):
    mine = make_proposal(pre_tavolo, state="submitted")
    theirs = make_proposal(other_tavolo, state="submitted")
    client.login(people.facilitator)
    before = audit_count()

    response = client.post("/facilitazione/moderazione/azioni",
                           data={"items": [f"p-{mine.id}", f"p-{theirs.id}"], "bulk_action": "approve"})

    assert response.status_code == 403
    db.session.refresh(mine)
    assert mine.state == "submitted" and audit_count() == before


@pytest.mark.parametrize("kind", ["proposte", "commenti"])
def test_hiding_an_item_its_author_removed_is_refused(client, people, post_tavolo, make_proposal, create_comment,
                                                      audit_count, kind):
    from consulta.core.db import utcnow

    if kind == "proposte":
        item = make_proposal(post_tavolo, state="withdrawn")
        message = "La proposta è stata ritirata dall'autore"
    else:
        item = create_comment(make_proposal(post_tavolo), people.reader)
        item.deleted_at = utcnow()
        db.session.commit()
        message = "Il commento è stato eliminato dall'autore"
    client.login(people.facilitator)
    before = audit_count()

    response = client.post(f"/facilitazione/moderazione/{kind}/{item.id}/nascondi", data={"reason": "spam"})

    assert response.status_code == 409 and message in text_of(response)
    db.session.refresh(item)
    assert item.visibility == "visible" and audit_count() == before


def test_a_hidden_pending_proposal_is_published_when_restored(client, people, pre_tavolo, make_proposal,
                                                             notifications):
    proposal = make_proposal(pre_tavolo, state="submitted")
    client.login(people.facilitator)
    client.post(f"/facilitazione/moderazione/proposte/{proposal.id}/nascondi", data={"reason": "duplicate"})
    db.session.refresh(proposal)
    assert (proposal.state, proposal.visibility) == ("submitted", "hidden")
    client.logout()
    assert client.get(f"/proposte/{proposal.id}/").status_code == 404  # never published: not even a placeholder

    client.login(people.facilitator)
    client.post(f"/facilitazione/moderazione/proposte/{proposal.id}/ripristina")
    db.session.refresh(proposal)
    assert (proposal.state, proposal.visibility) == ("published", "visible")
    assert [n.user_id for n in notifications("proposal.approved_for_publication")] == [people.author.id]
