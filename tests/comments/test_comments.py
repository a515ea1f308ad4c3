"""Comments on proposals and objectives: write, reply, edit, delete, moderation modes, stances."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from sqlalchemy import select

from consulta.comments.models import Comment
from consulta.core.audit import AuditEvent
from consulta.core.notify import Notification
from consulta.extensions import db


@pytest.fixture
def render_thread(app):
    """The thread partial as `user` sees it, rendered in a request like the subject pages do."""
    from flask import g, render_template_string
    from flask_login import current_user, login_user

    from consulta.comments.queries import comment_thread

    def render(subject, user=None):
        with app.test_request_context("/"):
            g.pop("_login_user", None)  # `g` outlives the request here: forget who rendered before
            if user is not None:
                login_user(user)
            db.session.expire_all()
            return render_template_string('{% include "comments/_thread.html" %}',
                                          thread=comment_thread(subject, current_user), subject=subject)

    return render


@pytest.fixture
def proposal(tavolo, cast, create_proposal):
    return create_proposal(tavolo, cast.representative, title="Un centro diurno a Narni")


def comments_of(subject):
    column = Comment.proposal_id if subject.__tablename__ == "proposal" else Comment.objective_id
    return db.session.execute(select(Comment).where(column == subject.id).order_by(Comment.id)).scalars().all()


def post_comment(client, subject, **data):
    kind = "proposte" if subject.__tablename__ == "proposal" else "obiettivi"
    return client.post(f"/{kind}/{subject.id}/commenti", data=data)


# --------------------------------------------------------------------------- writing

def test_participant_comments_with_a_stance_and_sees_it_in_the_thread(client, cast, proposal, render_thread):
    client.login(cast.participant)
    response = post_comment(client, proposal, body="Serve anche a **Otricoli**.", stance="in_favour")

    [comment] = comments_of(proposal)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposte/{proposal.id}/#commento-{comment.id}"
    assert comment.body == "Serve anche a **Otricoli**."
    assert comment.body_html == "<p>Serve anche a <strong>Otricoli</strong>.</p>"
    assert (comment.stance, comment.visibility, comment.category) == ("in_favour", "visible", "citizen")
    assert comment.tavolo_id == proposal.tavolo_id and comment.author_id == cast.participant.id
    assert comment.organisation_id is None

    html = render_thread(proposal, cast.participant)
    assert "Serve anche a <strong>Otricoli</strong>." in html
    assert "Carla Cittadina" in html and "Cittadino/a" in html
    assert "1 a favore" in html and "0 contrari" in html
    assert f'id="commento-{comment.id}"' in html


def test_flash_message_after_commenting(client, cast, proposal):
    client.login(cast.participant)
    response = post_comment(client, proposal, body="Ottima idea.")
    assert response.status_code == 302
    with client.session_transaction() as sess:
        assert ("success", "Commento pubblicato.") in sess["_flashes"]


def test_representative_comments_for_the_organisation(client, cast, proposal, render_thread):
    client.login(cast.representative)
    post_comment(client, proposal, body="La cooperativa può gestire il servizio.", stance="neutral")
    [comment] = comments_of(proposal)
    assert comment.organisation_id == cast.organisation.id
    assert comment.category == "social_coop"
    html = render_thread(proposal)
    assert "Cooperativa Sociale Il Ponte · Cooperativa sociale" in html
    assert "Neutrale" in html


def test_comment_on_a_published_objective(client, cast, tavolo, create_objective, render_thread):
    objective = create_objective(tavolo)
    client.login(cast.participant)
    response = post_comment(client, objective, body="Obiettivo condivisibile.", stance="against")
    [comment] = comments_of(objective)
    assert response.status_code == 302
    assert response.headers["Location"] == f"/tavoli/{tavolo.slug}/obiettivi/{objective.id}/#commento-{comment.id}"
    assert comment.objective_id == objective.id and comment.proposal_id is None
    assert "1 contrario" in render_thread(objective)


@pytest.mark.parametrize("status, expected", [("draft", 404), ("approved", 409), ("dropped", 409)])
def test_objective_not_published_takes_no_comments(client, cast, tavolo, create_objective, status, expected):
    objective = create_objective(tavolo, status=status)
    client.login(cast.participant)
    response = post_comment(client, objective, body="Posso?")
    assert response.status_code == expected
    assert comments_of(objective) == []
    if expected == 409:
        assert "Questo obiettivo non accetta più commenti." in response.get_data(as_text=True)


def test_withdrawn_proposal_takes_no_comments(client, cast, tavolo, create_proposal):
    withdrawn = create_proposal(tavolo, cast.representative, state="withdrawn")
    client.login(cast.participant)
    response = post_comment(client, withdrawn, body="Peccato.")
    assert response.status_code == 409
    assert "non accetta commenti" in response.get_data(as_text=True)
    assert comments_of(withdrawn) == []


def test_post_moderated_comment_notifies_followers_but_not_the_author(client, cast, proposal, create_follow):
    create_follow(cast.admin, proposal=proposal)
    create_follow(cast.participant, proposal=proposal)
    client.login(cast.participant)
    post_comment(client, proposal, body="Seguo con interesse.")
    [comment] = comments_of(proposal)
    notes = db.session.execute(select(Notification).order_by(Notification.user_id)).scalars().all()
    # The followers, including the proposal's author (who follows it since submitting it); not the commenter.
    assert [(n.user_id, n.event, n.subject_type, n.subject_id) for n in notes] == [
        (user_id, "comment.created", "comment", comment.id)
        for user_id in sorted([cast.admin.id, proposal.author_id])]
    assert notes[0].data["subject_type"] == "proposal" and notes[0].data["subject_id"] == proposal.id


def test_comment_on_objective_notifies_the_tavolo_followers(client, cast, tavolo, create_objective, create_follow):
    objective = create_objective(tavolo)
    create_follow(cast.facilitator, tavolo=tavolo)
    client.login(cast.participant)
    post_comment(client, objective, body="Un commento.")
    notes = db.session.execute(select(Notification)).scalars().all()
    assert [(n.user_id, n.event) for n in notes] == [(cast.facilitator.id, "comment.created")]


# --------------------------------------------------------------------------- replies

def test_reply_goes_under_the_comment_and_tells_its_author(client, cast, proposal, create_comment, create_follow,
                                                           render_thread):
    parent = create_comment(proposal, cast.representative, body="Chi gestirebbe il centro?")
    create_follow(cast.representative, proposal=proposal)
    create_follow(cast.admin, proposal=proposal)
    client.login(cast.participant)
    response = post_comment(client, proposal, body="Il Comune, con le cooperative.", parent_id=str(parent.id))
    assert response.status_code == 302
    reply = comments_of(proposal)[-1]
    assert reply.parent_id == parent.id
    notes = {(n.user_id, n.event) for n in db.session.execute(select(Notification)).scalars()}
    # The parent's author gets the reply notice once, not also the follower notice.
    assert notes == {(cast.representative.id, "comment.reply"), (cast.admin.id, "comment.created")}
    html = render_thread(proposal)
    assert html.index("Chi gestirebbe il centro?") < html.index("Il Comune, con le cooperative.")
    assert 'class="comment-replies"' in html


def test_reply_to_a_reply_is_refused(client, cast, proposal, create_comment):
    parent = create_comment(proposal, cast.representative, body="Primo livello.")
    reply = create_comment(proposal, cast.admin, body="Secondo livello.", parent=parent)
    client.login(cast.participant)
    response = post_comment(client, proposal, body="Terzo livello, testo da conservare.", parent_id=str(reply.id))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "Si può rispondere solo ai commenti principali, non alle risposte." in html
    assert "Terzo livello, testo da conservare." in html  # the user's text is kept
    assert len(comments_of(proposal)) == 2


def test_reply_to_a_comment_of_another_subject_is_refused(client, cast, tavolo, proposal, create_proposal,
                                                          create_comment):
    other = create_proposal(tavolo, cast.admin, title="Altra proposta")
    foreign = create_comment(other, cast.representative, body="Altrove.")
    client.login(cast.participant)
    response = post_comment(client, proposal, body="Risposta fuori posto.", parent_id=str(foreign.id))
    assert response.status_code == 400
    assert "non appartiene a questa discussione" in response.get_data(as_text=True)
    assert comments_of(proposal) == [] and len(comments_of(other)) == 1


@pytest.mark.parametrize("parent_id", ["999999", "abc", "-3", "1e9", "99999999999999999999999"])
def test_reply_to_an_unknown_comment_is_refused(client, cast, proposal, parent_id):
    client.login(cast.participant)
    response = post_comment(client, proposal, body="Risposta a niente.", parent_id=parent_id)
    assert response.status_code == 400
    assert "Il commento a cui rispondi non esiste." in response.get_data(as_text=True)
    assert comments_of(proposal) == []


def test_reply_to_a_deleted_comment_is_a_conflict(client, cast, proposal, create_comment):
    from consulta.core.db import utcnow

    parent = create_comment(proposal, cast.representative, body="Poi rimosso.")
    parent.deleted_at = utcnow()
    db.session.commit()
    client.login(cast.participant)
    response = post_comment(client, proposal, body="Troppo tardi.", parent_id=str(parent.id))
    assert response.status_code == 409
    assert "è stato rimosso o non è pubblico" in response.get_data(as_text=True)
    assert len(comments_of(proposal)) == 1


# --------------------------------------------------------------------------- bad input

@pytest.mark.parametrize("body, message", [
    ("", "Scrivi il testo del commento."),
    ("   \n\t  ", "Scrivi il testo del commento."),
    ("x" * 10_001, "Il commento può contenere al massimo 10000 caratteri."),
])
def test_empty_or_too_long_comment_is_refused_with_the_form_again(client, cast, proposal, body, message):
    client.login(cast.participant)
    response = post_comment(client, proposal, body=body, stance="neutral")
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert message in html
    assert 'aria-invalid="true"' in html
    assert comments_of(proposal) == []


def test_control_characters_are_refused_before_the_form(client, cast, proposal):
    """The input guard (consulta/core/input_guard.py) answers 400 before the view: nothing is stored."""
    client.login(cast.participant)
    response = post_comment(client, proposal, body="\x00\x01\x02", stance="neutral")
    assert response.status_code == 400
    assert "La richiesta contiene caratteri di controllo non ammessi." in response.get_data(as_text=True)
    assert comments_of(proposal) == []


def test_a_comment_of_exactly_10000_characters_is_accepted(client, cast, proposal):
    client.login(cast.participant)
    assert post_comment(client, proposal, body="y" * 10_000).status_code == 302
    assert len(comments_of(proposal)[0].body) == 10_000


def test_unknown_stance_is_refused(client, cast, proposal):
    client.login(cast.participant)
    response = post_comment(client, proposal, body="Testo valido.", stance="maybe")
    assert response.status_code == 400
    assert "Scegli una posizione fra quelle proposte." in response.get_data(as_text=True)
    assert comments_of(proposal) == []


def test_comment_without_csrf_token_is_refused(client, cast, proposal):
    client.login(cast.participant)
    response = client.post(f"/proposte/{proposal.id}/commenti", data={"body": "Senza token."}, csrf=False)
    assert response.status_code == 400
    assert comments_of(proposal) == []


@pytest.mark.parametrize("url", ["/proposte/999999/commenti", "/obiettivi/999999/commenti",
                                 "/proposte/abc/commenti", "/obiettivi/0/commenti"])
def test_unknown_subject_is_404(client, cast, url):
    client.login(cast.participant)
    assert client.post(url, data={"body": "Dove?"}).status_code == 404


@pytest.mark.parametrize("url", ["/commenti/999999/modifica", "/commenti/abc/modifica"])
def test_unknown_comment_is_404(client, cast, url):
    client.login(cast.participant)
    assert client.get(url).status_code == 404
    assert client.post("/commenti/999999/elimina").status_code == 404


XSS_BODY = (
    "<script>alert('x')</script> [clic](javascript:alert(1)) <img src=x onerror=alert(2)> "
    '<a href="#" onclick="alert(3)" style="color:red">link</a> <p style="position:fixed">stile</p>'
)


class _ActiveMarkup(HTMLParser):
    """Collects what a browser would run or style: script/img tags, on* and style attributes, js: links."""

    def __init__(self):
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "img", "iframe", "object", "style"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on") or name == "style":
                self.found.append(f"{tag}[{name}]")
            if name in ("href", "src") and (value or "").strip().lower().startswith(("javascript:", "data:")):
                self.found.append(f"{tag}[{name}={value}]")


def active_markup(html: str) -> list[str]:
    parser = _ActiveMarkup()
    parser.feed(html)
    return parser.found


def test_script_links_handlers_and_styles_are_inert(client, cast, proposal, render_thread):
    client.login(cast.participant)
    assert post_comment(client, proposal, body=XSS_BODY).status_code == 302
    [comment] = comments_of(proposal)
    assert comment.body == XSS_BODY  # the source is kept as written
    assert active_markup(comment.body_html) == []
    assert "&lt;script&gt;" in comment.body_html  # shown as text, not run
    html = render_thread(proposal)
    body = html[html.index('class="comment-body'):]
    body = body[:body.index("</div>")]
    assert active_markup(body) == []
    assert "<script" not in html and "onerror=" not in html.replace("onerror=alert", "")


def test_emoji_and_right_to_left_text_are_kept(client, cast, proposal, render_thread):
    text = "Famiglie 👨‍👩‍👧‍👦 e anziani 🧓🏽 — مرحبا بالجميع — שלום"
    client.login(cast.participant)
    post_comment(client, proposal, body=text)
    [comment] = comments_of(proposal)
    assert comment.body == text
    assert text in comment.body_html
    assert text in render_thread(proposal)


# --------------------------------------------------------------------------- editing

def test_author_edits_within_the_grace_window(client, cast, proposal, create_comment):
    comment = create_comment(proposal, cast.participant, body="Prima versione.", stance="neutral")
    client.login(cast.participant)
    page = client.get(f"/commenti/{comment.id}/modifica")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Prima versione." in html and "Modifica il commento" in html
    assert 'value="neutral" checked' in html or 'checked value="neutral"' in html or (
        'id="stance-2"' in html and "checked" in html)

    response = client.post(f"/commenti/{comment.id}/modifica", data={"body": "Seconda _versione_.",
                                                                      "stance": "in_favour"})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposte/{proposal.id}/#commento-{comment.id}"
    db.session.refresh(comment)
    assert comment.body == "Seconda _versione_."
    assert comment.body_html == "<p>Seconda <em>versione</em>.</p>"
    assert comment.stance == "in_favour"
    [event] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "comment.edit")).scalars().all()
    assert (event.actor_id, event.subject_type, event.subject_id) == (cast.participant.id, "comment", comment.id)
    assert event.changes["stance"] == ["neutral", "in_favour"]


def test_failed_edit_keeps_the_text_and_changes_nothing(client, cast, proposal, create_comment):
    comment = create_comment(proposal, cast.participant, body="Originale.")
    audited = db.session.execute(select(AuditEvent)).scalars().all()
    client.login(cast.participant)
    response = client.post(f"/commenti/{comment.id}/modifica", data={"body": "z" * 10_001})
    assert response.status_code == 400
    assert "al massimo 10000 caratteri" in response.get_data(as_text=True)
    db.session.refresh(comment)
    assert comment.body == "Originale."
    assert db.session.execute(select(AuditEvent)).scalars().all() == audited


def test_edit_after_the_grace_window_is_refused(client, cast, proposal, create_comment):
    comment = create_comment(proposal, cast.participant, body="Vecchio.", created_minutes_ago=31)
    client.login(cast.participant)
    for response in (client.get(f"/commenti/{comment.id}/modifica"),
                     client.post(f"/commenti/{comment.id}/modifica", data={"body": "Nuovo."})):
        assert response.status_code == 409
        assert "Il tempo per modificare il commento è scaduto" in response.get_data(as_text=True)
    db.session.refresh(comment)
    assert comment.body == "Vecchio."


def test_editing_someone_elses_comment_is_forbidden(client, cast, proposal, create_comment):
    comment = create_comment(proposal, cast.representative, body="Mio.")
    client.login(cast.participant)
    response = client.post(f"/commenti/{comment.id}/modifica", data={"body": "Rubato."})
    assert response.status_code == 403
    assert "Puoi modificare solo i tuoi commenti." in response.get_data(as_text=True)
    db.session.refresh(comment)
    assert comment.body == "Mio."


def test_anonymous_edit_goes_to_login(client, cast, proposal, create_comment):
    comment = create_comment(proposal, cast.participant)
    response = client.get(f"/commenti/{comment.id}/modifica")
    assert response.status_code == 302 and "/accedi" in response.headers["Location"]


def test_edit_link_shown_only_to_the_author_in_time(cast, proposal, create_comment, render_thread):
    fresh = create_comment(proposal, cast.participant, body="Fresco.")
    old = create_comment(proposal, cast.participant, body="Vecchio.", created_minutes_ago=45)
    mine = render_thread(proposal, cast.participant)
    assert f"/commenti/{fresh.id}/modifica" in mine
    assert f"/commenti/{old.id}/modifica" not in mine
    assert f"/commenti/{old.id}/elimina" in mine  # deleting has no time limit
    theirs = render_thread(proposal, cast.representative)
    assert "/modifica" not in theirs and "/elimina" not in theirs


# --------------------------------------------------------------------------- deleting

def test_author_deletes_and_the_replies_stay(client, cast, proposal, create_comment, render_thread):
    parent = create_comment(proposal, cast.participant, body="Testo che sparirà.", stance="against")
    create_comment(proposal, cast.representative, body="Una risposta che resta.", parent=parent)
    client.login(cast.participant)
    response = client.post(f"/commenti/{parent.id}/elimina")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/proposte/{proposal.id}/#commento-{parent.id}"
    db.session.refresh(parent)
    assert parent.deleted_at is not None
    assert len(comments_of(proposal)) == 2
    [event] = db.session.execute(select(AuditEvent).where(AuditEvent.action == "comment.delete")).scalars().all()
    assert event.subject_id == parent.id and event.actor_id == cast.participant.id

    html = render_thread(proposal)
    assert "Commento rimosso" in html
    assert "Testo che sparirà." not in html
    assert "Una risposta che resta." in html
    assert "0 contrari" in html  # a removed comment no longer counts


def test_deleting_someone_elses_comment_is_forbidden(client, cast, proposal, create_comment):
    comment = create_comment(proposal, cast.representative)
    client.login(cast.participant)
    response = client.post(f"/commenti/{comment.id}/elimina")
    assert response.status_code == 403
    assert "Puoi eliminare solo i tuoi commenti." in response.get_data(as_text=True)
    db.session.refresh(comment)
    assert comment.deleted_at is None


def test_deleting_twice_is_a_conflict(client, cast, proposal, create_comment):
    comment = create_comment(proposal, cast.participant)
    client.login(cast.participant)
    assert client.post(f"/commenti/{comment.id}/elimina").status_code == 302
    response = client.post(f"/commenti/{comment.id}/elimina")
    assert response.status_code == 409
    assert "già stato rimosso" in response.get_data(as_text=True)
    assert len(db.session.execute(select(AuditEvent).where(AuditEvent.action == "comment.delete")).scalars().all()) == 1


# --------------------------------------------------------------------------- moderation modes

def test_pre_moderated_comment_waits_and_only_author_and_moderators_see_it(
        client, cast, create_tavolo, create_proposal, create_follow, render_thread):
    pre = create_tavolo(slug="disabilita", moderation="pre", facilitators=[cast.facilitator])
    proposal = create_proposal(pre, cast.representative)
    create_follow(cast.admin, proposal=proposal)
    client.login(cast.participant)
    response = post_comment(client, proposal, body="In attesa.", stance="in_favour")
    assert response.status_code == 302
    with client.session_transaction() as sess:
        assert any("in attesa di moderazione" in message for _, message in sess["_flashes"])
    [comment] = comments_of(proposal)
    assert comment.visibility == "pending"
    # Nobody is told about a comment they cannot see yet.
    assert db.session.execute(select(Notification).where(Notification.subject_type == "comment")).scalars().all() == []

    own = render_thread(proposal, cast.participant)
    assert "In attesa." in own and "In attesa di moderazione" in own
    assert "In attesa." in render_thread(proposal, cast.facilitator)
    assert "In attesa." in render_thread(proposal, cast.admin)
    for outsider in (None, cast.representative):
        html = render_thread(proposal, outsider)
        assert "In attesa." not in html
        assert "1 a favore" not in html


def test_hidden_comment_shows_a_placeholder_with_the_reason(cast, proposal, create_comment, render_thread):
    create_comment(proposal, cast.participant, body="Testo nascosto.", visibility="hidden")
    public = render_thread(proposal)
    assert "Nascosto dal moderatore: fuori tema" in public
    assert "Testo nascosto." not in public
    assert "Testo nascosto." in render_thread(proposal, cast.participant)


# --------------------------------------------------------------------------- stances and thread

def test_stance_counts_are_computed_per_subject(cast, tavolo, proposal, create_proposal, create_comment,
                                                render_thread, count_queries):
    from consulta.comments.queries import stance_counts

    other = create_proposal(tavolo, cast.admin, title="Altra")
    for stance in ["in_favour"] * 3 + ["neutral"] + ["against"] * 2 + [None]:
        create_comment(proposal, cast.participant, stance=stance)
    create_comment(other, cast.participant, stance="against")
    create_comment(proposal, cast.participant, stance="in_favour", visibility="hidden")
    create_comment(proposal, cast.participant, stance="against", deleted=True)
    db.session.refresh(proposal)
    with count_queries() as counter:
        counts = stance_counts(proposal)
    assert counter.count == 1 and "GROUP BY" in counter.statements[0].upper()
    assert counts == {"in_favour": 3, "neutral": 1, "against": 2, None: 1}
    html = render_thread(proposal)
    assert "3 a favore" in html and "1 neutrale" in html and "2 contrari" in html
    assert 'comment-count">7<' in html


def test_thread_costs_the_same_queries_for_5_and_200_comments(
        app, cast, tavolo, create_proposal, create_comment, create_user, create_organisation, count_queries):
    from flask import g, render_template_string
    from flask_login import current_user, login_user

    from consulta.comments.queries import comment_thread

    orgs = [create_organisation(type=t) for t in ("union", "aps", "volunteer")]
    authors = [create_user(organisation=org) for org in orgs] + [cast.participant]

    def build(n):
        subject = create_proposal(tavolo, cast.admin, title=f"Proposta con {n} commenti")
        for i in range(n):
            top = create_comment(subject, authors[i % len(authors)], stance=("in_favour", None)[i % 2], commit=False)
            if i % 3 == 0:
                create_comment(subject, authors[(i + 1) % len(authors)], parent=top, commit=False)
        db.session.commit()
        return subject

    def cost(subject, query=""):
        with app.test_request_context(f"/{query}"):
            from flask import request

            g.pop("_login_user", None)
            login_user(cast.participant)
            db.session.expire_all()
            with count_queries() as counter:
                html = render_template_string('{% include "comments/_thread.html" %}',
                                              thread=comment_thread(subject, current_user, request.args),
                                              subject=subject)
            return counter.count, html

    small, large = build(5), build(200)
    small_cost, _ = cost(small)
    large_cost, html = cost(large)
    # A page: the first 50 comments, with their replies (one in three has one), then the link to the next.
    assert html.count('class="comment"') == 50 + 17
    later = re.search(r'href="/(\?dopo=[^"#]+)#commenti" rel="next"', html).group(1)
    later_cost, later_html = cost(large, later)
    assert later_html.count('class="comment"') == 50 + 17
    shown = [set(re.findall(r'<article class="comment" id="commento-(\d+)"', page)) for page in (html, later_html)]
    assert not shown[0] & shown[1]
    assert small_cost == large_cost == later_cost
    assert large_cost <= 8


def test_explanations_when_one_cannot_comment(cast, create_tavolo, create_proposal, render_thread):
    open_tavolo = create_tavolo(slug="aperto")
    closed = create_tavolo(slug="chiuso", phase="closed")
    proposal = create_proposal(open_tavolo, cast.admin)
    closed_proposal = create_proposal(closed, cast.admin)

    anonymous = render_thread(proposal)
    assert "Per commentare accedi" in anonymous and "/accedi?next=" in anonymous
    assert 'name="body"' not in anonymous
    assert "verificare il tuo indirizzo e-mail" in render_thread(proposal, cast.unverified)
    assert "account è sospeso" in render_thread(proposal, cast.blocked)
    assert "i commenti sono chiusi" in render_thread(closed_proposal, cast.participant)
    assert "i commenti sono chiusi" in render_thread(closed_proposal)
    form = render_thread(proposal, cast.participant)
    assert 'id="nuovo-commento"' in form
    assert '<legend class="form-label fs-6 fw-semibold">La tua posizione (facoltativa)</legend>' in form
    assert "Commenterai come rappresentante di Cooperativa Sociale Il Ponte." in render_thread(
        proposal, cast.representative)


def test_failed_reply_quotes_the_parent_and_keeps_it(client, cast, proposal, create_comment):
    parent = create_comment(proposal, cast.representative, body="Domanda iniziale.")
    client.login(cast.participant)
    response = post_comment(client, proposal, body="", parent_id=str(parent.id))
    assert response.status_code == 400
    html = response.get_data(as_text=True)
    assert "<h1>Rispondi</h1>" in html and "Domanda iniziale." in html
    assert f'name="parent_id" type="hidden" value="{parent.id}"' in html
    assert "Pubblica la risposta" in html


def test_refused_reply_can_be_sent_again_as_a_new_comment(client, cast, proposal, create_comment):
    parent = create_comment(proposal, cast.representative, body="Primo livello.")
    reply = create_comment(proposal, cast.admin, body="Secondo livello.", parent=parent)
    client.login(cast.participant)
    html = post_comment(client, proposal, body="Il mio testo.", parent_id=str(reply.id)).get_data(as_text=True)
    assert "puoi pubblicarlo come nuovo commento" in html
    assert 'name="parent_id" type="hidden" value=""' in html
    assert "Pubblica il commento" in html
    assert post_comment(client, proposal, body="Il mio testo.", parent_id="").status_code == 302
    assert comments_of(proposal)[-1].parent_id is None
