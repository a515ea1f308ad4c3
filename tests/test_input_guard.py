"""Input at the edge (issue 11, item 1): the measured failures, one by one.

The url_map walk in tests/test_fuzz.py sends the same classes of input to every route; these tests
pin each mechanism with the exact request that answered 500 before."""

from __future__ import annotations

import html
import importlib
import io
import pkgutil

import pytest
from flask_wtf import FlaskForm as FlaskWTFForm

import consulta
from consulta.extensions import db

GUARD = "La richiesta contiene caratteri di controllo non ammessi."
FILE_REFUSED = "Questo campo accetta solo testo, non un file."


def text(response) -> str:
    return html.unescape(response.get_data(as_text=True))


@pytest.mark.parametrize("url", [
    "/tavoli/%00/",
    "/tavoli/anziani%00/incontri/",
    "/tavoli/anziani/?q=%00",
    "/tavoli/anziani/?q=a%1Fb",
    "/piano/?page=1%00",
    "/organizzazioni/?q=%7F",
])
def test_control_characters_in_path_or_query_are_a_400(client, tavolo, url):
    response = client.get(url)
    assert response.status_code == 400
    assert GUARD in text(response) and 'lang="it"' in text(response)


def test_control_characters_in_form_values_are_a_400_but_tabs_and_newlines_pass(client, tavolo, dummy_user,
                                                                                count_rows):
    from consulta.proposals.models import Proposal

    client.login(dummy_user)
    refused = client.post(f"/tavoli/{tavolo.slug}/proposte/nuova", data={
        "title": "Centro diurno\x00", "body": "Testo", "presenter": "citizen"})
    assert refused.status_code == 400 and GUARD in text(refused)
    assert count_rows(Proposal) == 0

    accepted = client.post(f"/tavoli/{tavolo.slug}/proposte/nuova", data={
        "title": "Centro diurno a Narni", "body": "Prima riga\r\n\tseconda riga\nterza", "presenter": "citizen"})
    assert accepted.status_code == 302
    assert count_rows(Proposal) == 1


@pytest.mark.parametrize("number", [str(2**31), str(2**31 - 1), "99999999999999999999", "0"])
def test_ids_beyond_the_integer_column_are_a_404(client, tavolo, number):
    assert client.get(f"/tavoli/{tavolo.slug}/obiettivi/{number}/").status_code == 404
    assert client.get(f"/piano/{number}/").status_code == 404
    assert client.get(f"/proposte/{number}/").status_code == 404  # a string argument, parsed by load_or_404
    assert client.post(f"/proposte/{number}/voto", data={"value": "for"}).status_code == 404


@pytest.mark.parametrize("page", ["99999999999999999999", str(2**31), "0", "-1", "abc", "１"])
def test_page_numbers_out_of_range_are_a_400_everywhere(client, tavolo, page):
    for url in ("/piano/", f"/tavoli/{tavolo.slug}/", f"/tavoli/{tavolo.slug}/incontri/"):
        response = client.get(url, query_string={"page": page})
        assert response.status_code == 400, url
        assert "Numero di pagina non valido." in text(response)
    assert client.get("/organizzazioni/", query_string={"pagina": page}).status_code == 400


def test_the_largest_page_number_is_an_empty_page_or_a_404_not_a_500(client, tavolo):
    assert client.get("/piano/", query_string={"page": str(2**31 - 1)}).status_code == 404
    assert client.get(f"/tavoli/{tavolo.slug}/", query_string={"page": str(2**31 - 1)}).status_code == 200


def test_ids_in_form_values_beyond_the_integer_column_are_refused(client, tavolo, create_meeting, admin_user,
                                                                   count_rows):
    """The hidden meeting id of "start the minutes" answered 500 with 2^31 (PostgreSQL) and 10^20 (SQLite)."""
    from consulta.meetings.models import Minutes

    client.login(admin_user)
    for number in (str(2**31), "99999999999999999999"):
        response = client.post(f"/facilitazione/tavoli/{tavolo.slug}/verbali/nuovo", data={"meeting_id": number})
        assert 400 <= response.status_code < 500
    assert count_rows(Minutes) == 0


def test_a_text_field_sent_as_a_file_is_a_field_error_and_the_rest_is_kept(client, tavolo, dummy_user, count_rows):
    from consulta.proposals.models import Proposal

    client.login(dummy_user)
    response = client.post(f"/tavoli/{tavolo.slug}/proposte/nuova", content_type="multipart/form-data", data={
        "title": (io.BytesIO(b"un titolo in un file"), "titolo.txt"),
        "body": "Il testo che ho scritto con cura.", "presenter": "citizen"})

    assert response.status_code == 400
    page = text(response)
    assert FILE_REFUSED in page
    assert "Il testo che ho scritto con cura." in page
    assert count_rows(Proposal) == 0


def test_an_integer_field_sent_as_a_file_is_a_field_error(client, tavolo, create_meeting, create_minutes,
                                                          create_proposal, dummy_user, admin_user):
    from datetime import timedelta

    meeting = create_meeting(tavolo, starts_in=-timedelta(days=1), status="held")
    minutes = create_minutes(meeting)
    proposal = create_proposal(tavolo, dummy_user)
    client.login(admin_user)
    response = client.post(f"/facilitazione/verbali/{minutes.id}/decisioni/nuova", content_type="multipart/form-data",
                           data={"subject": f"p:{proposal.id}", "outcome": "approved", "method": "vote",
                                 "votes_for": (io.BytesIO(b"3"), "voti.txt"), "votes_against": "0",
                                 "votes_abstained": "0", "motivation": "Motivazione."})
    assert response.status_code == 400
    assert FILE_REFUSED in text(response)


def test_a_body_over_the_limit_is_a_413_page(client, app):
    body = b"email=" + b"x" * (app.config["MAX_CONTENT_LENGTH"] + 1)
    response = client.post("/accedi", data=body, content_type="application/x-www-form-urlencoded")
    assert response.status_code == 413
    assert "Contenuto troppo grande" in text(response)
    db.session.rollback()


def test_every_form_of_the_application_has_the_shared_base():
    """The file refusal lives in consulta.core.forms.FlaskForm: no form may bypass it."""
    from consulta.core.forms import FlaskForm

    for module in pkgutil.walk_packages(consulta.__path__, "consulta."):
        if module.name.rsplit(".", 1)[-1] in {"forms", "record_forms"}:
            importlib.import_module(module.name)

    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = [cls for cls in subclasses(FlaskWTFForm) if cls.__module__.startswith("consulta.")]
    assert len(ours) > 30
    assert [cls.__qualname__ for cls in ours if not issubclass(cls, FlaskForm)] == []
