"""Digest throughput: the whole send-digests pipeline against a bare smtplib loop.

    .venv/bin/python -m bench.digests [--recipients 10000] [--db sqlite|postgresql] [--reset]

Generates N verified participants following one tavolo, each with three pending
notifications (bulk inserts), then times:

1. `send-digests` (DigestRun), in a fresh process with the production settings, as cron
   runs it: for every recipient, lock, group and fold, render the text and HTML parts,
   write the outbox row and mark the notifications digested (one commit), claim the row,
   hand it to SMTP, commit `sending`, finish the message, commit `sent`; the peak memory
   (maximum resident set) of that process is reported too;
2. the ceiling: the same messages (already rendered) sent by a plain smtplib
   loop over one connection to the same sink.

It prints PASS/FAIL for the targets: send-digests at least half the bare rate, peak memory
under 150 MB.

The SMTP sink (aiosmtpd) runs in its own process so that it does not share the
interpreter lock with the code being measured. The database is SQLite in a
temporary file, or with --db postgresql a fresh consulta_bench_digests database on the
benchmark's PostgreSQL server (BENCH_POSTGRES_URL), unless DATABASE_URL is set; a
non-empty DATABASE_URL database is refused unless --reset is given (it then drops and
recreates every table: never point it at real data).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import queue
import resource
import smtplib
import socket
import sys
import tempfile
import time
from datetime import timedelta


def _sink(port: int, ready, stop, counter) -> None:
    """An SMTP server that only counts what it accepts."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server, session, envelope):
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


# Targets (issue 13, item 6).
RATIO_MIN = 0.5
PEAK_MB_MAX = 150


def _send(environment: dict[str, str], results) -> None:
    """The measured run, in a process of its own (spawned): Consulta as production runs it, one DigestRun."""
    os.environ.update(environment)
    from consulta import create_app
    from consulta.digests.sender import DigestRun

    app = create_app()
    with app.app_context():
        started = time.perf_counter()
        summary = DigestRun(("weekly",)).run()
        seconds = time.perf_counter() - started
    # ru_maxrss is in kilobytes on Linux.
    results.put({"seconds": seconds, "sent": summary.sent, "lines": summary.lines(),
                 "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def _populate(n: int) -> None:
    """n participants following a tavolo, each with a new proposal, objective and phase change to read."""
    from sqlalchemy import insert, select

    from consulta.accounts.models import User
    from consulta.core.db import utcnow
    from consulta.core.notify import Notification
    from consulta.extensions import db
    from consulta.plan.models import Plan
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Follow, Objective, Tavolo

    now = utcnow()
    plan = Plan(title="Piano Sociale di Zona 2025–2027", status="consulting", period_start=2025, period_end=2027)
    db.session.add(plan)
    db.session.flush()
    tavolo = Tavolo(plan_id=plan.id, slug="anziani", title="Anziani e non autosufficienza", area="Anziani",
                    phase="discussion", proposal_deadline=now + timedelta(days=20))
    db.session.add(tavolo)
    db.session.flush()
    author = User(email="autrice@example.org", display_name="Autrice", password_hash="x", role="participant",
                  privacy_consent_at=now, email_verified_at=now, digest_frequency="off")
    db.session.add(author)
    db.session.flush()
    proposals = [Proposal(tavolo_id=tavolo.id, author_id=author.id, title=f"Proposta numero {i}", body="Testo",
                          body_html="<p>Testo</p>", state="published", visibility="visible", published_at=now)
                 for i in range(20)]
    objective = Objective(tavolo_id=tavolo.id, title="Ridurre le liste d'attesa", body="Testo", body_html="<p>Testo</p>",
                          status="published", published_at=now)
    db.session.add_all([*proposals, objective])
    db.session.flush()
    proposal_ids = [p.id for p in proposals]

    batch = 2000
    for start in range(0, n, batch):
        chunk = range(start, min(start + batch, n))
        db.session.execute(insert(User), [
            {"email": f"partecipante{i:06d}@example.org", "display_name": f"Partecipante {i}",
             "password_hash": "not-a-real-hash", "role": "participant", "registered_as": "citizen",
             "digest_frequency": "weekly", "locale": "it" if i % 10 else "en", "privacy_consent_at": now,
             "email_verified_at": now, "session_version": 1, "created_at": now} for i in chunk])
    ids = db.session.execute(select(User.id).where(User.email.like("partecipante%"))).scalars().all()
    for start in range(0, len(ids), batch):
        chunk = ids[start:start + batch]
        db.session.execute(insert(Follow), [{"user_id": uid, "tavolo_id": tavolo.id, "created_at": now}
                                            for uid in chunk])
        notes = []
        for k, uid in enumerate(chunk):
            base = {"user_id": uid, "tavolo_id": tavolo.id, "created_at": now}
            notes += [
                {**base, "event": "proposal.published", "subject_type": "proposal",
                 "subject_id": proposal_ids[(start + k) % len(proposal_ids)], "data": {}},
                {**base, "event": "objective.published", "subject_type": "objective", "subject_id": objective.id,
                 "data": {}},
                {**base, "event": "tavolo.phase_changed", "subject_type": "tavolo", "subject_id": tavolo.id,
                 "data": {"from": "open", "to": "discussion"}},
            ]
        db.session.execute(insert(Notification), notes)
    db.session.commit()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="where, when DATABASE_URL is not set (default: SQLite in a temporary file)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the tables of a non-empty database")
    args = parser.parse_args(argv)
    if args.recipients < 1:
        parser.error("--recipients must be at least 1")

    from bench.servers import POSTGRES_URL, free_port, fresh_database, production_environment

    url = os.environ.get("DATABASE_URL")
    if url is None and args.db == "postgresql":
        from sqlalchemy.engine import make_url

        url = make_url(POSTGRES_URL).set(database="consulta_bench_digests").render_as_string(hide_password=False)
        fresh_database(url)
    elif url is None:
        url = f"sqlite:///{tempfile.mkdtemp(prefix='consulta-bench-')}/bench.sqlite3"
    port = free_port()
    ready, stop = multiprocessing.Event(), multiprocessing.Event()
    counter = multiprocessing.Value("i", 0)
    sink = multiprocessing.Process(target=_sink, args=(port, ready, stop, counter), daemon=True)
    sink.start()
    if not ready.wait(15):
        print("the SMTP sink did not start", file=sys.stderr)
        return 1

    from sqlalchemy import inspect, select, text

    from config import normalise_database_url
    from consulta import create_app
    from consulta.extensions import db

    app = create_app("testing", SQLALCHEMY_DATABASE_URI=normalise_database_url(url), MAIL_SERVER="127.0.0.1",
                     MAIL_PORT=port, PUBLIC_BASE_URL="https://consulta.example.org")
    try:
        with app.app_context():
            if inspect(db.engine).has_table("user"):
                has_rows = db.session.execute(text('SELECT 1 FROM "user" LIMIT 1')).first() is not None
                if has_rows and not args.reset:
                    print("The database is not empty: use a dedicated one, or --reset to wipe it.", file=sys.stderr)
                    return 2
                db.session.remove()
                db.drop_all()
            db.create_all()
            started = time.perf_counter()
            _populate(args.recipients)
            print(f"database        {db.engine.dialect.name} ({db.engine.url.render_as_string(hide_password=True)})")
            print(f"recipients      {args.recipients:,} (3 notifications each; generated in "
                  f"{time.perf_counter() - started:.1f} s)")

            db.session.remove()
            from consulta.digests.models import OutboxEmail
            from consulta.digests.sender import _sender, mime_message

            spawn = multiprocessing.get_context("spawn")
            results = spawn.Queue()
            sender = spawn.Process(target=_send, args=({
                **production_environment(normalise_database_url(url)), "MAIL_SERVER": "127.0.0.1",
                "MAIL_PORT": str(port), "PUBLIC_BASE_URL": "https://consulta.example.org"}, results))
            sender.start()
            while True:
                try:
                    run = results.get(timeout=1)
                    break
                except queue.Empty:
                    if not sender.is_alive():
                        print(f"the send-digests process failed (exit code {sender.exitcode})", file=sys.stderr)
                        return 1
            sender.join()
            pipeline_seconds = run["seconds"]
            if run["sent"] != args.recipients or counter.value != args.recipients:
                print(f"unexpected: {run['lines']} / sink received {counter.value}", file=sys.stderr)
                return 1

            # The ceiling: the very same messages, rendered beforehand, through bare smtplib.
            rows = db.session.execute(select(OutboxEmail).order_by(OutboxEmail.id)).scalars().all()
            _header, envelope = _sender()
            messages = [(row.to_address, mime_message(row)) for row in rows]
            db.session.rollback()
        with counter.get_lock():
            counter.value = 0
        started = time.perf_counter()
        with smtplib.SMTP("127.0.0.1", port) as smtp:
            smtp.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            for to_address, payload in messages:
                smtp.sendmail(envelope, [to_address], payload)
        bare_seconds = time.perf_counter() - started
        assert counter.value == len(messages)
    finally:
        stop.set()
        sink.join(10)

    pipeline_rate = args.recipients / pipeline_seconds
    bare_rate = len(messages) / bare_seconds
    ratio = pipeline_rate / bare_rate
    print(f"send-digests    {pipeline_rate:9.1f} messages/s  ({pipeline_seconds:.1f} s: build, outbox, 3 commits, SMTP)")
    print(f"bare smtplib    {bare_rate:9.1f} messages/s  ({bare_seconds:.1f} s: the same messages, one connection)")
    print(f"ratio           {ratio:9.2f}  (send-digests / bare smtplib; overhead {bare_rate / pipeline_rate:.1f}x)")
    print(f"peak memory     {run['peak_mb']:9.1f} MB  (maximum resident set of the send-digests process)")
    print(f"  {'PASS' if ratio >= RATIO_MIN else 'FAIL'}  send-digests ≥ {RATIO_MIN}× the bare smtplib rate: {ratio:.2f}×")
    print(f"  {'PASS' if run['peak_mb'] < PEAK_MB_MAX else 'FAIL'}  peak memory < {PEAK_MB_MAX} MB: "
          f"{run['peak_mb']:.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
