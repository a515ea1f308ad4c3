"""An admin verifies or rejects organisations and join requests, with reasons, e-mails and audit."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consulta.accounts.models import User
from consulta.core.db import utcnow
from consulta.extensions import db
from consulta.organisations.models import Membership, Organisation
from tests.organisations.helpers import audit_actions, membership_of, notifications_for, text


def test_the_queue_lists_pending_organisations_and_join_requests_oldest_first(
        client, admin_user, create_user, create_organisation, pending_request, representative):
    newer = pending_request(name="Associazione Recente")
    older_founder = create_user(email="prima@example.org", display_name="Primo Richiedente")
    older = pending_request(user=older_founder, name="Associazione Storica")
    older.created_at = utcnow() - timedelta(days=3)
    verified = create_organisation(name="Cooperativa Verificata", type="social_coop")
    joiner = create_user(email="socio@example.org", display_name="Sara Socia")
    db.session.add(Membership(user_id=joiner.id, organisation_id=verified.id))
    db.session.commit()

    client.login(admin_user)
    html = text(client.get("/gestione/organizzazioni/"))
    assert html.index("Associazione Storica") < html.index("Associazione Recente")
    assert "Primo Richiedente" in html and older.tax_code in html
    assert "Sara Socia" in html and "chiede di rappresentare" in html and "Cooperativa Verificata" in html
    # The founder of a pending organisation is decided with it, not listed as a join request.
    joins = html.split('id="adesioni"')[1]
    assert "Rita Rappresentante" not in joins
    assert newer.id and "Verifica" in html and "Respingi" in html


def test_verifying_an_organisation_activates_its_founder_and_tells_them(
        deliver_outbox, client, admin_user, pending_request, representative, smtp_sink):
    org = pending_request(name="Associazione Il Girasole")
    client.login(admin_user)
    response = client.post(f"/gestione/organizzazioni/{org.id}/verifica")
    assert response.status_code == 302
    assert response.headers["Location"] == "/gestione/organizzazioni/"

    org = db.session.get(Organisation, org.id)
    assert org.status == "verified" and org.verified_by_id == admin_user.id and org.verified_at is not None
    membership = membership_of(representative)
    assert membership.status == "active" and membership.decided_by_id == admin_user.id
    assert audit_actions("organisation", org.id)[-1] == "organisation.verify"
    assert audit_actions("membership", membership.id)[-1] == "membership.accept"
    assert notifications_for(representative) == ["organisation.verified"]
    assert db.session.get(User, representative.id).stakeholder_category == "volunteer"

    deliver_outbox()
    smtp_sink.wait_for(1)
    [message] = smtp_sink.to(representative.email)
    assert message["Subject"] == "«Associazione Il Girasole» è stata verificata"
    body = smtp_sink.text_of(message)
    assert "Gentile Rita Rappresentante" in body
    assert f"http://localhost/organizzazioni/{org.id}/" in smtp_sink.links_in(message)

    assert "«Associazione Il Girasole» è verificata" in text(client.get("/gestione/organizzazioni/"))
    assert "Associazione Il Girasole" in text(client.get("/organizzazioni/"))


def test_rejecting_needs_a_reason(deliver_outbox, client, admin_user, pending_request, representative, smtp_sink):
    org = pending_request()
    client.login(admin_user)
    for reason in ("", "   ", "x" * 1001):
        response = client.post(f"/gestione/organizzazioni/{org.id}/rifiuta", data={"reason": reason})
        html = text(response)
        assert response.status_code == 400
        assert ("Indica il motivo." in html) or ("al massimo 1000 caratteri" in html)
        assert "<details" in html and " open" in html  # the form is open with its error
    assert db.session.get(Organisation, org.id).status == "pending"
    assert membership_of(representative).status == "pending"
    assert audit_actions("organisation", org.id) == []
    deliver_outbox()
    assert smtp_sink.messages == []


def test_rejecting_an_organisation_tells_the_founder_why(deliver_outbox, client, admin_user, pending_request, representative,
                                                        smtp_sink):
    org = pending_request(name="Associazione Dubbia")
    client.login(admin_user)
    response = client.post(f"/gestione/organizzazioni/{org.id}/rifiuta",
                           data={"reason": "Il codice fiscale appartiene a un altro ente.",
                                 "next": f"/gestione/organizzazioni/{org.id}/"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/gestione/organizzazioni/{org.id}/"

    org = db.session.get(Organisation, org.id)
    assert org.status == "rejected" and org.rejection_reason == "Il codice fiscale appartiene a un altro ente."
    membership = membership_of(representative)
    assert membership.status == "rejected" and membership.rejection_reason == org.rejection_reason
    assert audit_actions("organisation", org.id)[-1] == "organisation.reject"
    assert audit_actions("membership", membership.id)[-1] == "membership.reject"
    assert notifications_for(representative) == ["organisation.rejected"]

    deliver_outbox()
    smtp_sink.wait_for(1)
    message = smtp_sink.to(representative.email)[0]
    assert message["Subject"] == "La richiesta per «Associazione Dubbia» è stata respinta"
    assert "Il codice fiscale appartiene a un altro ente." in smtp_sink.text_of(message)
    assert "http://localhost/organizzazioni/richiesta" in smtp_sink.links_in(message)

    # The founder may now ask again.
    client.login(representative)
    page = text(client.get("/organizzazioni/richiesta"))
    assert "Richiesta respinta" in page and 'name="tax_code"' in page


@pytest.mark.parametrize(("status", "url", "data", "message"), [
    ("verified", "verifica", {}, "Questa organizzazione è già verificata."),
    ("rejected", "rifiuta", {"reason": "Di nuovo"}, "Questa organizzazione è già stata respinta."),
])
def test_acting_on_an_organisation_already_decided_is_a_conflict(client, admin_user, create_organisation,
                                                                 status, url, data, message):
    org = create_organisation(status=status)
    client.login(admin_user)
    response = client.post(f"/gestione/organizzazioni/{org.id}/{url}", data=data)
    assert response.status_code == 409
    assert message in text(response)
    assert db.session.get(Organisation, org.id).status == status
    assert audit_actions() == []


def test_a_rejected_organisation_can_be_verified_after_all(client, admin_user, create_organisation):
    org = create_organisation(status="rejected")
    client.login(admin_user)
    assert client.post(f"/gestione/organizzazioni/{org.id}/verifica").status_code == 302
    org = db.session.get(Organisation, org.id)
    assert org.status == "verified" and org.rejection_reason is None


def test_revoking_a_verified_organisation_ends_its_memberships(deliver_outbox, client, admin_user, create_organisation,
                                                               create_user, smtp_sink):
    org = create_organisation(name="Associazione Sciolta")
    member = create_user(organisation=org, email="membro@example.org")
    client.login(admin_user)
    assert "Revoca la verifica" in text(client.get(f"/gestione/organizzazioni/{org.id}/"))
    response = client.post(f"/gestione/organizzazioni/{org.id}/rifiuta", data={"reason": "L'associazione si è sciolta."})
    assert response.status_code == 302
    assert "La verifica di «Associazione Sciolta» è stata revocata." in text(client.get(response.headers["Location"]))
    assert db.session.get(Organisation, org.id).status == "rejected"
    membership = membership_of(member)
    assert membership.status == "rejected"
    assert audit_actions("organisation", org.id) == ["organisation.revoke"]
    assert audit_actions("membership", membership.id) == ["membership.revoke"]
    assert notifications_for(member) == ["organisation.revoked"]
    deliver_outbox()
    smtp_sink.wait_for(1)
    assert smtp_sink.to("membro@example.org")[0]["Subject"] == "«Associazione Sciolta» non è più un'organizzazione verificata"
    assert "Associazione Sciolta" not in text(client.get("/organizzazioni/"))


def test_accepting_a_join_request(deliver_outbox, client, admin_user, create_organisation, create_user, smtp_sink):
    org = create_organisation(name="Cooperativa Aurora", type="social_coop")
    joiner = create_user(email="socio@example.org", display_name="Sara Socia")
    membership = Membership(user_id=joiner.id, organisation_id=org.id)
    db.session.add(membership)
    db.session.commit()
    client.login(admin_user)
    response = client.post(f"/gestione/adesioni/{membership.id}/accetta")
    assert response.status_code == 302
    membership = membership_of(joiner)
    assert membership.status == "active" and membership.decided_at is not None
    assert audit_actions("membership", membership.id) == ["membership.accept"]
    assert notifications_for(joiner) == ["membership.accepted"]
    deliver_outbox()
    smtp_sink.wait_for(1)
    assert smtp_sink.to("socio@example.org")[0]["Subject"] == "Ora rappresenti «Cooperativa Aurora»"

    # Accepting again is a conflict.
    response = client.post(f"/gestione/adesioni/{membership.id}/accetta")
    assert response.status_code == 409
    assert "non è in attesa di decisione" in text(response)


def test_rejecting_and_revoking_a_membership(deliver_outbox, client, admin_user, create_organisation, create_user, smtp_sink):
    org = create_organisation(name="Cooperativa Aurora")
    joiner = create_user(email="socio@example.org")
    membership = Membership(user_id=joiner.id, organisation_id=org.id)
    db.session.add(membership)
    db.session.commit()
    client.login(admin_user)

    response = client.post(f"/gestione/adesioni/{membership.id}/rifiuta", data={"reason": ""})
    assert response.status_code == 400 and "Indica il motivo." in text(response)
    assert membership_of(joiner).status == "pending"

    response = client.post(f"/gestione/adesioni/{membership.id}/rifiuta",
                           data={"reason": "Non risulta tra i soci."})
    assert response.status_code == 302
    assert membership_of(joiner).status == "rejected"
    assert notifications_for(joiner) == ["membership.rejected"]
    deliver_outbox()
    smtp_sink.wait_for(1)
    assert "Non risulta tra i soci." in smtp_sink.text_of(smtp_sink.to("socio@example.org")[0])

    response = client.post(f"/gestione/adesioni/{membership.id}/rifiuta", data={"reason": "Ancora"})
    assert response.status_code == 409

    member = create_user(organisation=org, email="attivo@example.org")
    active = membership_of(member)
    response = client.post(f"/gestione/adesioni/{active.id}/rifiuta", data={"reason": "Ha lasciato l'associazione."})
    assert response.status_code == 302
    assert membership_of(member).status == "rejected"
    assert audit_actions("membership", active.id) == ["membership.revoke"]
    assert notifications_for(member) == ["membership.revoked"]


def test_the_founder_of_a_pending_organisation_is_not_accepted_alone(client, admin_user, pending_request,
                                                                     representative):
    pending_request()
    membership = membership_of(representative)
    client.login(admin_user)
    html = text(client.get(f"/gestione/adesioni/{membership.id}/"))
    assert "sarà decisa insieme all'organizzazione" in html
    response = client.post(f"/gestione/adesioni/{membership.id}/accetta")
    assert response.status_code == 409
    assert "L'organizzazione non è ancora verificata" in text(response)
    assert membership_of(representative).status == "pending"


def test_decisions_without_csrf_are_refused(client, admin_user, pending_request, representative):
    org = pending_request()
    client.login(admin_user)
    assert client.post(f"/gestione/organizzazioni/{org.id}/verifica", csrf=False).status_code == 400
    assert client.post(f"/gestione/organizzazioni/{org.id}/rifiuta", data={"reason": "x"},
                       csrf=False).status_code == 400
    membership = membership_of(representative)
    assert client.post(f"/gestione/adesioni/{membership.id}/rifiuta", data={"reason": "x"},
                       csrf=False).status_code == 400
    assert db.session.get(Organisation, org.id).status == "pending"
    assert audit_actions() == []


def test_an_offsite_next_is_ignored(client, admin_user, pending_request):
    org = pending_request()
    client.login(admin_user)
    response = client.post(f"/gestione/organizzazioni/{org.id}/verifica", data={"next": "https://evil.example/"})
    assert response.headers["Location"] == "/gestione/organizzazioni/"


def test_the_organisation_page_shows_data_members_and_history(client, admin_user, pending_request, representative):
    org = pending_request(name="Associazione Il Girasole", tax_code="01234560553")
    client.login(admin_user)
    client.post(f"/gestione/organizzazioni/{org.id}/verifica")
    html = text(client.get(f"/gestione/organizzazioni/{org.id}/"))
    assert "01234560553" in html and "Rita Rappresentante" in html
    assert "Organizzazione verificata" in html and "Rappresentanza confermata" in html
    assert "ha registrato l'organizzazione" in html
    assert client.get("/gestione/organizzazioni/999999/").status_code == 404
    assert client.get("/gestione/adesioni/999999/").status_code == 404


def test_the_list_of_all_organisations_filters_by_status(client, admin_user, create_organisation):
    create_organisation(name="Verificata Uno")
    create_organisation(name="In attesa Due", status="pending")
    client.login(admin_user)
    html = text(client.get("/gestione/organizzazioni/elenco?stato=pending"))
    assert "In attesa Due" in html and "Verificata Uno" not in html
    assert "Verificata Uno" in text(client.get("/gestione/organizzazioni/elenco?q=uno"))
    assert client.get("/gestione/organizzazioni/elenco?stato=boh").status_code == 400
