"""Contributions received off-line: a facilitator records a proposal received on paper, by e-mail or
at a meeting, on behalf of a verified organisation or a named citizen, with channel and protocol
number; it is marked as such everywhere and follows the same lifecycle."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.core.audit import AuditEvent
from consulta.extensions import db
from consulta.proposals.models import Proposal
from tests.moderation.helpers import text_of


def url(tavolo):
    return f"/facilitazione/tavoli/{tavolo.slug}/proposte/registra"


def valid(**changes):
    data = {"channel": "paper", "protocol_number": "2025/77", "presenter": "citizen",
            "author_name": "Giuseppina Verdi", "title": "Più ore di assistenza domiciliare",
            "body": "Scritta a mano e consegnata allo sportello del Comune."}
    data.update(changes)
    return data


def stored():
    return db.session.execute(select(Proposal)).scalars().all()


def test_a_paper_proposal_of_a_citizen_is_recorded_and_published(client, people, pre_tavolo):
    client.login(people.facilitator)
    page = text_of(client.get(url(pre_tavolo)))
    assert "Registra una proposta pervenuta fuori linea" in page and "Pervenuta in forma cartacea" in page

    response = client.post(url(pre_tavolo), data=valid())

    assert response.status_code == 302
    [proposal] = stored()
    assert (proposal.channel, proposal.protocol_number, proposal.author_name) == ("paper", "2025/77",
                                                                                  "Giuseppina Verdi")
    assert proposal.author_id is None and proposal.recorded_by_id == people.facilitator.id
    assert proposal.category == "citizen"
    # Recorded by a facilitator: published at once even in a pre-moderated tavolo.
    assert (proposal.state, proposal.visibility) == ("published", "visible")
    actions = db.session.execute(select(AuditEvent.action).where(AuditEvent.subject_id == proposal.id)
                                 .order_by(AuditEvent.id)).scalars().all()
    assert actions == ["proposal.record_offline", "proposal.publish"]
    client.logout()

    page = text_of(client.get(f"/proposte/{proposal.id}/"))
    assert "Pervenuta in forma cartacea — prot. n. 2025/77" in page and "Giuseppina Verdi" in page
    assert "Registrata da Fabio Facilitatore" in page
    listing = text_of(client.get(f"/tavoli/{pre_tavolo.slug}/"))
    assert "Pervenuta in forma cartacea — prot. n. 2025/77" in listing


def test_an_email_proposal_on_behalf_of_an_organisation(client, people, post_tavolo):
    client.login(people.facilitator)

    response = client.post(url(post_tavolo), data=valid(
        channel="email", protocol_number="PEC 991", presenter="organisation",
        organisation=str(people.organisation.id), author_name=""))

    assert response.status_code == 302
    [proposal] = stored()
    assert proposal.organisation_id == people.organisation.id and proposal.category == "volunteer"
    assert proposal.author_name is None
    page = text_of(client.get(f"/proposte/{proposal.id}/"))
    assert "Pervenuta per posta elettronica — prot. n. PEC 991" in page and "Auser Narni" in page


def test_a_meeting_proposal_needs_no_protocol_and_follows_the_same_lifecycle(client, people, post_tavolo):
    client.login(people.facilitator)
    client.post(url(post_tavolo), data=valid(channel="meeting", protocol_number=""))
    [proposal] = stored()
    assert proposal.protocol_number is None and proposal.offline_badge == "Presentata durante un incontro"

    response = client.post(f"/facilitazione/proposte/{proposal.id}/risposta",
                           data={"outcome": "approved", "motivation": "Accolta all'unanimità."})

    assert response.status_code == 302
    db.session.refresh(proposal)
    assert proposal.state == "approved"


@pytest.mark.parametrize("changes, message", [
    ({"channel": ""}, "Indica come è pervenuta la proposta."),
    ({"channel": "online"}, "Indica come è pervenuta la proposta."),
    ({"protocol_number": ""}, "Indica il numero di protocollo"),
    ({"protocol_number": "9" * 61}, "al massimo 60 caratteri"),
    ({"presenter": ""}, "Indica se la proposta è di un'organizzazione o di un cittadino."),
    ({"author_name": " "}, "Scrivi il nome di chi ha presentato la proposta."),
    ({"author_name": "N" * 121}, "al massimo 120 caratteri"),
    ({"presenter": "organisation", "organisation": ""}, "Scegli l'organizzazione"),
    ({"presenter": "organisation", "organisation": "999"}, "non esiste o non è verificata"),
    ({"title": ""}, "Scrivi il titolo della proposta."),
    ({"body": "x" * 20_001}, "Il testo può avere al massimo"),
])
def test_bad_input_keeps_the_form_and_stores_nothing(client, people, post_tavolo, audit_count, changes, message):
    client.login(people.facilitator)

    response = client.post(url(post_tavolo), data=valid(**changes))

    assert response.status_code == 400
    assert message in text_of(response)
    assert "Più ore di assistenza domiciliare" in response.get_data(as_text=True) or "title" in changes
    assert stored() == [] and audit_count() == 0


def test_an_unverified_organisation_cannot_be_chosen(client, people, post_tavolo, create_organisation):
    pending = create_organisation(name="In attesa di verifica", status="pending")
    client.login(people.facilitator)
    assert "In attesa di verifica" not in client.get(url(post_tavolo)).get_data(as_text=True)

    response = client.post(url(post_tavolo), data=valid(presenter="organisation", organisation=str(pending.id)))

    assert response.status_code == 400 and stored() == []


@pytest.mark.parametrize("who, status", [
    ("anonymous", 302), ("author", 403), ("representative", 403), ("other_facilitator", 403), ("admin", 302),
])
def test_who_records_off_line_proposals(client, people, post_tavolo, who, status):
    user = people.get(who)
    if user is not None:
        client.login(user)

    response = client.post(url(post_tavolo), data=valid())

    assert response.status_code == status
    assert len(stored()) == (1 if who == "admin" else 0)


def test_a_closed_tavolo_takes_no_recorded_proposals(client, people, create_tavolo):
    closed = create_tavolo(slug="chiuso", phase="closed", facilitators=[people.facilitator])
    client.login(people.facilitator)
    response = client.post(url(closed), data=valid())
    assert response.status_code == 409 and "non si possono registrare" in text_of(response)
    assert stored() == []
