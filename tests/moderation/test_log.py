"""The public "registro di moderazione" of a tavolo: what, when, why; never the hidden text."""

from __future__ import annotations

import re

from consulta.core import audit
from consulta.extensions import db
from tests.moderation.helpers import text_of, text_of_html


def log_url(tavolo, page=None):
    return f"/tavoli/{tavolo.slug}/registro-moderazione" + (f"?page={page}" if page else "")


def test_the_log_lists_moderation_acts_with_reasons_but_never_hidden_text(
        client, people, post_tavolo, make_proposal, create_comment, create_flag, create_user):
    secret = make_proposal(post_tavolo, title="Titolo con il nome di Mario Rossi", body="Testo segreto")
    answered = make_proposal(post_tavolo, title="Trasporto sociale")
    comment = create_comment(answered, people.reader, body="Commento offensivo")
    client.login(people.facilitator)
    client.post(f"/facilitazione/moderazione/proposte/{secret.id}/nascondi",
                data={"reason": "personal_data", "note": "Contiene un nome."})
    client.post(f"/facilitazione/proposte/{answered.id}/risposta",
                data={"outcome": "partially_approved", "motivation": "Solo il sabato."})
    client.logout()
    create_flag(comment, people.representative)
    create_flag(comment, create_user(email="seconda@example.org"))
    client.login(people.author)
    client.post(f"/commenti/{comment.id}/segnala", data={"reason": "offensive"})  # the third flag hides it
    client.logout()

    response = client.get(log_url(post_tavolo))

    assert response.status_code == 200
    page = text_of(response)
    assert "Registro di moderazione" in page
    assert "Proposta nascosta una proposta nascosta" in page
    assert "Motivo: contiene dati personali di terzi. Contiene un nome." in page
    assert "Da Fabio Facilitatore" in page
    assert "Risposta alla proposta «Trasporto sociale» Esito: accolta in parte" in page
    assert "Proposta presa in valutazione" in page
    assert "Commento nascosto in attesa di revisione un commento su «Trasporto sociale»" in page
    assert "Automatico, dopo le segnalazioni dei partecipanti" in page
    # Never the hidden text, nor who flagged (the log list alone: flash messages may greet people).
    html = response.get_data(as_text=True)
    log = text_of_html(html[html.index('<ol class="moderation-log'):html.index("</ol>", html.index('<ol class="moderation-log'))])
    for never in ("Mario Rossi", "Testo segreto", "Commento offensivo", "Anna Autrice", "Rita Rappresentante"):
        assert never not in log
    # Newest first.
    assert page.index("Commento nascosto") < page.index("Risposta alla proposta") < page.index("Proposta nascosta")


def test_the_log_is_paginated_and_validates_its_page(client, people, post_tavolo, make_proposal, count_queries):
    proposal = make_proposal(post_tavolo)
    for _ in range(35):
        audit.record(people.facilitator, "comment.approve", proposal, {}, tavolo_id=post_tavolo.id)
    # Acts that are not moderation stay out.
    audit.record(people.author, "proposal.edit", proposal, {})
    db.session.commit()

    first = client.get(log_url(post_tavolo))
    assert "35 atti registrati" in text_of(first) and "pagina 1 di 2" in text_of(first)
    second = client.get(log_url(post_tavolo, 2))
    assert len(re.findall(r'class="moderation-log-entry', second.get_data(as_text=True))) == 5
    assert client.get(log_url(post_tavolo, 3)).status_code == 200
    for bad in ("0", "-1", "abc", "99999999999"):
        assert client.get(log_url(post_tavolo, bad)).status_code == 400

    page_two = log_url(post_tavolo, 2)  # counted: the page's statements, not the test's own
    client.get(log_url(post_tavolo))
    with count_queries() as few:
        client.get(page_two)
    for _ in range(40):
        audit.record(people.facilitator, "proposal.hide", proposal, {}, reason="spam", tavolo_id=post_tavolo.id)
    db.session.commit()
    with count_queries() as many:
        html = client.get(page_two).get_data(as_text=True)
    assert few.count == many.count
    # Its "next page" link (keyset) leads to page 3, at the same cost.
    later = re.search(r'<a href="([^"]+)" rel="next">', html).group(1).replace("&amp;", "&")
    assert "dopo=" in later
    with count_queries() as deep:
        page_three = client.get(later)
    assert "pagina 3 di 3" in text_of(page_three) and deep.count == many.count


def test_a_draft_tavolo_has_no_public_log(client, people, create_tavolo):
    draft = create_tavolo(slug="bozza", phase="draft", facilitators=[people.facilitator])
    assert client.get(log_url(draft)).status_code == 404
    client.login(people.facilitator)
    assert client.get(log_url(draft)).status_code == 200
