"""A participant puts forward a proposal at a tavolo."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from consulta.core.audit import AuditEvent
from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.proposals.models import Proposal
from consulta.tavoli.models import Follow

ROLES = ["anonymous", "unverified", "blocked", "participant", "representative", "facilitator", "admin"]
PHASES = {
    # phase name in the table -> create_tavolo arguments
    "draft": {"phase": "draft"},
    "open": {"phase": "open"},
    "discussion": {"phase": "discussion"},
    "closed": {"phase": "closed"},
    "past_deadline": {"phase": "open", "deadline_days": -1},
}
# Expected status of GET /tavoli/<slug>/proposte/nuova; a POST answers the same, with 302 instead of 200.
EXPECTED = {
    "draft":         {"anonymous": 404, "unverified": 404, "blocked": 404, "participant": 404,
                      "representative": 404, "facilitator": 409, "admin": 409},
    "open":          {"anonymous": 302, "unverified": 403, "blocked": 403, "participant": 200,
                      "representative": 200, "facilitator": 200, "admin": 200},
    "discussion":    {"anonymous": 302, "unverified": 403, "blocked": 403, "participant": 409,
                      "representative": 409, "facilitator": 409, "admin": 409},
    "closed":        {"anonymous": 302, "unverified": 403, "blocked": 403, "participant": 409,
                      "representative": 409, "facilitator": 409, "admin": 409},
    "past_deadline": {"anonymous": 302, "unverified": 403, "blocked": 403, "participant": 409,
                      "representative": 409, "facilitator": 409, "admin": 409},
}
MESSAGES = {
    403: {"unverified": "verificare il tuo indirizzo e-mail", "blocked": "Il tuo account è sospeso"},
    409: {"closed": "non accetta più nuove proposte", "discussion": "non accetta più nuove proposte",
          "past_deadline": "Il termine per presentare proposte a questo tavolo è scaduto",
          "draft": "ancora in preparazione"},
}
TABLE = [(phase, role, EXPECTED[phase][role]) for phase in PHASES for role in ROLES]


def new_url(tavolo):
    return f"/tavoli/{tavolo.slug}/proposte/nuova"


def valid_data(**overrides):
    data = {"title": "Un centro diurno a Narni", "body": "Proponiamo un **centro diurno** aperto tutto l'anno."}
    data.update(overrides)
    return data


def stored():
    return db.session.execute(select(Proposal).order_by(Proposal.id)).scalars().all()


def proposal_id_from(response) -> int:
    match = re.fullmatch(r"/proposte/(\d+)/", response.headers["Location"])
    assert match, response.headers["Location"]
    return int(match.group(1))


@pytest.mark.parametrize(("phase", "role", "expected"), TABLE)
def test_who_may_open_the_new_proposal_form(cast, create_tavolo, login_as, phase, role, expected):
    tavolo = create_tavolo(slug="t", facilitators=[cast.facilitator], **PHASES[phase])
    client = login_as(cast.get(role))

    response = client.get(new_url(tavolo))

    assert response.status_code == expected
    html = response.get_data(as_text=True)
    if expected == 302:
        assert "/accedi" in response.headers["Location"]
    elif expected == 200:
        assert "Nuova proposta" in html and 'name="title"' in html
    elif expected in MESSAGES:
        message = MESSAGES[expected].get(role) or MESSAGES[expected].get(phase)
        assert message in html


@pytest.mark.parametrize(("phase", "role", "expected"), TABLE)
def test_who_may_submit_a_proposal(cast, create_tavolo, login_as, phase, role, expected):
    tavolo = create_tavolo(slug="t", facilitators=[cast.facilitator], **PHASES[phase])
    client = login_as(cast.get(role))

    response = client.post(new_url(tavolo), data=valid_data())

    if expected == 200:
        assert response.status_code == 302
        assert len(stored()) == 1
    else:
        assert response.status_code == expected
        assert stored() == []
        assert db.session.execute(select(AuditEvent).where(AuditEvent.action.like("proposal.%"))).first() is None


def test_in_a_post_moderated_tavolo_the_proposal_is_published_at_once(cast, open_tavolo, login_as):
    client = login_as(cast.citizen)

    response = client.post(new_url(open_tavolo), data=valid_data())

    proposal_id = proposal_id_from(response)
    proposal = db.session.get(Proposal, proposal_id)
    assert proposal.state == "published" and proposal.visibility == "visible"
    assert proposal.published_at is not None
    assert proposal.author_id == cast.citizen.id and proposal.tavolo_id == open_tavolo.id
    assert proposal.category == "citizen" and proposal.organisation_id is None
    assert proposal.body == "Proponiamo un **centro diurno** aperto tutto l'anno."
    assert "<strong>centro diurno</strong>" in proposal.body_html
    actions = db.session.execute(
        select(AuditEvent.action, AuditEvent.changes).where(AuditEvent.subject_id == proposal_id)
        .order_by(AuditEvent.id)).all()
    assert [a for a, _ in actions] == ["proposal.submit", "proposal.publish"]
    assert actions[1][1]["state"] == ["submitted", "published"]

    page = client.get(response.headers["Location"])
    html = page.get_data(as_text=True)
    assert "La tua proposta è stata pubblicata." in html
    assert "Un centro diurno a Narni" in html and "Pubblicata" in html
    # Anyone can read it.
    client.logout()
    assert client.get(f"/proposte/{proposal_id}/").status_code == 200


def test_in_a_pre_moderated_tavolo_the_proposal_waits_for_moderation(cast, create_tavolo, create_user, login_as):
    tavolo = create_tavolo(slug="t", moderation="pre", facilitators=[cast.facilitator])
    client = login_as(cast.citizen)

    response = client.post(new_url(tavolo), data=valid_data())

    proposal_id = proposal_id_from(response)
    proposal = db.session.get(Proposal, proposal_id)
    assert proposal.state == "submitted" and proposal.visibility == "pending" and proposal.published_at is None
    html = client.get(f"/proposte/{proposal_id}/").get_data(as_text=True)
    assert "in attesa di moderazione" in html
    assert "In attesa di moderazione" in html

    # Nobody but the author and the moderators knows it exists.
    client.logout()
    assert client.get(f"/proposte/{proposal_id}/").status_code == 404
    client.login(create_user())
    assert client.get(f"/proposte/{proposal_id}/").status_code == 404
    client.logout()
    client.login(cast.facilitator)
    assert client.get(f"/proposte/{proposal_id}/").status_code == 200


def test_the_author_follows_the_proposal_automatically(cast, open_tavolo, login_as, count_rows):
    client = login_as(cast.citizen)

    proposal_id = proposal_id_from(client.post(new_url(open_tavolo), data=valid_data()))

    assert count_rows(Follow, Follow.user_id == cast.citizen.id, Follow.proposal_id == proposal_id) == 1
    assert "Non seguire più" in client.get(f"/proposte/{proposal_id}/").get_data(as_text=True)


def test_followers_of_the_tavolo_are_notified_when_a_proposal_is_published(cast, open_tavolo, create_user,
                                                                             login_as):
    followers = [create_user(), create_user()]
    for user in [*followers, cast.citizen]:
        db.session.add(Follow(user_id=user.id, tavolo_id=open_tavolo.id))
    db.session.commit()
    client = login_as(cast.citizen)

    proposal_id = proposal_id_from(client.post(new_url(open_tavolo), data=valid_data()))

    rows = db.session.execute(select(Notification).order_by(Notification.user_id)).scalars().all()
    # Everyone following the tavolo, except the author who wrote it.
    assert [n.user_id for n in rows] == sorted(u.id for u in followers)
    assert {(n.event, n.subject_type, n.subject_id, n.tavolo_id) for n in rows} == {
        ("proposal.published", "proposal", proposal_id, open_tavolo.id)}


def test_no_notification_while_a_proposal_waits_for_moderation(cast, create_tavolo, create_user, login_as,
                                                                count_rows):
    tavolo = create_tavolo(slug="t", moderation="pre")
    db.session.add(Follow(user_id=create_user().id, tavolo_id=tavolo.id))
    db.session.commit()

    login_as(cast.citizen).post(new_url(tavolo), data=valid_data())

    assert count_rows(Proposal) == 1
    assert count_rows(Notification) == 0


def test_a_representative_submits_on_behalf_of_the_organisation(cast, open_tavolo, login_as):
    client = login_as(cast.representative)
    form = client.get(new_url(open_tavolo)).get_data(as_text=True)
    assert "A nome di Auser Narni" in form and "A titolo personale (cittadino/a)" in form

    response = client.post(new_url(open_tavolo), data=valid_data(presenter=str(cast.organisation.id)))

    proposal = db.session.get(Proposal, proposal_id_from(response))
    assert proposal.organisation_id == cast.organisation.id
    assert proposal.category == "volunteer"
    html = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    assert "Auser Narni" in html and "Organizzazione di volontariato" in html
    assert "Rita Rappresentante" in html


def test_a_representative_may_also_submit_as_a_citizen(cast, open_tavolo, login_as):
    client = login_as(cast.representative)

    response = client.post(new_url(open_tavolo), data=valid_data(presenter="citizen"))

    proposal = db.session.get(Proposal, proposal_id_from(response))
    assert proposal.organisation_id is None and proposal.category == "citizen"
    assert "cittadino/a" in client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)


def test_a_citizen_does_not_see_the_on_behalf_choice(cast, open_tavolo, login_as):
    html = login_as(cast.citizen).get(new_url(open_tavolo)).get_data(as_text=True)
    assert 'name="presenter"' not in html


@pytest.mark.parametrize("who", ["citizen", "representative_of_another", "representative_of_unverified"])
def test_nobody_submits_on_behalf_of_an_organisation_they_do_not_represent(
        cast, open_tavolo, create_organisation, create_user, login_as, who):
    other = create_organisation(name="Cooperativa Altrove", type="social_coop")
    if who == "citizen":
        user = cast.citizen
    elif who == "representative_of_another":
        user = cast.representative
    else:
        pending = create_organisation(name="In attesa", type="aps", status="pending")
        user = create_user(organisation=pending)
        other = pending
    client = login_as(user)

    response = client.post(new_url(open_tavolo), data=valid_data(presenter=str(other.id)))

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Puoi presentare proposte solo a tuo nome o a nome dell" in html
    assert "organizzazione verificata che rappresenti" in html
    assert "Un centro diurno a Narni" in html  # the input is kept
    assert stored() == []


def test_a_proposal_can_be_linked_to_a_published_objective_of_the_tavolo(cast, open_tavolo, create_objective,
                                                                         login_as):
    objective = create_objective(open_tavolo, title="Più assistenza domiciliare")
    create_objective(open_tavolo, title="Bozza riservata", status="draft")
    client = login_as(cast.citizen)
    form = client.get(new_url(open_tavolo)).get_data(as_text=True)
    assert "Più assistenza domiciliare" in form and "Bozza riservata" not in form

    response = client.post(new_url(open_tavolo), data=valid_data(objective=str(objective.id)))

    proposal = db.session.get(Proposal, proposal_id_from(response))
    assert proposal.objective_id == objective.id
    html = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    assert "Più assistenza domiciliare" in html
    assert f"/tavoli/{open_tavolo.slug}/obiettivi/{objective.id}/" in html


@pytest.mark.parametrize(("which", "message"), [
    ("other_tavolo", "appartiene a un altro tavolo"),
    ("draft", "non è aperto alle proposte"),
    ("missing", "non esiste"),
    ("not_a_number", "non è valido"),
])
def test_a_proposal_cannot_be_linked_to_a_foreign_or_unknown_objective(
        cast, open_tavolo, create_tavolo, create_objective, login_as, which, message):
    other_tavolo = create_tavolo(slug="giovani", title="Giovani")
    ids = {
        "other_tavolo": lambda: str(create_objective(other_tavolo, title="Obiettivo dei giovani").id),
        "draft": lambda: str(create_objective(open_tavolo, status="draft").id),
        "missing": lambda: "987654",
        "not_a_number": lambda: "1 OR 1=1",
    }
    client = login_as(cast.citizen)

    response = client.post(new_url(open_tavolo), data=valid_data(objective=ids[which]()))

    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert stored() == []


@pytest.mark.parametrize(("title", "body", "message"), [
    ("", "Un testo.", "Scrivi il titolo della proposta."),
    ("   \t ", "Un testo.", "Scrivi il titolo della proposta."),
    ("x" * 10_000, "Un testo.", "Il titolo può avere al massimo 200 caratteri."),
    ("x" * 201, "Un testo.", "Il titolo può avere al massimo 200 caratteri."),
    ("Un titolo", "", "Scrivi il testo della proposta."),
    ("Un titolo", "y" * 20_001, "Il testo può avere al massimo 20000 caratteri."),
])
def test_bad_title_or_text_is_refused_with_a_clear_message(cast, open_tavolo, login_as, title, body, message):
    client = login_as(cast.citizen)

    response = client.post(new_url(open_tavolo), data={"title": title, "body": body})

    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    if body and len(body) < 100:
        assert body in html  # what the user typed is still there
    assert stored() == []


def test_a_title_of_exactly_200_characters_is_accepted(cast, open_tavolo, login_as):
    client = login_as(cast.citizen)
    response = client.post(new_url(open_tavolo), data=valid_data(title="é" * 200))
    assert db.session.get(Proposal, proposal_id_from(response)).title == "é" * 200


XSS_BODY = """Testo con trappole:

<script>alert('body')</script>

[clicca qui](javascript:alert('link'))

<img src=x onerror="alert('img')">

<p style="color:red" onclick="alert('p')">stile</p>

[link buono](https://www.comune.narni.tr.it/)
"""


class _MarkupAudit(HTMLParser):
    """Collects what could run in a page: scripts, event handlers, styles, javascript: URLs."""

    def __init__(self):
        super().__init__()
        self.scripts: list[str | None] = []
        self.dangerous: list[tuple[str, str, str | None]] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag == "script":
            self.scripts.append(dict(attrs).get("src"))
        for name, value in attrs:
            if name.startswith("on") or name == "style" or (
                    name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript")):
                self.dangerous.append((tag, name, value))


def audit_markup(html: str) -> _MarkupAudit:
    parser = _MarkupAudit()
    parser.feed(html)
    return parser


def test_scripts_links_handlers_and_styles_are_rendered_inert(cast, open_tavolo, login_as):
    client = login_as(cast.citizen)

    response = client.post(new_url(open_tavolo), data={"title": "<script>alert('title')</script>", "body": XSS_BODY})

    proposal = db.session.get(Proposal, proposal_id_from(response))
    assert proposal.title == "<script>alert('title')</script>"  # kept as text, escaped on output
    stored_markup = audit_markup(proposal.body_html)
    assert stored_markup.scripts == [] and stored_markup.dangerous == []
    assert "img" not in stored_markup.tags
    assert '<a href="https://www.comune.narni.tr.it/" rel="nofollow noopener ugc">link buono</a>' in proposal.body_html

    html = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    page_markup = audit_markup(html)
    # Only our own script files run; nothing the author wrote became markup.
    assert all(src and src.startswith("/static/") for src in page_markup.scripts)
    assert page_markup.dangerous == []
    assert "&lt;script&gt;alert(&#39;title&#39;)&lt;/script&gt;" in html
    assert "link buono" in html


EMOJI_TITLE = "Più servizi per le famiglie 👩‍👩‍👧‍👦 ✨"
RTL_TEXT = "خدمات لكبار السن في نارني — שירותים לקשישים"


def test_emoji_and_right_to_left_text_are_kept_intact(cast, open_tavolo, login_as):
    client = login_as(cast.citizen)
    body = f"{RTL_TEXT}\n\nCon affetto ❤️ e una bandiera 🇮🇹."

    response = client.post(new_url(open_tavolo), data={"title": EMOJI_TITLE, "body": body})

    proposal = db.session.get(Proposal, proposal_id_from(response))
    assert proposal.title == EMOJI_TITLE
    assert proposal.body == body
    html = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    assert EMOJI_TITLE in html and RTL_TEXT in html and "🇮🇹" in html


def test_unknown_tavolo_is_404(cast, login_as):
    assert login_as(cast.citizen).get("/tavoli/non-esiste/proposte/nuova").status_code == 404


def test_a_submission_without_csrf_token_is_refused(cast, open_tavolo, login_as):
    response = login_as(cast.citizen).post(new_url(open_tavolo), data=valid_data(), csrf=False)
    assert response.status_code == 400
    assert "Il modulo è scaduto o non è valido" in response.get_data(as_text=True)
    assert stored() == []
