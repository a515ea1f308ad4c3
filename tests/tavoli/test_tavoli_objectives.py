"""Draft objectives: create, edit, publish (revision 1), revise (revision n+1), approve, drop; the diff."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from consulta.core.audit import AuditEvent
from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.tavoli.models import Follow, Objective, ObjectiveRevision


def revisions_of(objective) -> list[tuple[int, str, str, str | None]]:
    return [(r.number, r.title, r.body, r.note) for r in db.session.execute(
        select(ObjectiveRevision).where(ObjectiveRevision.objective_id == objective.id)
        .order_by(ObjectiveRevision.number)).scalars()]


def test_facilitator_writes_publishes_and_revises_an_objective(
        client, ambito, create_tavolo, facilitator, create_user, login):
    tavolo = create_tavolo(slug="anziani", title="Anziani", facilitators=[facilitator])
    follower = create_user()
    db.session.add(Follow(user_id=follower.id, tavolo_id=tavolo.id))
    db.session.commit()
    login(facilitator)

    # A draft: only facilitators see it, edits leave no revision.
    response = client.post("/facilitazione/tavoli/anziani/obiettivi/nuovo", data={
        "title": "Sostenere la domiciliarità", "body": "Ampliare l'assistenza domiciliare."})
    objective = db.session.execute(select(Objective)).unique().scalar_one()
    assert response.status_code == 302
    assert response.headers["Location"] == f"/tavoli/anziani/obiettivi/{objective.id}/"
    assert objective.status == "draft" and objective.created_by_id == facilitator.id
    client.post(f"/facilitazione/tavoli/anziani/obiettivi/{objective.id}/modifica", data={
        "title": "Sostenere la domiciliarità", "body": "Ampliare l'assistenza domiciliare agli anziani soli."})
    db.session.refresh(objective)
    assert objective.body == "Ampliare l'assistenza domiciliare agli anziani soli."
    assert revisions_of(objective) == []
    assert db.session.execute(select(func.count()).select_from(Notification)).scalar_one() == 0

    # Publishing stores revision 1 and tells the followers.
    response = client.post(f"/facilitazione/tavoli/anziani/obiettivi/{objective.id}/stato",
                           data={"target": "published"})
    assert response.status_code == 302
    db.session.refresh(objective)
    assert objective.status == "published" and objective.published_at is not None
    assert revisions_of(objective) == [
        (1, "Sostenere la domiciliarità", "Ampliare l'assistenza domiciliare agli anziani soli.", None)]

    # An edit after publication is revision 2, with its reason.
    response = client.post(f"/facilitazione/tavoli/anziani/obiettivi/{objective.id}/modifica", data={
        "title": "Sostenere la domiciliarità", "body": "Ampliare l'assistenza domiciliare ai grandi anziani soli.",
        "note": "Accolta l'osservazione dello SPI"})
    assert response.status_code == 302
    assert "Modifica salvata come revisione 2." in client.get(response.headers["Location"]).get_data(as_text=True)
    assert [r[0] for r in revisions_of(objective)] == [1, 2]
    assert revisions_of(objective)[1][3] == "Accolta l'osservazione dello SPI"

    events = [n.event for n in db.session.execute(
        select(Notification).where(Notification.user_id == follower.id).order_by(Notification.id)).scalars()]
    assert events == ["objective.published", "objective.revised"]
    actions = list(db.session.execute(select(AuditEvent.action).order_by(AuditEvent.id)).scalars())
    assert actions == ["objective.create", "objective.update", "objective.publish", "objective.revise"]

    # The public sees the current text, the revision list and the diff.
    client.logout()
    page = client.get(f"/tavoli/anziani/obiettivi/{objective.id}/").get_data(as_text=True)
    assert "ai grandi anziani soli" in page
    assert "Revisione 2" in page and "Accolta l&#39;osservazione dello SPI" in page
    diff = client.get(f"/tavoli/anziani/obiettivi/{objective.id}/revisioni?da=1&a=2")
    html = diff.get_data(as_text=True)
    assert diff.status_code == 200
    assert '<del class="diff-del"><span class="visually-hidden">[tolto] </span>agli</del>' in html
    assert '<ins class="diff-add"><span class="visually-hidden">[aggiunto] </span>ai grandi</ins>' in html


def test_saving_an_unchanged_published_objective_adds_no_revision(
        client, ambito, create_tavolo, facilitator, create_objective, login):
    tavolo = create_tavolo(slug="t", facilitators=[facilitator])
    objective = create_objective(tavolo, title="Titolo", body="Testo")
    login(facilitator)
    response = client.post(f"/facilitazione/tavoli/t/obiettivi/{objective.id}/modifica",
                           data={"title": "Titolo", "body": "Testo", "note": ""})
    assert response.status_code == 302
    assert [r[0] for r in revisions_of(objective)] == [1]


def test_approve_and_drop_then_no_more_edits(client, ambito, create_tavolo, facilitator, create_objective, login):
    tavolo = create_tavolo(slug="t", facilitators=[facilitator])
    kept = create_objective(tavolo, title="Da approvare")
    dropped = create_objective(tavolo, title="Da ritirare")
    draft = create_objective(tavolo, title="Bozza da ritirare", status="draft")
    login(facilitator)
    for objective, target in ((kept, "approved"), (dropped, "dropped"), (draft, "dropped")):
        assert client.post(f"/facilitazione/tavoli/t/obiettivi/{objective.id}/stato",
                           data={"target": target}).status_code == 302
    assert [db.session.get(Objective, o.id).status for o in (kept, dropped, draft)] == [
        "approved", "dropped", "dropped"]

    response = client.get(f"/facilitazione/tavoli/t/obiettivi/{kept.id}/modifica")
    assert response.status_code == 409
    response = client.post(f"/facilitazione/tavoli/t/obiettivi/{kept.id}/modifica", data={"title": "x", "body": "y"})
    assert response.status_code == 409
    assert db.session.get(Objective, kept.id).title == "Da approvare"
    # Approved is final: no way back to published, no second approval.
    assert client.post(f"/facilitazione/tavoli/t/obiettivi/{kept.id}/stato",
                       data={"target": "published"}).status_code == 409
    assert client.post(f"/facilitazione/tavoli/t/obiettivi/{kept.id}/stato",
                       data={"target": "dropped"}).status_code == 409
    assert client.post(f"/facilitazione/tavoli/t/obiettivi/{kept.id}/stato",
                       data={"target": "nonsense"}).status_code == 400


def test_a_draft_cannot_be_approved_directly(client, ambito, create_tavolo, facilitator, create_objective, login):
    tavolo = create_tavolo(slug="t", facilitators=[facilitator])
    draft = create_objective(tavolo, status="draft")
    audited = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
    login(facilitator)
    response = client.post(f"/facilitazione/tavoli/t/obiettivi/{draft.id}/stato", data={"target": "approved"})
    assert response.status_code == 409
    assert db.session.get(Objective, draft.id).status == "draft"
    assert db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one() == audited


@pytest.mark.parametrize(("data", "message"), [
    ({"title": ""}, "Questo campo è obbligatorio."),
    ({"title": "O" * 10_000}, "Al massimo 300 caratteri."),
    ({"body": "   "}, "Questo campo è obbligatorio."),
    ({"body": "b" * 20_001}, "Al massimo 20000 caratteri."),
])
def test_bad_objective_input(client, ambito, create_tavolo, facilitator, login, data, message):
    create_tavolo(slug="t", facilitators=[facilitator])
    login(facilitator)
    response = client.post("/facilitazione/tavoli/t/obiettivi/nuovo", data={"title": "Titolo", "body": "Testo", **data})
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert db.session.execute(select(func.count()).select_from(Objective)).scalar_one() == 0


def test_overlong_note_is_refused_and_no_revision_is_stored(
        client, ambito, create_tavolo, facilitator, create_objective, login):
    tavolo = create_tavolo(slug="t", facilitators=[facilitator])
    objective = create_objective(tavolo, title="Titolo", body="Testo")
    login(facilitator)
    response = client.post(f"/facilitazione/tavoli/t/obiettivi/{objective.id}/modifica",
                           data={"title": "Titolo", "body": "Testo nuovo", "note": "n" * 501})
    assert response.status_code == 400
    assert "Al massimo 500 caratteri." in response.get_data(as_text=True)
    assert "Testo nuovo" in response.get_data(as_text=True)
    assert [r[0] for r in revisions_of(objective)] == [1]
    assert db.session.get(Objective, objective.id).body == "Testo"


def test_script_in_objective_body_is_inert_and_emoji_and_rtl_survive(
        client, ambito, create_tavolo, facilitator, login):
    create_tavolo(slug="t", facilitators=[facilitator])
    login(facilitator)
    body = ('Testo <script>alert("x")</script> [link](javascript:alert(1)) '
            '<img src=x onerror=alert(1)> 👩‍👩‍👧 مرحبا')
    client.post("/facilitazione/tavoli/t/obiettivi/nuovo", data={"title": "Famiglie 👨‍👩‍👧 مرحبا", "body": body})
    objective = db.session.execute(select(Objective)).unique().scalar_one()
    client.post(f"/facilitazione/tavoli/t/obiettivi/{objective.id}/stato", data={"target": "published"})
    client.post(f"/facilitazione/tavoli/t/obiettivi/{objective.id}/modifica",
                data={"title": "Famiglie 👨‍👩‍👧 مرحبا", "body": body + " <b onmouseover=x>fine</b>"})
    assert objective.title == "Famiglie 👨‍👩‍👧 مرحبا"
    page = client.get(f"/tavoli/t/obiettivi/{objective.id}/").get_data(as_text=True)
    diff = client.get(f"/tavoli/t/obiettivi/{objective.id}/revisioni?da=1&a=2").get_data(as_text=True)
    for html in (page, diff):
        assert "<script>alert" not in html and "<img" not in html
        assert 'href="javascript:' not in html and "<b onmouseover" not in html
        assert "👩‍👩‍👧" in html and "مرحبا" in html
    assert "&lt;b onmouseover=x&gt;fine&lt;/b&gt;" in diff


def test_draft_objective_is_404_for_the_public(client, ambito, create_tavolo, facilitator, create_objective,
                                               dummy_user, login):
    tavolo = create_tavolo(slug="t", facilitators=[facilitator])
    draft = create_objective(tavolo, title="Bozza riservata", status="draft")
    assert client.get(f"/tavoli/t/obiettivi/{draft.id}/").status_code == 404
    login(dummy_user)
    assert client.get(f"/tavoli/t/obiettivi/{draft.id}/").status_code == 404
    assert "Bozza riservata" not in client.get("/tavoli/t/").get_data(as_text=True)
    client.logout()
    login(facilitator)
    response = client.get(f"/tavoli/t/obiettivi/{draft.id}/")
    assert response.status_code == 200 and "Questa è una bozza" in response.get_data(as_text=True)
    assert "Bozza riservata" in client.get("/tavoli/t/").get_data(as_text=True)


def test_objective_of_another_tavolo_is_404(client, ambito, create_tavolo, create_objective):
    create_tavolo(slug="uno")
    other = create_objective(create_tavolo(slug="due"))
    assert client.get(f"/tavoli/uno/obiettivi/{other.id}/").status_code == 404
    assert client.get(f"/tavoli/due/obiettivi/{other.id}/").status_code == 200
    assert client.get("/tavoli/due/obiettivi/999999/").status_code == 404
    assert client.get("/tavoli/due/obiettivi/abc/").status_code == 404
