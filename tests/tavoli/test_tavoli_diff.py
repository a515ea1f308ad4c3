"""The revision diff page and the word-level diff itself."""

from __future__ import annotations

import pytest

from consulta.extensions import db
from consulta.tavoli.diff import word_diff
from consulta.tavoli.models import ObjectiveRevision


@pytest.fixture
def revised(create_tavolo, create_objective):
    """An objective with three revisions."""
    tavolo = create_tavolo(slug="t")
    objective = create_objective(tavolo, title="Domiciliarità", body="Assistenza domiciliare il lunedì.")
    for number, body in ((2, "Assistenza domiciliare dal lunedì al venerdì."),
                         (3, "Assistenza domiciliare dal lunedì al sabato, anche nei borghi.")):
        db.session.add(ObjectiveRevision(objective_id=objective.id, number=number, title="Domiciliarità", body=body,
                                         note=f"Nota {number}"))
    db.session.commit()
    return objective


def test_diff_between_any_two_revisions(client, ambito, revised):
    html = client.get(f"/tavoli/t/obiettivi/{revised.id}/revisioni?da=1&a=3").get_data(as_text=True)
    assert "revisione 1 → 3" in html
    assert "il</del>" in html and "sabato, anche nei borghi</ins>" in html
    assert "Nota 3" in html


def test_diff_defaults_to_the_latest_change(client, ambito, revised):
    response = client.get(f"/tavoli/t/obiettivi/{revised.id}/revisioni")
    assert response.status_code == 200
    assert "revisione 2 → 3" in response.get_data(as_text=True)


def test_same_revision_twice_says_the_texts_are_equal(client, ambito, revised):
    html = client.get(f"/tavoli/t/obiettivi/{revised.id}/revisioni?da=2&a=2").get_data(as_text=True)
    assert "Le due revisioni hanno lo stesso testo." in html


def test_objective_page_lists_revisions_with_links_to_each_change(client, ambito, revised):
    html = client.get(f"/tavoli/t/obiettivi/{revised.id}/").get_data(as_text=True)
    assert f"/tavoli/t/obiettivi/{revised.id}/revisioni?da=2&amp;a=3" in html
    assert f"/tavoli/t/obiettivi/{revised.id}/revisioni?da=1&amp;a=2" in html
    assert "Confronta due revisioni" in html


@pytest.mark.parametrize(("query", "status"), [
    ("da=1&a=9", 404),
    ("da=0&a=2", 404),
    ("da=7", 404),
    ("da=uno&a=2", 400),
    ("da=1&a=2.5", 400),
    ("da=-1&a=2", 400),
    ("da=1&a=99999999999999999999", 400),
    ("da=1&a=%3Cscript%3E", 400),
])
def test_bad_revision_parameters(client, ambito, revised, query, status):
    response = client.get(f"/tavoli/t/obiettivi/{revised.id}/revisioni?{query}")
    assert response.status_code == status
    body = response.get_data(as_text=True)
    assert ("Revisione non trovata." if status == 404 else "Il numero di revisione deve essere un numero intero.") in body


def test_draft_objective_has_no_diff_page(client, ambito, create_tavolo, create_objective, facilitator, login):
    tavolo = create_tavolo(slug="d", facilitators=[facilitator])
    draft = create_objective(tavolo, status="draft")
    assert client.get(f"/tavoli/d/obiettivi/{draft.id}/revisioni").status_code == 404
    login(facilitator)
    assert client.get(f"/tavoli/d/obiettivi/{draft.id}/revisioni").status_code == 404


def test_word_diff_escapes_everything_and_counts_words():
    result = word_diff('Il <b>piano</b> "vecchio"', 'Il <b>piano</b> "nuovo" & più')
    assert str(result.html) == (
        'Il &lt;b&gt;piano&lt;/b&gt; &#34;<del class="diff-del">vecchio</del>'
        '<ins class="diff-add">nuovo</ins>&#34;<ins class="diff-add"> &amp; più</ins>'
    )
    assert (result.added, result.removed) == (3, 1)
    assert word_diff("uguale", "uguale").unchanged
