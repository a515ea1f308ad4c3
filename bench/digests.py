"""Digest throughput: the whole send-digests pipeline against a bare smtplib loop.

    .venv/bin/python -m bench.digests [--db sqlite|postgresql] [--recipients 10000] [--workers 1] [--reset]

Generates N verified participants following one tavolo, each with three pending
notifications (bulk inserts), then times:

1. `send-digests` (DigestRun), in `--workers` processes sharing the run (PostgreSQL
   only; SQLite has one writer): batches of recipients claimed with SKIP LOCKED,
   their digests built and written in one commit per batch, then each message
   claimed, handed to SMTP and committed `sending` before its final dot (one
   commit per message, carrying the `sent` of the message before);
2. the ceiling: the very same messages, already composed, sent by a plain
   smtplib loop over one connection to the same server.

It prints the rates, their ratio, the peak memory of a worker process, the
statements per batch and per message, the latency of one durable commit of the
database (a floor: exactly-once costs one per message), and PASS/FAIL for the
targets: at least half the bare rate, less than 150 MB.

The SMTP sink (aiosmtpd) and the workers run in processes of their own, so that
nothing shares the interpreter lock with the code being measured. `--db sqlite`
uses a temporary file; `--db postgresql` uses DATABASE_URL, or
postgresql://postgres@127.0.0.1:5432/consulta_bench (created if missing). A
non-empty database is refused unless --reset is given (it then drops and
recreates every table: never point it at real data).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import resource
import smtplib
import socket
import sys
import tempfile
import time
from datetime import timedelta

TARGET_RATIO = 0.5
TARGET_PEAK_MB = 150
DEFAULT_POSTGRESQL = "postgresql+psycopg://postgres@127.0.0.1:5432/consulta_bench"


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


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _app(url: str, port: int):
    from consulta import create_app

    return create_app("testing", SQLALCHEMY_DATABASE_URI=url, MAIL_SERVER="127.0.0.1", MAIL_PORT=port,
                      MAIL_SUPPRESS_SEND=False, PUBLIC_BASE_URL="https://consulta.example.org")


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


def _commit_latency(commits: int = 100) -> float:
    """Seconds per durable commit of a one-row UPDATE: the floor under one commit per message."""
    from sqlalchemy import text

    from consulta.extensions import db

    db.session.execute(text("CREATE TABLE bench_commit_probe (id INTEGER PRIMARY KEY, n INTEGER)"))
    db.session.execute(text("INSERT INTO bench_commit_probe VALUES (1, 0)"))
    db.session.commit()
    started = time.perf_counter()
    for n in range(commits):
        db.session.execute(text("UPDATE bench_commit_probe SET n = :n WHERE id = 1"), {"n": n})
        db.session.commit()
    seconds = (time.perf_counter() - started) / commits
    db.session.execute(text("DROP TABLE bench_commit_probe"))
    db.session.commit()
    return seconds


def _worker(url: str, port: int, ready, go, results) -> None:
    """One `send-digests` worker in a process of its own, measured: the time and statements of its
    batches (claim, build, write, commit) apart from those of its messages, and its peak memory."""
    from sqlalchemy import event

    from consulta.digests.sender import DigestRun
    from consulta.extensions import db

    class MeasuredRun(DigestRun):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.build_seconds = 0.0
            self.batch_statements: list[int] = []

        def _build(self, now, after, size):
            before, started = statements[0], time.perf_counter()
            user_ids, row_ids = super()._build(now, after, size)
            self.build_seconds += time.perf_counter() - started
            if user_ids:  # the last call only finds that nobody is left
                self.batch_statements.append(statements[0] - before)
            return user_ids, row_ids

    statements = [0]

    def count(*_args) -> None:
        statements[0] += 1

    app = _app(url, port)
    with app.app_context():
        event.listen(db.engine, "before_cursor_execute", count)
        run = MeasuredRun(("weekly",))
        ready.release()
        go.wait()
        started, cpu = time.perf_counter(), time.process_time()
        summary = run.run()
        seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    results.put({"sent": summary.sent, "built": summary.built, "lines": summary.lines(), "seconds": seconds, "cpu": cpu,
                 "build_seconds": run.build_seconds, "statements": statements[0], "batches": run.batch_statements,
                 "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--workers", type=int, default=1, help="send-digests processes sharing the run (PostgreSQL)")
    parser.add_argument("--reset", action="store_true", help="drop and recreate the tables of a non-empty database")
    args = parser.parse_args(argv)
    if args.recipients < 1:
        parser.error("--recipients must be at least 1")
    if args.workers < 1 or (args.workers > 1 and args.db == "sqlite"):
        parser.error("--workers: at least 1, and SQLite has one writer: one worker")

    from sqlalchemy import create_engine, make_url, select, text

    from config import normalise_database_url

    if args.db == "sqlite":
        url = f"sqlite:///{tempfile.mkdtemp(prefix='consulta-bench-')}/bench.sqlite3"
    else:
        url = normalise_database_url(os.environ.get("DATABASE_URL") or DEFAULT_POSTGRESQL)
        server = create_engine(make_url(url).set(database="postgres"), isolation_level="AUTOCOMMIT")
        with server.connect() as conn:
            name = make_url(url).database
            if conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).first() is None:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        server.dispose()

    spawn = multiprocessing.get_context("spawn")
    port = _free_port()
    ready, stop = spawn.Event(), spawn.Event()
    counter = spawn.Value("i", 0)
    sink = spawn.Process(target=_sink, args=(port, ready, stop, counter), daemon=True)
    sink.start()
    if not ready.wait(15):
        print("the SMTP sink did not start", file=sys.stderr)
        return 1

    from bench.data import create_tables
    from consulta.extensions import db

    app = _app(url, port)
    try:
        with app.app_context():
            if not create_tables(args.reset):
                return 2
            started = time.perf_counter()
            _populate(args.recipients)
            print(f"database        {db.engine.dialect.name} ({db.engine.url.render_as_string(hide_password=True)})")
            print(f"recipients      {args.recipients:,} (3 notifications each; generated in "
                  f"{time.perf_counter() - started:.1f} s)")
            commit_seconds = _commit_latency()
            db.session.remove()
            db.engine.dispose()

        # The workers: started, connected and ready before the clock starts.
        workers_ready, go, results = spawn.Semaphore(0), spawn.Event(), spawn.Queue()
        workers = [spawn.Process(target=_worker, args=(url, port, workers_ready, go, results))
                   for _ in range(args.workers)]
        for worker in workers:
            worker.start()
        for _ in workers:
            if not workers_ready.acquire(timeout=120):
                print("a worker did not start", file=sys.stderr)
                return 1
        started = time.perf_counter()
        go.set()
        reports = [results.get() for _ in workers]
        pipeline_seconds = time.perf_counter() - started
        for worker in workers:
            worker.join(30)
        sent = sum(report["sent"] for report in reports)
        if sent != args.recipients or counter.value != args.recipients:
            print(f"unexpected: {[r['lines'] for r in reports]} / sink received {counter.value}", file=sys.stderr)
            return 1

        # The ceiling: the very same messages, composed beforehand, through bare smtplib.
        with app.app_context():
            from consulta.digests.models import OutboxEmail
            from consulta.digests.sender import _sender, mime_message

            _header, envelope = _sender()
            messages = [(row.to_address, mime_message(row)) for row in db.session.execute(
                select(OutboxEmail).order_by(OutboxEmail.id).execution_options(yield_per=500)).scalars()]
            db.session.remove()
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

    n = args.recipients
    build_seconds = sum(report["build_seconds"] for report in reports) / len(reports)
    send_seconds = sum(report["seconds"] - report["build_seconds"] for report in reports) / len(reports)
    batches = [count for report in reports for count in report["batches"]]
    statements = sum(report["statements"] for report in reports)
    batch_statements = sum(batches)
    per_message = (statements - batch_statements) / n
    peak_mb = max(report["peak_mb"] for report in reports)
    pipeline_rate, bare_rate = n / pipeline_seconds, len(messages) / bare_seconds
    ratio = pipeline_rate / bare_rate
    size = sum(len(payload) for _to, payload in messages) / len(messages)
    print(f"workers         {args.workers}")
    print(f"build           {build_seconds:9.1f} s   {n / args.workers / build_seconds:9.1f} digests/s per worker "
          f"(claim, notifications, subjects, render, outbox rows, one commit per batch)")
    print(f"send            {send_seconds:9.1f} s   {n / args.workers / send_seconds:9.1f} messages/s per worker "
          f"(claim, SMTP, one commit per message)")
    print(f"send-digests    {pipeline_seconds:9.1f} s   {pipeline_rate:9.1f} messages/s (all workers, build and send)")
    print(f"bare smtplib    {bare_seconds:9.1f} s   {bare_rate:9.1f} messages/s (the same {size / 1024:.1f} KB "
          f"messages, composed beforehand, one connection)")
    print(f"one commit      {commit_seconds * 1000:9.2f} ms  (durable; one per message caps a worker at "
          f"{1 / commit_seconds:.0f} messages/s)")
    print(f"worker cpu      {sum(r['cpu'] for r in reports) / n * 1000:9.2f} ms per message (the rest of the "
          f"{pipeline_seconds * args.workers / n * 1000:.2f} ms of a worker is waiting: database, SMTP, the scheduler)")
    print(f"statements      {min(batches)}–{max(batches)} per batch ({len(batches)} batches), "
          f"{per_message:.1f} per message, {statements / n:.2f} per recipient in all")
    print(f"peak memory     {peak_mb:9.1f} MB  (largest worker process, RSS)")
    print(f"ratio           {ratio:9.2f}  (send-digests / bare smtplib)  "
          f"{'PASS' if ratio >= TARGET_RATIO else 'FAIL'} (target ≥ {TARGET_RATIO})")
    print(f"memory          {peak_mb:9.1f} MB  {'PASS' if peak_mb < TARGET_PEAK_MB else 'FAIL'} "
          f"(target < {TARGET_PEAK_MB} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
