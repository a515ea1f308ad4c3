"""In a real browser: the facilitator convenes a meeting, writes and approves its minutes,
and the decisions reach proposals, public page and followers."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from playwright.sync_api import expect
from sqlalchemy import select

from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.meetings.models import Meeting, Minutes
from consulta.proposals.models import Proposal
from consulta.tavoli.models import Follow

pytestmark = pytest.mark.browser


def tick(pg, text):
    """Tick a Bootstrap Italia checkbox or radio by clicking its visible label, as a person does."""
    label = pg.locator("label.form-check-label", has_text=text)
    label.click()
    expect(pg.locator(f"#{label.get_attribute('for')}")).to_be_checked()
ROME = ZoneInfo("Europe/Rome")


@pytest.fixture
def stage(table, facilitator, create_seat, create_proposal, citizen, create_user):
    auser = create_seat(table, name="Auser Narni", with_substitute=True)
    cgil = create_seat(table, name="CGIL Terni", type="union")
    centro = create_proposal(table, citizen, title="Centro diurno a Narni")
    trasporto = create_proposal(table, citizen, title="Trasporto sociale serale")
    follower = create_user(email="segue@example.org", display_name="Sara Segue")
    db.session.add(Follow(user_id=follower.id, tavolo_id=table.id))
    db.session.commit()
    return {"auser": auser, "cgil": cgil, "centro": centro, "trasporto": trasporto, "follower": follower}


def test_the_facilitator_runs_a_meeting_from_convocation_to_approved_minutes(
        page, axe, login_page, table, facilitator, stage, smtp_sink, citizen, deliver_outbox):
    login_page(page, facilitator)

    # 1. Convene the meeting: the convocation with its .ics reaches delegates and substitute.
    page.goto(f"/facilitazione/tavoli/{table.slug}/incontri/nuovo")
    day = (datetime.now(ROME) + timedelta(days=5)).date()
    page.get_by_label("Titolo dell'incontro").fill("Incontro sulla domiciliarità")
    page.locator("#day").fill(day.isoformat())
    page.get_by_label("Ora di inizio").fill("17:30")
    page.locator("#place").fill("Sala consiliare, Narni")
    page.get_by_label("Ordine del giorno").fill("- Centro diurno\n- Trasporto sociale")
    tick(page, "Centro diurno a Narni")
    tick(page, "Trasporto sociale serale")
    page.get_by_role("button", name="Convoca e invia le convocazioni").click()
    page.wait_for_url(re.compile(r"/incontri/\d+/$"))
    assert "Convocazione in invio per e-mail a 3 persone" in page.content()
    deliver_outbox()
    messages = smtp_sink.wait_for(3)
    assert all(any(p.get_content_type() == "text/calendar" for p in m.walk()) for m in messages)
    axe(page)

    # 2. The meeting takes place (time moves on).
    meeting = db.session.execute(select(Meeting)).scalar_one()
    meeting.starts_at = meeting.starts_at - timedelta(days=6)
    db.session.commit()
    page.reload()
    page.get_by_role("button", name="Scrivi il verbale").click()
    page.wait_for_url(re.compile(r"/facilitazione/verbali/\d+/$"))
    minutes_url = page.url

    # 3. Attendance: both members, one through its substitute.
    page.get_by_role("link", name="Presenze", exact=True).click()
    tick(page, "Presente il sostituto: Sostituto 1")
    tick(page, "Presente il delegato: Delegato 2")
    page.get_by_role("button", name="Salva le presenze delle organizzazioni").click()
    page.wait_for_url(minutes_url + "#presenze")
    assert "Quorum raggiunto" in page.content()

    # 4. Text, with a preview first.
    page.get_by_role("link", name="Testo", exact=True).click()
    page.get_by_label("Testo del verbale").fill("Il tavolo esamina le **proposte** all'ordine del giorno.")
    page.get_by_role("button", name="Anteprima").click()
    assert page.locator(".preview-box strong").inner_text() == "proposte"
    page.get_by_role("button", name="Salva il testo").click()
    page.wait_for_url(minutes_url + "#testo")

    # 5. Two decisions.
    for proposal, outcome, votes in ((stage["centro"], "Accolta / approvato", None),
                                     (stage["trasporto"], "Non accolta / non approvato", ("0", "2", "0"))):
        title = proposal.title
        page.get_by_role("link", name="Nuova decisione").click()
        page.get_by_label("Proposta o obiettivo").select_option(label=f"{title} (n. {proposal.id})")
        tick(page, outcome)
        if votes:
            tick(page, "Con votazione tra i membri presenti")
            page.get_by_label("Favorevoli").fill(votes[0])
            page.get_by_label("Contrari").fill(votes[1])
            page.get_by_label("Astenuti").fill(votes[2])
        page.locator("#motivation").fill(f"Decisione motivata su {title}.")
        page.get_by_role("button", name="Salva la decisione").click()
        page.wait_for_url(minutes_url + "#decisioni")
    assert page.locator(".decision-item").count() == 2
    axe(page)

    # 6. Approval: the public minutes show the hash.
    tick(page, re.compile("Confermo che il verbale è completo"))
    page.get_by_role("button", name="Approva il verbale").click()
    page.wait_for_url(re.compile(r"/verbali/\d+/$"))
    minutes = db.session.execute(select(Minutes)).scalar_one()
    assert minutes.status == "approved"
    assert page.locator(".hash-value code").inner_text() == minutes.content_hash
    assert "Verbale approvato e pubblicato" in page.content()
    axe(page)

    # 7. The proposals reached their final states; the follower was told the decisions.
    db.session.expire_all()
    states = {p.title: p.state for p in db.session.execute(select(Proposal)).scalars()}
    assert states == {"Centro diurno a Narni": "approved", "Trasporto sociale serale": "rejected"}
    page.get_by_role("link", name="Centro diurno a Narni").click()
    page.wait_for_url(re.compile(r"/proposte/\d+/$"))
    assert "Accolta" in page.content()
    note = db.session.execute(select(Notification).where(
        Notification.user_id == stage["follower"].id, Notification.event == "minutes.approved")).scalar_one()
    assert {d["title"]: d["outcome"] for d in note.data["decisions"]} == {
        "Centro diurno a Narni": "approved", "Trasporto sociale serale": "rejected"}


def test_the_meeting_page_works_at_390_pixels(new_page, axe, table, facilitator, create_meeting):
    meeting = create_meeting(table, online_url="https://meet.example.org/una-riunione-con-un-indirizzo-lungo")
    phone = new_page(width=390, height=844)

    phone.goto(f"/incontri/{meeting.id}/")

    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    axe(phone)
