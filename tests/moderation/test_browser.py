"""In a real browser, the whole moderation story of a pre-moderated tavolo (issue 4, "Done means")."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from consulta.comments.models import Comment
from consulta.extensions import db
from consulta.proposals.models import Proposal

pytestmark = pytest.mark.browser


def choose(page, label: str) -> None:
    """Tick a radio or checkbox the way a person does: Bootstrap Italia draws it on its label."""
    page.locator("label.form-check-label", has_text=label).first.click()
    assert page.get_by_label(label).first.is_checked()


def test_pre_moderated_tavolo_from_submission_to_answer(people, pre_tavolo, create_user, new_page, login_page, axe):
    commenter = create_user(email="commenta@example.org", display_name="Carlo Commenti")
    author, facilitator, flagger = new_page(), new_page(), new_page()
    public = new_page()
    login_page(author, people.author)
    login_page(facilitator, people.facilitator)
    login_page(flagger, people.reader)

    # A participant submits: it waits for moderation.
    author.goto(f"/tavoli/{pre_tavolo.slug}/proposte/nuova")
    author.locator("#title").fill("Centro estivo per ragazzi con disabilità")
    author.locator("#body").fill("Un centro estivo **inclusivo** a Narni.")
    author.get_by_role("button", name="Invia la proposta").click()
    author.wait_for_url(re.compile(r"/proposte/\d+/$"))
    assert "in attesa di moderazione" in author.locator("main").inner_text()
    proposal = db.session.execute(select(Proposal)).scalar_one()

    # The dashboard counts it; the facilitator approves it from the queue.
    facilitator.goto("/facilitazione/")
    assert "1 contributo in attesa di approvazione" in facilitator.locator("main").inner_text()
    axe(facilitator)
    facilitator.get_by_role("link", name="Apri la coda di moderazione").click()
    facilitator.wait_for_url(re.compile(r"/facilitazione/moderazione/$"))
    assert facilitator.get_by_role("heading", level=1).inner_text() == "Coda di moderazione"
    item = facilitator.locator(".queue-item", has_text="Centro estivo per ragazzi con disabilità")
    assert "Anna Autrice" in item.inner_text() and "In attesa di moderazione" in item.inner_text()
    axe(facilitator)
    item.get_by_role("button", name=re.compile("^Approva")).click()
    facilitator.wait_for_load_state()
    assert "approvata ed è ora pubblica" in facilitator.locator("main").inner_text()
    db.session.refresh(proposal)
    assert proposal.state == "published"

    # Someone comments (pre-moderated too); the facilitator approves the comment with the bulk bar.
    commenter_page = new_page()
    login_page(commenter_page, commenter)
    commenter_page.goto(f"/proposte/{proposal.id}/")
    commenter_page.locator("#commento-testo").fill("Il vicino di casa Mario Bianchi ha già un centro così.")
    commenter_page.get_by_role("button", name="Pubblica il commento").click()
    commenter_page.wait_for_load_state()
    comment = db.session.execute(select(Comment)).scalar_one()
    assert comment.visibility == "pending"
    facilitator.goto("/facilitazione/moderazione/")
    # Bootstrap Italia draws the checkbox on its label, which is what a person clicks.
    facilitator.locator(f"label[for='scelta-c-{comment.id}']").click()
    assert facilitator.get_by_label(re.compile("^Seleziona: Commento su")).is_checked()
    facilitator.get_by_label("Azione sui contenuti selezionati").select_option("approve")
    facilitator.get_by_role("button", name="Applica ai selezionati").click()
    facilitator.wait_for_load_state()
    assert "1 contenuto approvato e pubblicato." in facilitator.locator("main").inner_text()

    # Another participant flags the comment.
    flagger.goto(f"/proposte/{proposal.id}/")
    flagger.locator(f"#commento-{comment.id}").get_by_role("link", name=re.compile("^Segnala")).click()
    choose(flagger, "Contiene dati personali di terzi")
    flagger.get_by_label("Dettagli").fill("Fa il nome di un vicino.")
    flagger.get_by_role("button", name="Invia la segnalazione").click()
    flagger.wait_for_url(re.compile(rf"/proposte/{proposal.id}/"))
    assert "la segnalazione è arrivata ai facilitatori" in flagger.locator("main").inner_text()

    # The facilitator hides it with a reason, from the queue.
    facilitator.goto("/facilitazione/moderazione/")
    item = facilitator.locator(".queue-item", has_text="Commento su")
    assert "Segnalato" in item.inner_text() and "Fa il nome di un vicino." in item.inner_text()
    item.get_by_role("link", name=re.compile("^Nascondi")).click()
    facilitator.wait_for_url(re.compile(r"/nascondi"))
    axe(facilitator)
    facilitator.get_by_role("button", name="Nascondi").click()  # no reason yet: refused, explained
    assert facilitator.get_by_text("Scegli il motivo per cui nascondi il contenuto.").first.is_visible()
    choose(facilitator, "Contiene dati personali di terzi")
    facilitator.get_by_role("button", name="Nascondi").click()
    facilitator.wait_for_url(re.compile(r"/facilitazione/moderazione/"))
    assert "Non ci sono contributi da moderare" in facilitator.locator("main").inner_text()

    # The public sees the placeholder, never the text, and the log entry.
    public.goto(f"/proposte/{proposal.id}/")
    thread = public.locator("#commenti").inner_text()
    assert "Nascosto dal moderatore: contiene dati personali di terzi" in thread
    assert "Mario Bianchi" not in thread
    public.goto(f"/tavoli/{pre_tavolo.slug}/")
    assert "Commento nascosto" in public.locator("#registro-moderazione").inner_text()
    public.goto(f"/tavoli/{pre_tavolo.slug}/registro-moderazione")
    log = public.locator(".moderation-log").inner_text()
    assert "Commento nascosto" in log and "Motivo: contiene dati personali di terzi" in log
    assert "Proposta approvata e pubblicata" in log and "Mario Bianchi" not in log
    axe(public)

    # The facilitator answers the proposal with a motivation; the author sees it.
    facilitator.goto(f"/proposte/{proposal.id}/")
    facilitator.get_by_role("link", name="Rispondi o unisci").click()
    choose(facilitator, "Accolta in parte")
    facilitator.get_by_label("Motivazione").fill("Accolta per l'estate 2026, nei limiti del Fondo povertà.")
    facilitator.get_by_role("button", name="Pubblica la risposta").click()
    facilitator.wait_for_url(re.compile(rf"/proposte/{proposal.id}/"))
    author.goto(f"/proposte/{proposal.id}/")
    answer = author.locator(".proposal-answer").inner_text()
    assert "Accolta in parte" in answer and "nei limiti del Fondo povertà" in answer
    axe(author)


def test_queue_dashboard_and_log_at_390_px_have_no_accessibility_violations(
        people, post_tavolo, pre_tavolo, make_proposal, create_comment, create_flag, new_page, login_page, axe):
    proposal = make_proposal(post_tavolo, title="Una proposta con un titolo piuttosto lungo da segnalare")
    create_flag(proposal, people.reader, reason="off_topic", note="Non riguarda gli anziani.")
    comment = create_comment(make_proposal(pre_tavolo, title="Una proposta del tavolo moderato prima"),
                             people.reader, body="Commento in attesa", visibility="pending")
    assert comment.id
    phone = new_page(width=390, height=844)
    login_page(phone, people.facilitator)
    for url in ("/facilitazione/", "/facilitazione/moderazione/", f"/tavoli/{post_tavolo.slug}/registro-moderazione",
                f"/facilitazione/moderazione/proposte/{proposal.id}/nascondi",
                f"/facilitazione/proposte/{proposal.id}/risposta",
                f"/facilitazione/tavoli/{post_tavolo.slug}/proposte/registra"):
        phone.goto(url)
        assert phone.evaluate("document.documentElement.scrollWidth") <= 390, url
        axe(phone)
