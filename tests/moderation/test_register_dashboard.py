"""The response register (controdeduzioni) on the tavolo page and the dashboard; closing a tavolo
with unanswered proposals is refused unless an admin overrides with a recorded reason; the
facilitator dashboard counts in SQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.core.audit import AuditEvent
from consulta.extensions import db
from tests.moderation.helpers import text_of


def phase_url(tavolo):
    return f"/facilitazione/tavoli/{tavolo.slug}/fase"


@pytest.fixture
def discussing(create_tavolo, people, make_proposal):
    """A pre-moderated tavolo in discussion: 2 proposals answered, 2 waiting; hidden, withdrawn and
    unapproved ones do not count."""
    tavolo = create_tavolo(slug="discussione", title="Povertà", phase="discussion", moderation="pre",
                           facilitators=[people.facilitator])
    make_proposal(tavolo, title="Accolta", state="approved")
    make_proposal(tavolo, title="Respinta", state="rejected")
    make_proposal(tavolo, title="In valutazione", state="under_review")
    make_proposal(tavolo, title="Pubblicata")
    make_proposal(tavolo, title="Nascosta", visibility="hidden", hide_reason="spam")
    make_proposal(tavolo, title="Ritirata", state="withdrawn")
    make_proposal(tavolo, title="In attesa", state="submitted")
    return tavolo


def test_the_tavolo_page_shows_the_response_register(client, discussing):
    page = text_of(client.get(f"/tavoli/{discussing.slug}/"))
    assert "Risposte alle proposte" in page
    assert "Con risposta: 2 su 4 proposte (50%)" in page
    assert "2 proposte attendono ancora una risposta." in page
    html = client.get(f"/tavoli/{discussing.slug}/").get_data(as_text=True)
    assert '<progress class="register-progress" max="4" value="2"' in html


def test_closing_with_unanswered_proposals_is_refused(client, people, discussing, audit_count):
    client.login(people.facilitator)
    page = text_of(client.get(f"/tavoli/{discussing.slug}/"))
    assert "Per chiudere il tavolo manca la risposta a 2 proposte." in page
    assert "Chiudi comunque" not in page  # only the Ufficio di Piano may override
    before = audit_count()

    response = client.post(phase_url(discussing), data={"target": "closed"})
    assert response.status_code == 409
    assert "Il tavolo ha ancora 2 proposte senza risposta" in text_of(response)
    response = client.post(phase_url(discussing), data={"target": "closed", "override": "1", "reason": "Fretta"})
    assert response.status_code == 403 and "Solo l'Ufficio di Piano" in text_of(response)

    db.session.refresh(discussing)
    assert discussing.phase == "discussion" and audit_count() == before


def test_an_admin_closes_anyway_with_a_recorded_reason(client, people, discussing, audit_count):
    client.login(people.admin)
    assert "Chiudi comunque (Ufficio di Piano)" in text_of(client.get(f"/tavoli/{discussing.slug}/"))
    before = audit_count()

    response = client.post(phase_url(discussing), data={"target": "closed"})
    assert response.status_code == 409
    response = client.post(phase_url(discussing), data={"target": "closed", "override": "1", "reason": "  "})
    assert response.status_code == 400 and "Indica il motivo" in text_of(response)
    assert audit_count() == before

    response = client.post(phase_url(discussing), data={
        "target": "closed", "override": "1", "reason": "Scadenza della delibera di adozione del Piano."})

    assert response.status_code == 302
    db.session.refresh(discussing)
    assert discussing.phase == "closed"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "tavolo.close")).scalar_one()
    assert event.reason == "Scadenza della delibera di adozione del Piano."
    assert event.changes == {"phase": ["discussion", "closed"], "unanswered": 2, "override": True}
    assert event.actor_id == people.admin.id


def test_once_every_proposal_has_an_answer_the_facilitator_closes(client, people, discussing):
    client.login(people.facilitator)
    from consulta.proposals.models import Proposal

    waiting = db.session.execute(select(Proposal).where(Proposal.title.in_(["In valutazione", "Pubblicata"]))
                                 ).scalars().all()
    for proposal in waiting:
        client.post(f"/facilitazione/proposte/{proposal.id}/risposta",
                    data={"outcome": "rejected", "motivation": "Fuori dalle competenze del Piano."})
    page = text_of(client.get(f"/tavoli/{discussing.slug}/"))
    assert "Con risposta: 4 su 4 proposte (100%)" in page and "Tutte le proposte hanno ricevuto una risposta." in page

    response = client.post(phase_url(discussing), data={"target": "closed"})

    assert response.status_code == 302
    db.session.refresh(discussing)
    assert discussing.phase == "closed"
    event = db.session.execute(select(AuditEvent).where(AuditEvent.action == "tavolo.close")).scalar_one()
    assert event.changes == {"phase": ["discussion", "closed"]}


def test_the_tavolo_page_shows_the_latest_moderation_acts(client, people, post_tavolo, make_proposal):
    from consulta.core import audit

    proposal = make_proposal(post_tavolo, title="Molto moderata")
    for n in range(7):
        audit.record(people.facilitator, "proposal.restore", proposal, {}, reason=f"Nota {n}")
    db.session.commit()

    page = text_of(client.get(f"/tavoli/{post_tavolo.slug}/"))

    assert "Registro di moderazione" in page
    assert "Nota 6" in page and "Nota 2" in page and "Nota 1" not in page
    html = client.get(f"/tavoli/{post_tavolo.slug}/").get_data(as_text=True)
    assert f'href="/tavoli/{post_tavolo.slug}/registro-moderazione"' in html


def test_the_dashboard_counts_per_tavolo(client, people, pre_tavolo, post_tavolo, other_tavolo, make_proposal,
                                         create_comment, create_flag):
    make_proposal(pre_tavolo, title="In attesa 1", state="submitted")
    make_proposal(pre_tavolo, title="In attesa 2", state="submitted")
    published = make_proposal(pre_tavolo, title="Senza risposta")
    create_comment(published, people.reader, visibility="pending")
    flagged = make_proposal(post_tavolo, title="Segnalata", state="approved")
    create_flag(flagged, people.reader)
    create_flag(flagged, people.representative)  # two flags, one item
    make_proposal(other_tavolo, title="Di altri", state="submitted")
    client.login(people.facilitator)

    html = client.get("/facilitazione/").get_data(as_text=True)
    page = text_of(client.get("/facilitazione/"))

    assert "3 contributi in attesa di approvazione" in page and "1 contributo segnalato" in page
    rows = html.split('class="dashboard-row"')
    pre_row = next(r for r in rows if pre_tavolo.title in r)
    post_row = next(r for r in rows if post_tavolo.title in r)
    def cell(row, label):
        return row.split(f'data-label="{label}"')[1].split("</td>")[0]

    assert '"dashboard-number">3<' in cell(pre_row, "Da moderare") and "3 in attesa · 0 segnalati" in pre_row
    assert '"dashboard-number">1<' in cell(pre_row, "Senza risposta")
    assert "0 in attesa · 1 segnalati" in post_row and '"dashboard-number">0<' in cell(post_row, "Senza risposta")
    assert '<dt>Giorni alla scadenza</dt><dd>14</dd>' in pre_row
    assert "<dt>Ultima attività</dt>" in pre_row and "nessuna" not in pre_row
    assert "Di altri" not in html


def test_the_dashboard_costs_the_same_queries_for_few_or_many_tavoli(
        client, people, create_tavolo, make_proposal, create_comment, create_flag, count_queries):
    def fill(n):
        for i in range(n):
            tavolo = create_tavolo(title=f"Tavolo {n}-{i}", moderation="pre", facilitators=[people.facilitator])
            proposal = make_proposal(tavolo, title=f"P{n}-{i}")
            create_flag(proposal, people.reader)
            create_comment(proposal, people.reader, visibility="pending")

    client.login(people.facilitator)
    fill(2)
    client.get("/facilitazione/")
    with count_queries() as few:
        client.get("/facilitazione/")
    fill(15)
    with count_queries() as many:
        assert client.get("/facilitazione/").status_code == 200
    assert many.count == few.count


def test_the_queue_costs_the_same_queries_for_few_or_many_items(
        client, people, post_tavolo, pre_tavolo, make_proposal, create_comment, create_flag, count_queries):
    def fill(n):
        for i in range(n):
            make_proposal(pre_tavolo, title=f"Attesa {n}-{i}", state="submitted")
            flagged = make_proposal(post_tavolo, title=f"Segnalata {n}-{i}")
            create_flag(flagged, people.reader)
            create_comment(make_proposal(pre_tavolo, title=f"Commentata {n}-{i}"), people.author,
                           visibility="pending")

    client.login(people.facilitator)
    fill(2)
    client.get("/facilitazione/moderazione/")
    with count_queries() as few:
        client.get("/facilitazione/moderazione/")
    fill(12)
    with count_queries() as many:
        assert client.get("/facilitazione/moderazione/").status_code == 200
    assert many.count == few.count
