"""A representative asks to register an organisation, or to represent one already verified."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.accounts.models import User
from consulta.extensions import db
from consulta.organisations.models import Membership, Organisation
from tests.organisations.helpers import (
    BODY_TAX_CODE,
    OTHER_BODY_TAX_CODE,
    PERSON_TAX_CODE,
    audit_actions,
    membership_of,
    memberships_count,
    notifications_for,
    organisations_count,
    text,
)


def test_the_form_offers_the_types_and_the_comuni_of_the_ambito(client, representative, ambito):
    client.login(representative)
    response = client.get("/organizzazioni/richiesta")
    html = text(response)
    assert response.status_code == 200
    for label in ("Nome dell'organizzazione", "Tipo di organizzazione", "Codice fiscale",
                  "Numero di iscrizione al RUNTS (facoltativo)", "Comune della sede", "Sito web (facoltativo)"):
        assert label in html
    for type_label in ("Organizzazione sindacale", "Cooperativa sociale", "Organizzazione di volontariato",
                       "Associazione di promozione sociale", "Altro ente del Terzo settore", "Ente pubblico"):
        assert type_label in html
    assert html.index("Amelia") < html.index("Narni") < html.index("Otricoli")
    assert "Altro comune, fuori dall'Ambito" in html


def test_a_representative_asks_to_register_an_organisation(client, representative, admin_user, request_form, narni):
    client.login(representative)
    response = client.post("/organizzazioni/richiesta", data=request_form(tax_code=" 012 3456 0553 "))
    assert response.status_code == 302
    assert response.headers["Location"] == "/organizzazioni/richiesta"

    org = db.session.execute(select(Organisation)).scalar_one()
    assert (org.name, org.type, org.tax_code, org.runts_number, org.comune_id, org.website) == (
        "Associazione Il Girasole", "volunteer", BODY_TAX_CODE, "12345", narni.id, "https://ilgirasole.example.org")
    assert org.status == "pending" and org.verified_at is None
    assert org.created_by_id == representative.id
    membership = membership_of(representative)
    assert membership.organisation_id == org.id
    assert membership.status == "pending" and membership.is_representative
    assert audit_actions() == ["organisation.request", "membership.request"]
    assert notifications_for(admin_user) == ["organisation.requested"]

    page = text(client.get("/organizzazioni/richiesta"))
    assert "Richiesta inviata" in page
    assert "Hai chiesto di registrare «Associazione Il Girasole»" in page
    assert 'name="tax_code"' not in page  # no second form while one request is pending

    # Pending organisations are not public.
    assert client.get(f"/organizzazioni/{org.id}/").status_code == 404
    assert "Il Girasole" not in text(client.get("/organizzazioni/"))


def test_outside_the_ambito_and_without_optional_fields(client, representative, request_form):
    client.login(representative)
    response = client.post("/organizzazioni/richiesta",
                           data=request_form(comune="altro", runts_number="", website=""))
    assert response.status_code == 302
    org = db.session.execute(select(Organisation)).scalar_one()
    assert org.comune_id is None and org.runts_number is None and org.website is None


def test_a_valid_personal_tax_code_is_accepted(client, representative, request_form):
    client.login(representative)
    response = client.post("/organizzazioni/richiesta", data=request_form(tax_code=PERSON_TAX_CODE.lower()))
    assert response.status_code == 302
    assert db.session.execute(select(Organisation.tax_code)).scalar_one() == PERSON_TAX_CODE


def test_control_characters_are_refused_before_the_form(client, representative, request_form):
    """A NUL in a value: the input guard (consulta/core/input_guard.py) answers 400, nothing is saved."""
    client.login(representative)
    response = client.post("/organizzazioni/richiesta", data=request_form(name="   \u0000 "))
    assert response.status_code == 400
    assert "La richiesta contiene caratteri di controllo non ammessi." in text(response)
    assert organisations_count() == 0 and memberships_count() == 0


@pytest.mark.parametrize(("overrides", "message"), [
    ({"tax_code": "01234560554"}, "la cifra di controllo non corrisponde"),
    ({"tax_code": "0123456055"}, "Il codice fiscale di un ente ha 11 cifre"),
    ({"tax_code": "0123456055X"}, "Il codice fiscale di un ente ha 11 cifre"),
    ({"tax_code": "RSSMRA85T10A562T"}, "la cifra di controllo non corrisponde"),
    ({"tax_code": "RSSMRA85Z10A562S"}, "Il codice fiscale non è valido"),
    ({"tax_code": ""}, "Indica il codice fiscale dell'organizzazione."),
    ({"tax_code": "1" * 25}, "Il codice fiscale ha 11 cifre (o 16 caratteri)."),
    ({"name": ""}, "Indica il nome dell'organizzazione."),
    ({"name": "A" * 201}, "Il nome può avere al massimo 200 caratteri."),
    ({"type": "citizen"}, "Scegli un tipo di organizzazione dall'elenco."),
    ({"type": "banca"}, "Scegli un tipo di organizzazione dall'elenco."),
    ({"type": None}, "Scegli il tipo di organizzazione."),
    ({"comune": "999999"}, "Scegli un comune dall'elenco."),
    ({"comune": "Narni"}, "Scegli un comune dall'elenco."),
    ({"comune": ""}, "Scegli il comune della sede."),
    ({"website": "ftp://example.org"}, "inizi con http:// o https://"),
    ({"website": "javascript:alert(1)"}, "inizi con http:// o https://"),
    ({"website": "www.example.org"}, "inizi con http:// o https://"),
    ({"website": "https://" + "a" * 300 + ".it"}, "L'indirizzo può avere al massimo 300 caratteri."),
    ({"runts_number": "9" * 41}, "Il numero RUNTS può avere al massimo 40 caratteri."),
])
def test_bad_input_is_refused_and_nothing_is_saved(client, representative, request_form, overrides, message):
    client.login(representative)
    data = request_form(**overrides)
    response = client.post("/organizzazioni/richiesta", data=data)
    html = text(response)
    assert response.status_code == 400
    assert message in html
    assert "Il modulo contiene errori" in html
    # The user's input is kept.
    if overrides.get("name", "x").strip(" \u0000"):
        assert f'value="{data["name"]}"' in html
    if data.get("website"):
        assert data["website"] in html
    assert organisations_count() == 0 and memberships_count() == 0
    assert audit_actions() == []


def test_missing_csrf_token_is_refused(client, representative, request_form):
    client.login(representative)
    response = client.post("/organizzazioni/richiesta", data=request_form(), csrf=False)
    assert response.status_code == 400
    assert "Il modulo è scaduto o non è valido" in text(response)
    assert organisations_count() == 0


def test_a_duplicate_tax_code_is_refused_with_a_clear_message(client, representative, request_form,
                                                              create_organisation):
    create_organisation(name="Associazione già registrata", tax_code=BODY_TAX_CODE)
    client.login(representative)
    response = client.post("/organizzazioni/richiesta", data=request_form())
    html = text(response)
    assert response.status_code == 409
    assert "Un'organizzazione con questo codice fiscale è già registrata: «Associazione già registrata»" in html
    assert 'value="Associazione Il Girasole"' in html
    assert organisations_count() == 1 and memberships_count() == 0


def test_a_duplicate_of_a_pending_organisation_is_refused(client, create_user, request_form, pending_request):
    pending_request(tax_code=BODY_TAX_CODE)
    other = create_user(email="altra@example.org")
    client.login(other)
    response = client.post("/organizzazioni/richiesta", data=request_form())
    assert response.status_code == 409
    assert "già in attesa di verifica" in text(response)
    assert membership_of(other) is None


def test_a_second_request_while_one_is_pending_is_refused(client, representative, request_form):
    client.login(representative)
    assert client.post("/organizzazioni/richiesta", data=request_form()).status_code == 302
    response = client.post("/organizzazioni/richiesta",
                           data=request_form(name="Seconda associazione", tax_code=OTHER_BODY_TAX_CODE))
    assert response.status_code == 409
    assert "una sola organizzazione alla volta" in text(response)
    assert organisations_count() == 1 and memberships_count() == 1


def test_a_representative_of_a_verified_organisation_cannot_ask_for_another(client, create_user, create_organisation,
                                                                           request_form):
    org = create_organisation(name="Cooperativa Aurora", type="social_coop")
    user = create_user(organisation=org)
    client.login(user)
    page = text(client.get("/organizzazioni/richiesta"))
    assert "Rappresenti" in page and "Cooperativa Aurora" in page
    response = client.post("/organizzazioni/richiesta", data=request_form())
    assert response.status_code == 409
    other = create_organisation(name="Altra associazione")
    response = client.post(f"/organizzazioni/{other.id}/adesione")
    assert response.status_code == 409
    assert "Rappresenti già «Cooperativa Aurora»" in text(response)
    assert membership_of(user).organisation_id == org.id
    assert organisations_count() == 2


def test_after_a_rejection_a_new_request_replaces_the_old_one(client, representative, request_form,
                                                               create_organisation):
    rejected = create_organisation(name="Respinta", status="rejected", tax_code=OTHER_BODY_TAX_CODE)
    db.session.add(Membership(user_id=representative.id, organisation_id=rejected.id, status="rejected",
                              rejection_reason="Codice fiscale di un'altra associazione"))
    db.session.commit()
    client.login(representative)
    page = text(client.get("/organizzazioni/richiesta"))
    assert "Richiesta respinta" in page and "Codice fiscale di un'altra associazione" in page
    assert 'name="tax_code"' in page

    assert client.post("/organizzazioni/richiesta", data=request_form()).status_code == 302
    membership = membership_of(representative)
    assert membership.status == "pending"
    assert membership.organisation.name == "Associazione Il Girasole"
    assert memberships_count() == 1


def test_the_rejected_tax_code_cannot_be_submitted_again(client, representative, request_form, create_organisation):
    create_organisation(name="Respinta", status="rejected", tax_code=BODY_TAX_CODE)
    client.login(representative)
    response = client.post("/organizzazioni/richiesta", data=request_form())
    assert response.status_code == 409
    assert "contatta l'Ufficio di Piano" in text(response)


def test_an_unverified_user_cannot_ask(client, create_user, request_form):
    user = create_user(verified=False)
    client.login(user)
    for response in (client.get("/organizzazioni/richiesta"),
                     client.post("/organizzazioni/richiesta", data=request_form()),
                     client.get("/organizzazioni/adesione")):
        assert response.status_code == 403
        assert "Verifica il tuo indirizzo e-mail" in text(response)
    assert organisations_count() == 0


def test_a_blocked_user_cannot_ask(client, create_user, request_form):
    user = create_user(blocked_reason="Messaggi offensivi")
    client.login(user)
    response = client.post("/organizzazioni/richiesta", data=request_form())
    assert response.status_code == 403
    assert "Il tuo account è sospeso" in text(response)
    assert organisations_count() == 0


def test_anonymous_people_are_sent_to_login(client, request_form, create_organisation):
    org = create_organisation()
    for response in (client.get("/organizzazioni/richiesta"),
                     client.post("/organizzazioni/richiesta", data=request_form()),
                     client.get("/organizzazioni/adesione"),
                     client.post(f"/organizzazioni/{org.id}/adesione")):
        assert response.status_code == 302
        assert response.headers["Location"].startswith("/accedi")
    assert organisations_count() == 1 and memberships_count() == 0


# --------------------------------------------------------------------------- joining

def test_a_representative_finds_a_verified_organisation_and_asks_to_represent_it(
        client, representative, create_organisation, admin_user, narni):
    org = create_organisation(name="Cooperativa Sociale Il Cerchio", type="social_coop", comune=narni)
    create_organisation(name="Cerchio in attesa", status="pending")
    client.login(representative)

    page = text(client.get("/organizzazioni/adesione?q=cerchio"))
    assert "Cooperativa Sociale Il Cerchio" in page
    assert "Cerchio in attesa" not in page
    assert text(client.get(f"/organizzazioni/adesione?q={org.tax_code}")).count("Il Cerchio") >= 1

    page = text(client.get(f"/organizzazioni/{org.id}/"))
    assert "Chiedi di rappresentarla" in page

    response = client.post(f"/organizzazioni/{org.id}/adesione")
    assert response.status_code == 302
    membership = membership_of(representative)
    assert (membership.organisation_id, membership.status) == (org.id, "pending")
    assert audit_actions("membership") == ["membership.request"]
    assert notifications_for(admin_user) == ["membership.requested"]
    page = text(client.get(response.headers["Location"]))
    assert "Hai chiesto di rappresentare «Cooperativa Sociale Il Cerchio»" in page
    # No join button any more.
    assert "Chiedi di rappresentarla" not in text(client.get(f"/organizzazioni/{org.id}/"))


def test_joining_twice_is_refused(client, representative, create_organisation):
    first, second = create_organisation(), create_organisation()
    client.login(representative)
    assert client.post(f"/organizzazioni/{first.id}/adesione").status_code == 302
    response = client.post(f"/organizzazioni/{second.id}/adesione")
    assert response.status_code == 409
    assert "Hai già una richiesta in attesa" in text(response)
    assert membership_of(representative).organisation_id == first.id
    assert memberships_count() == 1


@pytest.mark.parametrize("status", ["pending", "rejected"])
def test_only_verified_organisations_can_be_joined(client, representative, create_organisation, status):
    org = create_organisation(status=status)
    client.login(representative)
    assert client.post(f"/organizzazioni/{org.id}/adesione").status_code == 404
    assert client.post("/organizzazioni/999999/adesione").status_code == 404
    assert memberships_count() == 0


def test_joining_without_csrf_is_refused(client, representative, create_organisation):
    org = create_organisation()
    client.login(representative)
    assert client.post(f"/organizzazioni/{org.id}/adesione", csrf=False).status_code == 400
    assert memberships_count() == 0


def test_an_over_long_search_is_refused(client, representative):
    client.login(representative)
    response = client.get("/organizzazioni/adesione?q=" + "x" * 101)
    assert response.status_code == 400
    assert "La ricerca può avere al massimo 100 caratteri." in text(response)


def test_the_membership_box_for_the_profile(app, create_user, create_organisation):
    """The partial the profile page includes: status and links, for each situation."""
    from flask import render_template
    from flask_login import login_user

    def box(user):
        with app.test_request_context("/profilo/"):
            login_user(db.session.get(User, user.id))
            return render_template("organisations/_membership_box.html")

    nobody = create_user()
    html = box(nobody)
    assert "Non rappresenti alcuna organizzazione" in html
    assert "/organizzazioni/richiesta" in html and "/organizzazioni/adesione" in html

    org = create_organisation(name="Associazione Aurora")
    member = create_user(organisation=org)
    html = box(member)
    assert "Rappresenti" in html and "Associazione Aurora" in html
    assert "/organizzazioni/richiesta" not in html

    pending = create_user()
    db.session.add(Membership(user_id=pending.id, organisation_id=org.id))
    db.session.commit()
    assert "Hai chiesto di rappresentare «Associazione Aurora»" in box(pending)
