"""Render once (issue 13): user text is sanitised when written and stored; pages print the stored
HTML without cleaning it again, and `flask rerender-text` brings every stored value under the current
policy when it changes."""

from datetime import timedelta

from sqlalchemy import select, update

from consulta.comments.models import Comment
from consulta.core.text import render_markdown, sanitise
from consulta.extensions import db
from consulta.meetings.models import Minutes
from consulta.stored_text import STORED_TEXT
from tests.database import immutability_guard_lifted, sql_connection

# What a looser policy of the past could have let through: an inline handler, a style, a script,
# a javascript: link, a heading.
LOOSE_HTML = ('<h1>Titolo</h1><p onclick="steal()" style="color:red">Serve <strong>anche</strong> a Otricoli.'
              '<script>alert(1)</script> <a href="javascript:alert(2)">qui</a></p>')


def _stored_values():
    for stored in STORED_TEXT:
        for row_id, source, html in db.session.execute(select(stored.html.class_.id, stored.source, stored.html)):
            yield stored, row_id, source, html


def test_every_stored_html_column_is_rendered_from_its_source(app):
    """A new *_html column must be listed in STORED_TEXT, or rerender-text would leave it behind."""
    listed = {stored.name for stored in STORED_TEXT}
    html_columns = {f"{table.name}.{column.name}" for table in db.metadata.sorted_tables for column in table.c
                    if column.name.endswith("_html")}
    # The outbox keeps e-mails as composed from our templates: no user Markdown behind them.
    assert html_columns - listed == {"outbox_email.body_html"}
    assert listed <= html_columns


def test_stored_html_in_a_populated_database_passes_the_current_policy(demo, create_tavolo, dummy_user,
                                                                       create_proposal, create_comment):
    tavolo = create_tavolo(slug="testi-di-prova")
    proposal = create_proposal(tavolo, dummy_user, body="Una **proposta** con <b onclick=x()>html</b> e https://example.org")
    create_comment(proposal, dummy_user, body="[link](javascript:alert(1)) e <script>alert(2)</script>\n\n# titolo")
    db.session.commit()

    checked = {stored.name: 0 for stored in STORED_TEXT}
    for stored, row_id, source, html in _stored_values():
        assert html == stored.rendered(source), (stored.name, row_id)
        if html is not None:
            assert sanitise(html) == html, (stored.name, row_id)
        checked[stored.name] += 1
    # The demo and the two texts above fill every column.
    assert all(checked.values()), checked


def test_rerender_text_fixes_html_written_under_an_older_policy(app, runner, tavolo, dummy_user, create_proposal,
                                                                 create_comment, client):
    proposal = create_proposal(tavolo, dummy_user)
    comment = create_comment(proposal, dummy_user, body="Serve **anche** a Otricoli.")
    other = create_comment(proposal, dummy_user, body="Sono *d'accordo*.")
    with sql_connection() as conn:
        conn.execute(update(Comment.__table__).where(Comment.__table__.c.id == comment.id)
                     .values(body_html=LOOSE_HTML))
    db.session.expire_all()
    edited_at = db.session.get(Comment, comment.id).updated_at
    untouched_html = other.body_html

    result = runner.invoke(args=["rerender-text", "--batch-size", "1"])

    assert result.exit_code == 0, result.output
    assert "comment.body_html" in result.output and "Testi riscritti: 1." in result.output
    db.session.expire_all()
    comment = db.session.get(Comment, comment.id)
    assert comment.body_html == render_markdown(comment.body) == "<p>Serve <strong>anche</strong> a Otricoli.</p>"
    assert comment.updated_at == edited_at  # rendering again is not an edit
    assert db.session.get(Comment, other.id).body_html == untouched_html
    page = client.get(f"/proposte/{proposal.id}/").get_data(as_text=True)
    assert "<p>Serve <strong>anche</strong> a Otricoli.</p>" in page and "steal()" not in page

    again = runner.invoke(args=["rerender-text"])
    assert again.exit_code == 0 and "Testi riscritti: 0." in again.output


def test_rerender_text_leaves_approved_minutes_alone_and_their_page_sanitises(
        app, runner, client, tavolo, create_meeting, create_minutes, create_seat, approve_minutes):
    meeting = create_meeting(tavolo, starts_in=timedelta(hours=-2))
    minutes = approve_minutes(create_minutes(meeting, text="Si approva **all'unanimità**.",
                                             seats=[create_seat(tavolo)]))
    # Written under an older policy: the database refuses to rewrite it now.
    with immutability_guard_lifted(), sql_connection() as conn:
        conn.execute(update(Minutes.__table__).where(Minutes.__table__.c.id == minutes.id)
                     .values(text_html=LOOSE_HTML))

    result = runner.invoke(args=["rerender-text"])

    assert result.exit_code == 0, result.output
    assert "Testi riscritti: 0." in result.output
    db.session.expire_all()
    assert db.session.get(Minutes, minutes.id).text_html == LOOSE_HTML
    page = client.get(f"/verbali/{minutes.id}/").get_data(as_text=True)
    assert "Serve <strong>anche</strong> a Otricoli." in page
    assert "steal()" not in page and "<script>alert(1)" not in page and "javascript:" not in page
