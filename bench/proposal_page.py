"""The proposal page with a long discussion, against a hand-written page over the same rows.

    .venv/bin/python -m bench.proposal_page [--comments 300] [--requests 30] [--profile]

Builds one published proposal with N comments (about one in four a reply, 50 authors, a few speaking
for an organisation), then times anonymous GETs of `/proposte/<id>/` through the test client, in
process: the median of the requests after a warm-up, and the SQL statements of one request. The
yardstick is a hand-written page over the comments the page shows (the first chunk of the thread):
one SELECT with their authors, escaped into nested HTML lists with f-strings, served by the same app. The database is SQLite in a temporary file unless
DATABASE_URL is set (a non-empty database is refused unless --reset).
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import statistics
import sys
import tempfile
import time
from datetime import timedelta


def _populate(n: int) -> int:
    """One proposal with n comments; returns its id."""
    from sqlalchemy import insert, select

    from consulta.accounts.models import User
    from consulta.ambito.models import Ambito
    from consulta.comments.models import Comment
    from consulta.core.db import utcnow
    from consulta.core.text import render_markdown
    from consulta.extensions import db
    from consulta.organisations.models import Organisation
    from consulta.plan.models import Plan
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Tavolo

    now = utcnow()
    db.session.add(Ambito(name="Ambito Sociale n. 10"))
    plan = Plan(title="Piano Sociale di Zona 2025–2027", status="consulting", period_start=2025, period_end=2027)
    db.session.add(plan)
    db.session.flush()
    tavolo = Tavolo(plan_id=plan.id, slug="anziani", title="Anziani e non autosufficienza", area="Anziani",
                    phase="discussion", proposal_deadline=now + timedelta(days=20))
    organisation = Organisation(name="Auser Narni", type="volunteer", status="verified", tax_code="00000000000",
                                verified_at=now)
    db.session.add_all([tavolo, organisation])
    db.session.flush()
    db.session.execute(insert(User), [
        {"email": f"persona{i:03d}@example.org", "display_name": f"Persona {i}", "password_hash": "x",
         "role": "participant", "registered_as": "citizen", "digest_frequency": "off", "locale": "it",
         "privacy_consent_at": now, "email_verified_at": now, "session_version": 1, "created_at": now}
        for i in range(50)])
    user_ids = db.session.execute(select(User.id).order_by(User.id)).scalars().all()
    body = "Apriamo un **centro diurno** a Narni, con trasporto per chi vive nelle frazioni."
    proposal = Proposal(tavolo_id=tavolo.id, author_id=user_ids[0], title="Un centro diurno per gli anziani",
                        body=body, body_html=render_markdown(body), state="published", visibility="visible",
                        published_at=now - timedelta(days=10), created_at=now - timedelta(days=10))
    db.session.add(proposal)
    db.session.flush()
    text = ("Sono d'accordo, ma servono anche *orari* serali. Qui i dati del distretto: "
            "https://example.org/dati e un elenco:\n\n- trasporto\n- mensa\n- attività")
    html = render_markdown(text)
    parent_id = None
    stances = ("in_favour", "neutral", "against", None)
    for i in range(n):
        reply = i % 5 != 0 and parent_id is not None and i % 3 == 0
        comment = Comment(
            tavolo_id=tavolo.id, proposal_id=proposal.id, parent_id=parent_id if reply else None,
            author_id=user_ids[i % len(user_ids)], organisation_id=organisation.id if i % 7 == 0 else None,
            category="volunteer" if i % 7 == 0 else "citizen", stance=stances[i % 4], body=text, body_html=html,
            visibility="visible", created_at=now - timedelta(days=9, minutes=-i * 7))
        db.session.add(comment)
        db.session.flush()
        if not reply:
            parent_id = comment.id
    db.session.commit()
    return proposal.id


def _yardstick(app) -> None:
    """A hand-written page over the comments the proposal page shows (its first chunk, or all of them
    where the thread is not chunked): one SELECT, f-strings, markupsafe.escape."""
    from markupsafe import Markup, escape
    from sqlalchemy import text

    from consulta.extensions import db

    def page(proposal_id: int):
        chunk = app.config.get("COMMENTS_PER_CHUNK") or 1_000_000
        rows = db.session.execute(text(
            'WITH tops AS (SELECT id FROM comment WHERE proposal_id = :p AND parent_id IS NULL '
            'ORDER BY created_at, id LIMIT :n) '
            'SELECT c.id, c.parent_id, u.display_name, c.created_at, c.body_html FROM comment c '
            'LEFT JOIN "user" u ON u.id = c.author_id '
            'WHERE c.id IN (SELECT id FROM tops) OR c.parent_id IN (SELECT id FROM tops) '
            'ORDER BY c.created_at, c.id'), {"p": proposal_id, "n": chunk}).all()
        replies: dict[int, list[str]] = {}
        items = []
        for row in rows:
            item = (f'<li id="commento-{row.id}"><b>{escape(row.display_name)}</b> <time>{row.created_at}</time>'
                    f'<div>{Markup(row.body_html)}</div>')
            if row.parent_id is None:
                items.append((row.id, item))
            else:
                replies.setdefault(row.parent_id, []).append(item + "</li>")
        body = "".join(f'{item}<ol>{"".join(replies.get(top_id, []))}</ol></li>' for top_id, item in items)
        return f"<!doctype html><title>Proposta</title><ol>{body}</ol>"

    app.add_url_rule("/_bench/proposte/<int:proposal_id>/", "bench_yardstick", page)


def _time(client, url: str, requests: int) -> tuple[float, float, int]:
    """Median wall-clock and CPU seconds of `requests` GETs (after two warm-ups), and the body size.

    The CPU time of this process is the steadier figure on a busy machine (it leaves out the time spent
    waiting for a core); with PostgreSQL it leaves out the server's work too."""
    for _ in range(2):
        response = client.get(url)
        assert response.status_code == 200, (url, response.status_code)
    wall, cpu = [], []
    for _ in range(requests):
        started, started_cpu = time.perf_counter(), time.process_time()
        response = client.get(url)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return statistics.median(wall), statistics.median(cpu), len(response.data)


def _statements(app, client, url: str) -> int:
    from sqlalchemy import event

    from consulta.extensions import db

    count = 0

    def counter(*_args):
        nonlocal count
        count += 1

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", counter)
    try:
        client.get(url)
    finally:
        event.remove(engine, "before_cursor_execute", counter)
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--comments", type=int, default=300)
    parser.add_argument("--requests", type=int, default=30)
    parser.add_argument("--chunk", type=int, help="top-level comments per chunk of the thread (COMMENTS_PER_CHUNK)")
    parser.add_argument("--profile", action="store_true", help="print the 25 costliest functions of one request")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the tables of a non-empty database")
    args = parser.parse_args(argv)

    from bench.data import create_tables
    from config import normalise_database_url
    from consulta import create_app
    from consulta.extensions import db

    workdir = tempfile.mkdtemp(prefix="consulta-bench-")
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{workdir}/bench.sqlite3"
    app = create_app("testing", SQLALCHEMY_DATABASE_URI=normalise_database_url(url),
                     **({"COMMENTS_PER_CHUNK": args.chunk} if args.chunk else {}))
    _yardstick(app)
    with app.app_context():
        if not create_tables(args.reset):
            return 2
        proposal_id = _populate(args.comments)
        dialect = db.engine.dialect.name

    client = app.test_client()
    page_url, yard_url = f"/proposte/{proposal_id}/", f"/_bench/proposte/{proposal_id}/"
    page_seconds, page_cpu, page_bytes = _time(client, page_url, args.requests)
    yard_seconds, yard_cpu, yard_bytes = _time(client, yard_url, args.requests)
    statements = _statements(app, client, page_url)
    chunk = app.config.get("COMMENTS_PER_CHUNK")
    shown = f"first {chunk} top-level comments shown" if chunk else "all shown"
    print(f"database        {dialect}, {args.comments} comments ({shown}), median of {args.requests} requests")
    print(f"proposal page   {1 / page_seconds:8.1f} req/s  ({page_seconds * 1000:.1f} ms, CPU {page_cpu * 1000:.1f} ms, "
          f"{page_bytes:,} bytes, {statements} SQL statements)")
    print(f"hand-written    {1 / yard_seconds:8.1f} req/s  ({yard_seconds * 1000:.1f} ms, CPU {yard_cpu * 1000:.1f} ms, "
          f"{yard_bytes:,} bytes)")
    print(f"ratio           {yard_seconds / page_seconds:8.3f}  (proposal page / hand-written; by CPU time "
          f"{yard_cpu / page_cpu:.3f})")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        client.get(page_url)
        profiler.disable()
        pstats.Stats(profiler).sort_stats("cumulative").print_stats(25)
    return 0


if __name__ == "__main__":
    sys.exit(main())
