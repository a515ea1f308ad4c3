"""The public list of verified organisations and the page of each."""

from __future__ import annotations

import pytest

from tests.organisations.helpers import PERSON_TAX_CODE, text


def test_empty_list_invites_to_register(client, ambito):
    response = client.get("/organizzazioni/")
    html = text(response)
    assert response.status_code == 200
    assert "<h1" in html and "Organizzazioni" in html
    assert "Non ci sono ancora organizzazioni verificate" in html
    assert "/organizzazioni/richiesta" in html


def test_verified_organisations_grouped_by_type_with_counts(client, create_organisation, narni):
    create_organisation(name="Cooperativa Sociale Il Cerchio", type="social_coop", comune=narni)
    create_organisation(name="Cooperativa Aurora", type="social_coop")
    create_organisation(name="CGIL Lega SPI Narni", type="union", comune=narni)
    create_organisation(name="Associazione in attesa", type="social_coop", status="pending")
    create_organisation(name="Associazione respinta", type="union", status="rejected")

    html = text(client.get("/organizzazioni/"))
    assert "Cooperativa sociale" in html and "2 organizzazioni" in html
    assert "Organizzazione sindacale" in html and "1 organizzazione" in html
    # Alphabetical inside a group; the comune shown, or "outside the Ambito".
    assert html.index("Cooperativa Aurora") < html.index("Cooperativa Sociale Il Cerchio")
    assert "Narni" in html and "Fuori dall'Ambito" in html
    assert "Associazione in attesa" not in html and "Associazione respinta" not in html
    # Types without verified organisations have no section.
    assert 'id="group-volunteer"' not in html


def test_a_big_group_shows_the_first_ones_and_links_to_all(client, create_organisation):
    for n in range(12):
        create_organisation(name=f"Volontari {n:02d}", type="volunteer")
    html = text(client.get("/organizzazioni/"))
    assert "Volontari 07" in html and "Volontari 08" not in html
    assert "Vedi tutte le 12 organizzazioni" in html and "/organizzazioni/?tipo=volunteer" in html

    html = text(client.get("/organizzazioni/?tipo=volunteer"))
    assert "12 organizzazioni trovate" in html
    assert "Volontari 00" in html and "Volontari 11" in html


def test_filter_and_search_with_pages(client, create_organisation):
    for n in range(35):
        create_organisation(name=f"APS Numero {n:02d}", type="aps")
    create_organisation(name="Sindacato Unico", type="union")
    first = text(client.get("/organizzazioni/?tipo=aps"))
    assert "35 organizzazioni trovate" in first
    assert "APS Numero 29" in first and "APS Numero 30" not in first
    assert "pagina=2" in first and "Sindacato Unico" not in first
    second = text(client.get("/organizzazioni/?tipo=aps&pagina=2"))
    assert "APS Numero 30" in second and "APS Numero 34" in second

    found = text(client.get("/organizzazioni/?q=sindacato"))
    assert "1 organizzazione trovata" in found and "Sindacato Unico" in found and "APS Numero" not in found
    assert "Nessuna organizzazione verificata corrisponde" in text(client.get("/organizzazioni/?q=zzz%25"))


@pytest.mark.parametrize(("query", "message"), [
    ("tipo=citizen", "Tipo di organizzazione sconosciuto."),
    ("tipo=banca", "Tipo di organizzazione sconosciuto."),
    ("pagina=0", "Numero di pagina non valido."),
    ("pagina=abc", "Numero di pagina non valido."),
    ("tipo=aps&pagina=-1", "Numero di pagina non valido."),
    ("q=" + "x" * 101, "La ricerca può avere al massimo 100 caratteri."),
])
def test_bad_filters_are_a_400(client, ambito, query, message):
    response = client.get(f"/organizzazioni/?{query}")
    assert response.status_code == 400
    assert message in text(response)


def test_the_list_costs_a_bounded_number_of_queries(client, create_organisation, count_queries, narni):
    client.get("/organizzazioni/")  # warm up
    with count_queries() as few:
        client.get("/organizzazioni/")
    for n in range(40):
        create_organisation(name=f"Ente {n}", type=("aps", "volunteer", "union")[n % 3], comune=narni)
    with count_queries() as many:
        assert client.get("/organizzazioni/").status_code == 200
    with count_queries() as filtered:
        assert client.get("/organizzazioni/?tipo=aps").status_code == 200
    assert many.count <= few.count + 1
    assert filtered.count <= few.count + 2


def test_the_page_of_an_organisation(client, create_organisation, narni):
    org = create_organisation(name="Cooperativa Sociale Il Cerchio", type="social_coop", comune=narni,
                              runts_number="RUNTS-4455", website="https://ilcerchio.example.org")
    html = text(client.get(f"/organizzazioni/{org.id}/"))
    assert "<h1" in html and "Cooperativa Sociale Il Cerchio" in html
    assert "Cooperativa sociale" in html and "Narni" in html
    assert "RUNTS-4455" in html
    assert 'href="https://ilcerchio.example.org"' in html and 'rel="nofollow noopener ugc"' in html
    assert org.tax_code in html  # a body's tax code is public
    # Anonymous visitors are not offered to join.
    assert "Chiedi di rappresentarla" not in html


def test_a_personal_tax_code_is_never_shown(client, create_organisation):
    org = create_organisation(name="Ditta individuale", tax_code=PERSON_TAX_CODE, type="other")
    html = text(client.get(f"/organizzazioni/{org.id}/"))
    assert "Ditta individuale" in html
    assert PERSON_TAX_CODE not in html
    # Nor can a person's code be searched for.
    assert "Nessuna organizzazione verificata corrisponde" in text(client.get("/organizzazioni/?q=" + PERSON_TAX_CODE))
    assert "Ditta individuale" in text(client.get("/organizzazioni/?q=ditta"))


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_pending_and_rejected_organisations_are_not_public(client, create_organisation, create_user, status):
    org = create_organisation(status=status)
    assert client.get(f"/organizzazioni/{org.id}/").status_code == 404
    client.login(create_user())
    assert client.get(f"/organizzazioni/{org.id}/").status_code == 404


def test_unknown_organisation_is_a_404(client, ambito):
    assert client.get("/organizzazioni/424242/").status_code == 404
    assert client.get("/organizzazioni/abc/").status_code == 404


def test_an_admin_sees_a_pending_organisation_with_its_status(client, create_organisation, admin_user):
    org = create_organisation(name="In verifica", status="pending")
    client.login(admin_user)
    html = text(client.get(f"/organizzazioni/{org.id}/"))
    assert "In attesa di verifica" in html and "Gestisci l'organizzazione" in html
