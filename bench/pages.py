"""Page benchmark: Consulta's pages against the hand-written yardstick, both under gunicorn.

    .venv/bin/python -m bench.pages [--db sqlite postgresql] [--scale 500 5000 50000]
                                    [--duration 10] [--rounds 3] [--regenerate]

For each database and scale: generates the data once (bench/data.py; kept in bench/out/ for SQLite,
in consulta_bench_data_<scale> on PostgreSQL, and reused while it matches the scale), counts the SQL
statements of each page in-process, then starts Consulta (production settings, `consulta:create_app()`)
and the yardstick (bench/yardstick.py) under gunicorn with 2 sync workers each, warms them up and runs
`wrk -t2 -c8` on each page of Consulta and right after on the yardstick, A B A B, for --rounds
rounds (after each run it waits until gunicorn has served what wrk left in flight). It prints the
median requests per second, p50 and p99 latencies, SQL statements per page, the ratio to the
yardstick (the median of the per-round ratios: both ran on the same machine a few seconds apart, so
the ratio is fair on a busy machine) and PASS/FAIL for each target; then how much slower each page
is at the larger scales than at the smallest. The figures go to bench/out/pages-<db>-<scale>.json,
and the comparison between scales reads them there: scales measured in separate runs count too.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime

from bench.servers import (
    OUT,
    ROOT,
    Gunicorn,
    WrkResult,
    database_url,
    fresh_database,
    production_environment,
    wrk,
)

# Targets (issue 13, item 6).
TAVOLO_RATIO_MIN = 0.8
DEEP_PAGE_MIN = 0.9
SCALE_SLOWDOWN_MAX = 1.5
TAVOLO_P99_MS = 50
HEAVY_P99_MS = 100
TAVOLO_SQL_MAX = 8
DEEP_PAGE = 200


@dataclass
class Page:
    key: str
    label: str
    path: str
    sql: int = 0
    runs: list[WrkResult] = field(default_factory=list)
    yardstick: list[WrkResult] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return statistics.median(r.rate for r in self.runs)

    @property
    def completed(self) -> bool:
        """Every run completed requests: a run that completed none has no latency to show."""
        return all(r.requests for r in self.runs)

    @property
    def p50(self) -> float:
        return statistics.median(r.p50_ms for r in self.runs) if self.completed else float("inf")

    @property
    def p99(self) -> float:
        return statistics.median(r.p99_ms for r in self.runs) if self.completed else float("inf")

    @property
    def ratio(self) -> float:
        return statistics.median(_share(a.rate, b.rate) for a, b in zip(self.runs, self.yardstick, strict=True))

    @property
    def failed_requests(self) -> int:
        return sum(r.errors + r.non_2xx for r in self.runs)


def _share(part: float, whole: float) -> float:
    return part / whole if whole else 0.0


# --------------------------------------------------------------------------- the data

@dataclass
class Site:
    """Where the benchmarked pages are in the generated data."""

    tavolo_slug: str
    proposals: int
    last_page: int
    busy_proposal_id: int
    busy_comments: int
    plan_id: int
    plan_actions: int


def _site(app) -> Site | None:
    """What the generator made, read back; None when the database holds no benchmark data."""
    from sqlalchemy import func, inspect, select

    from bench.data import TAVOLO_SLUG
    from consulta.comments.models import Comment
    from consulta.extensions import db
    from consulta.plan.models import Plan
    from consulta.plan.record import PlanAction
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Tavolo

    with app.app_context():
        if not inspect(db.engine).has_table("tavolo"):
            return None
        tavolo = db.session.execute(select(Tavolo).where(Tavolo.slug == TAVOLO_SLUG)).scalar_one_or_none()
        if tavolo is None:
            return None
        proposals = db.session.scalar(select(func.count()).select_from(Proposal).where(Proposal.tavolo_id == tavolo.id))
        public = db.session.scalar(select(func.count()).select_from(Proposal).where(
            Proposal.tavolo_id == tavolo.id, Proposal.state != "submitted", Proposal.visibility != "pending"))
        busy_id, busy_comments = db.session.execute(
            select(Comment.proposal_id, func.count()).where(Comment.tavolo_id == tavolo.id)
            .group_by(Comment.proposal_id).order_by(func.count().desc()).limit(1)).one()
        plan = Plan.current()
        actions = db.session.scalar(select(func.count()).select_from(PlanAction).where(PlanAction.plan_id == plan.id))
        site = Site(tavolo_slug=tavolo.slug, proposals=proposals, last_page=max(1, -(-public // 20)),
                    busy_proposal_id=busy_id, busy_comments=busy_comments, plan_id=plan.id, plan_actions=actions)
        db.session.remove()
        db.engine.dispose()
        return site


def _database_exists(url: str) -> bool:
    from pathlib import Path

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import OperationalError

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return Path(parsed.database).is_file()
    engine = create_engine(parsed)
    try:
        with engine.connect():
            return True
    except OperationalError:
        return False
    finally:
        engine.dispose()


def prepare(backend: str, scale: int, *, regenerate: bool) -> tuple[str, Site]:
    """The benchmark database of `backend` at `scale`, generated unless a matching one exists."""
    from bench.data import analyse, build, production_app
    from consulta.extensions import db

    url = database_url(backend, scale)
    site = None
    if not regenerate and _database_exists(url):
        app = production_app(url)
        site = _site(app)
        with app.app_context():
            analyse(db.engine)  # data from an older generator had no statistics
            db.engine.dispose()
    if site is None or site.proposals != scale:
        print(f"generating {scale:,} proposals on {backend}…", flush=True)
        fresh_database(url)
        build(url, scale)
        site = _site(production_app(url))
    return url, site


# --------------------------------------------------------------------------- measuring

def count_statements(app, paths: list[str]) -> list[int]:
    """SQL statements of one anonymous GET of each path, in-process (after a first GET that warms caches)."""
    from sqlalchemy import event

    from consulta.extensions import db

    client = app.test_client()
    counts = []
    for path in paths:
        with app.app_context():
            assert client.get(path).status_code == 200, path
        statements: list[str] = []

        def count(conn, cursor, statement, parameters, context, executemany, statements=statements):
            statements.append(statement)

        with app.app_context():
            engine = db.engine
            event.listen(engine, "before_cursor_execute", count)
            try:
                response = client.get(path)
            finally:
                event.remove(engine, "before_cursor_execute", count)
        assert response.status_code == 200, path
        counts.append(len(statements))
    with app.app_context():
        db.engine.dispose()
    return counts


def yardstick_statements(url: str, path: str) -> int:
    from sqlalchemy import event

    from bench.yardstick import create_app

    app = create_app(url)
    engine = app.extensions["yardstick_engine"]
    client = app.test_client()
    client.get(path)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    assert client.get(path).status_code == 200
    engine.dispose()
    return len(statements)


def measure(backend: str, scale: int, *, duration: float, rounds: int, warmup: float, regenerate: bool) -> dict:
    from bench.data import production_app

    url, site = prepare(backend, scale, regenerate=regenerate)
    tavolo = f"/tavoli/{site.tavolo_slug}/"
    deep = min(DEEP_PAGE, site.last_page)
    pages = [
        Page("tavolo", "tavolo, page 1", tavolo),
        Page("tavolo_deep", f"tavolo, page {deep}", f"{tavolo}?page={deep}"),
        Page("proposal", f"proposal, {site.busy_comments} comments", f"/proposte/{site.busy_proposal_id}/"),
        Page("plan", f"plan, {site.plan_actions} actions", f"/piano/{site.plan_id}/"),
        Page("home", "home", "/"),
    ]
    for page, count in zip(pages, count_statements(production_app(url), [p.path for p in pages]), strict=True):
        page.sql = count
    yardstick_sql = yardstick_statements(url, tavolo)

    env = production_environment(url)
    print(f"\n== {backend}, {scale:,} proposals: {rounds} rounds of wrk -t2 -c8 -d{duration:g}s, "
          f"gunicorn --workers 2 (sync)", flush=True)
    with Gunicorn("consulta:create_app()", env) as consulta, Gunicorn("bench.yardstick:create_app()", env) as yardstick:

        def run(server: Gunicorn, path: str, seconds: float) -> WrkResult:
            result = wrk(server.url + path, duration=seconds)
            server.drain()  # what wrk left in flight must not weigh on the next run
            return result

        for page in pages:
            run(consulta, page.path, warmup)
        run(yardstick, tavolo, warmup)
        # The machine may be shared: its load says how far the absolute figures can be trusted.
        load = [os.getloadavg()[0]]
        for round_number in range(1, rounds + 1):
            for page in pages:
                page.runs.append(run(consulta, page.path, duration))
                page.yardstick.append(run(yardstick, tavolo, duration))
            load.append(os.getloadavg()[0])
            print(f"   round {round_number}/{rounds} done (load average {load[-1]:.1f})", flush=True)

    yard_rate = statistics.median(r.rate for p in pages for r in p.yardstick)
    yard_p50 = statistics.median(r.p50_ms for p in pages for r in p.yardstick)
    yard_p99 = statistics.median(r.p99_ms for p in pages for r in p.yardstick)
    print(f"{'page':<26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'SQL':>5} {'× yardstick':>12}")
    for page in pages:
        failed = f"  ({page.failed_requests} failed requests)" if page.failed_requests else ""
        print(f"{page.label:<26} {page.rate:8.1f} {page.p50:8.1f} {page.p99:8.1f} {page.sql:5d} "
              f"{page.ratio:12.2f}{failed}")
    print(f"{'yardstick (tavolo, page 1)':<26} {yard_rate:8.1f} {yard_p50:8.1f} {yard_p99:8.1f} {yardstick_sql:5d} "
          f"{1:12.2f}")

    by_key = {p.key: p for p in pages}
    checks = [
        (f"tavolo page ≥ {TAVOLO_RATIO_MIN}× the yardstick's req/s", by_key["tavolo"].ratio >= TAVOLO_RATIO_MIN,
         f"{by_key['tavolo'].ratio:.2f}×"),
        (f"tavolo page {deep} within 10% of page 1", by_key["tavolo_deep"].rate >= DEEP_PAGE_MIN * by_key["tavolo"].rate,
         f"{_share(by_key['tavolo_deep'].rate, by_key['tavolo'].rate):.2f}× the req/s of page 1"),
        (f"tavolo page 1 p99 < {TAVOLO_P99_MS} ms", by_key["tavolo"].p99 < TAVOLO_P99_MS, f"{by_key['tavolo'].p99:.1f} ms"),
        (f"tavolo page {deep} p99 < {TAVOLO_P99_MS} ms", by_key["tavolo_deep"].p99 < TAVOLO_P99_MS,
         f"{by_key['tavolo_deep'].p99:.1f} ms"),
        (f"proposal page ({site.busy_comments} comments) p99 < {HEAVY_P99_MS} ms", by_key["proposal"].p99 < HEAVY_P99_MS,
         f"{by_key['proposal'].p99:.1f} ms"),
        (f"plan page ({site.plan_actions} actions) p99 < {HEAVY_P99_MS} ms", by_key["plan"].p99 < HEAVY_P99_MS,
         f"{by_key['plan'].p99:.1f} ms"),
        (f"tavolo page ≤ {TAVOLO_SQL_MAX} SQL statements", by_key["tavolo"].sql <= TAVOLO_SQL_MAX,
         f"{by_key['tavolo'].sql}"),
        ("every run completed requests, none failed",
         all(p.completed for p in pages) and not any(p.failed_requests for p in pages),
         f"{sum(not p.completed for p in pages)} pages with an empty run, "
         f"{sum(p.failed_requests for p in pages)} failed requests"),
    ]
    _print_checks(checks)
    result = {
        "backend": backend, "scale": scale, "duration": duration, "rounds": rounds,
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"), "commit": _commit(),
        "load_average": load, "site": asdict(site), "yardstick": {"rate": yard_rate, "p50_ms": yard_p50, "p99_ms": yard_p99,
                                            "sql": yardstick_sql},
        "pages": [{"key": p.key, "label": p.label, "path": p.path, "sql": p.sql, "rate": p.rate, "p50_ms": p.p50,
                   "p99_ms": p.p99, "ratio": p.ratio, "runs": [asdict(r) for r in p.runs],
                   "yardstick_runs": [asdict(r) for r in p.yardstick]} for p in pages],
        "checks": [{"target": t, "passed": ok, "measured": m} for t, ok, m in checks],
    }
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"pages-{backend}-{scale}.json").write_text(json.dumps(result, indent=2))
    return result


def _print_checks(checks) -> None:
    for target, passed, measured in checks:
        print(f"  {'PASS' if passed else 'FAIL'}  {target}: {measured}")


def compare_scales(backend: str) -> None:
    """How much slower each page is at the larger scales than at the smallest, from the figures stored
    in bench/out/ (this run's and those of earlier runs of other scales, with their date and commit)."""
    results = sorted((json.loads(path.read_text()) for path in OUT.glob(f"pages-{backend}-*.json")),
                     key=lambda r: r["scale"])
    if len(results) < 2:
        return
    base = results[0]
    for other in results[1:]:
        print(f"\n== {backend}: {other['scale']:,} against {base['scale']:,} proposals "
              f"(req/s at {base['scale']:,} / req/s at {other['scale']:,}; measured {base['measured_at']} "
              f"at {base['commit']} and {other['measured_at']} at {other['commit']})")
        checks = []
        for small, large in zip(base["pages"], other["pages"], strict=True):
            slowdown = _share(small["rate"], large["rate"]) or float("inf")
            checks.append((f"{small['key']:<12} within {SCALE_SLOWDOWN_MAX}×", slowdown <= SCALE_SLOWDOWN_MAX,
                           f"{slowdown:.2f}× slower"))
        _print_checks(checks)


def _commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", nargs="+", choices=("sqlite", "postgresql"), default=["sqlite", "postgresql"])
    parser.add_argument("--scale", nargs="+", type=int, default=[5000], help="proposals: 500, 5000, 50000")
    parser.add_argument("--duration", type=float, default=10, help="seconds of each wrk run (default 10)")
    parser.add_argument("--rounds", type=int, default=3, help="A B rounds (at least 3 for the record)")
    parser.add_argument("--warmup", type=float, default=5, help="seconds of wrk on each page before measuring")
    parser.add_argument("--regenerate", action="store_true", help="generate the data again even if it exists")
    args = parser.parse_args(argv)
    if any(s < 20 for s in args.scale):
        parser.error("--scale must be at least 20")
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    started = time.perf_counter()
    for backend in args.db:
        for scale in sorted(set(args.scale)):
            measure(backend, scale, duration=args.duration, rounds=args.rounds, warmup=args.warmup,
                    regenerate=args.regenerate)
        compare_scales(backend)
    print(f"\n(pages benchmark: {time.perf_counter() - started:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
