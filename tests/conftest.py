"""Shared fixtures: an app per database backend, a CSRF-aware client, a real SMTP
sink, a real browser, query counting and factories.

Every test that touches the database runs on SQLite and on PostgreSQL (browser stories on
PostgreSQL only), isolated by a rolled-back transaction (tests/database.py); the data comes from
tests/factories.py. PostgreSQL comes from TEST_DATABASE_URL or 127.0.0.1:5432; under CI=true an
unreachable PostgreSQL or a missing Chromium fails the run instead of skipping.
"""

from __future__ import annotations

import dataclasses
import email
import email.policy
import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask import template_rendered
from flask.testing import FlaskClient, FlaskCliRunner
from itsdangerous import URLSafeTimedSerializer

from consulta import create_app
from consulta.core import fragments
from consulta.extensions import db

# The factories are a plugin of this conftest; their asserts are rewritten like the tests' own.
pytest.register_assert_rewrite("tests.factories")
pytest_plugins = ["tests.factories"]

from consulta.accounts.models import User  # noqa: E402
from consulta.core.db import utcnow  # noqa: E402
from tests.database import (  # noqa: E402
    Rows,
    claim_scene,
    clean_database,
    current_test_connection,
    discard_scene,
    insert_rows,
    release_held_transaction,
    rolled_back_transaction,
    scene_in_transaction,
    scene_written,
    shifted,
    table_rows,
    tables_are_empty,
)
from tests.factories import DEFAULT_PASSWORD  # noqa: E402  (after the rewrite registration)

ROOT = Path(__file__).resolve().parent.parent
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
PG_BASE_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# --------------------------------------------------------------------------- databases

def _pg_url(dbname: str) -> str:
    return sa.engine.make_url(PG_BASE_URL).set(database=dbname).render_as_string(hide_password=False)


_pg_state: dict[str, bool | str] = {}


def postgres_available() -> bool:
    if "ok" not in _pg_state:
        try:
            engine = sa.create_engine(PG_BASE_URL, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(sa.text("SELECT 1"))
            engine.dispose()
            _pg_state["ok"] = True
        except Exception as exc:  # report why below
            _pg_state["ok"] = False
            _pg_state["why"] = str(exc).splitlines()[0]
    return bool(_pg_state["ok"])


def fresh_postgres_database(name: str) -> str:
    """Create (or recreate) a scratch database beside the base one and return its URL."""
    engine = sa.create_engine(PG_BASE_URL, isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
        # A scratch database of many tiny transactions: no JIT compilation, no waiting for the WAL flush.
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET jit = off'))
        conn.execute(sa.text(f'ALTER DATABASE "{name}" SET synchronous_commit = off'))
    engine.dispose()
    return _pg_url(name)


def scratch_database_name(suffix: str = "") -> str:
    """consulta_test_<worker>[_suffix]; CONSULTA_TEST_DB replaces the prefix for parallel checkouts."""
    prefix = os.environ.get("CONSULTA_TEST_DB") or "consulta_test"
    return f"{prefix}_{os.environ.get('PYTEST_XDIST_WORKER', 'main')}{suffix}"


def require_postgres() -> None:
    if not postgres_available():
        message = f"PostgreSQL not reachable at {PG_BASE_URL}: {_pg_state.get('why')}"
        if IN_CI:
            pytest.fail(message + " (CI=true: PostgreSQL is required)")
        pytest.skip(message)


BACKENDS = ["sqlite", "postgresql"]


@pytest.hookimpl(tryfirst=True)
def pytest_generate_tests(metafunc):
    """Browser stories run once, on PostgreSQL (the production database): every HTTP test already
    covers both backends. A parametrize mark takes precedence over the `backend` fixture's params."""
    if metafunc.definition.get_closest_marker("browser") and "backend" in metafunc.fixturenames:
        metafunc.definition.add_marker(pytest.mark.parametrize("backend", ["postgresql"], indirect=True))


def pytest_collection_modifyitems(config, items):
    # A live server answers from other threads, hence other connections: they must see committed data.
    for item in items:
        if "live_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.committing)
        # A test whose fixtures ask for `scene` may start on the rows the test before left (tests/database.py):
        # a fixture of the same name elsewhere would make a test that never claims them look like one.
        definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {}).get("scene", ())
        assert all(d.func.__module__ == __name__ for d in definitions), \
            f"{item.nodeid}: `scene` is the shared scenes' fixture (tests/conftest.py); name yours otherwise"


def pytest_report_header(config):
    pg = "reachable" if postgres_available() else f"NOT reachable ({_pg_state.get('why')})"
    return [f"consulta: PostgreSQL {PG_BASE_URL} {pg}; CI={IN_CI}"]


def _database_url(backend: str, tmp_path_factory) -> str:
    if backend == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'consulta.sqlite3'}"
    require_postgres()
    # Parallel runs (several checkouts, xdist workers) each need their own database.
    return fresh_postgres_database(scratch_database_name())


# --------------------------------------------------------------------------- SMTP sink

@dataclass
class SMTPSink:
    """A real SMTP server (aiosmtpd) on loopback; tests read what it received."""

    host: str = "127.0.0.1"
    port: int = 0
    messages: list[email.message.EmailMessage] = field(default_factory=list)
    envelopes: list[tuple[str, list[str]]] = field(default_factory=list)
    # The bytes of each message exactly as they arrived (after DATA), for checks on the wire format.
    raw: list[bytes] = field(default_factory=list)
    # The client's (address, port) of each message: one per SMTP connection.
    peers: list[tuple[str, int]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # aiosmtpd handler protocol
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        with self._lock:
            self.messages.append(message)
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            self.raw.append(bytes(envelope.original_content or envelope.content))
            self.peers.append(session.peer)
        return "250 Message accepted for delivery"

    def clear(self) -> None:
        with self._lock:
            self.messages.clear()
            self.envelopes.clear()
            self.raw.clear()
            self.peers.clear()

    @property
    def connections(self) -> int:
        """How many SMTP connections brought the messages received."""
        return len(set(self.peers))

    def wait_for(self, count: int = 1, timeout: float = 5.0) -> list[email.message.EmailMessage]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self.messages) >= count:
                    return list(self.messages)
            time.sleep(0.02)
        raise AssertionError(f"expected {count} e-mail(s), got {len(self.messages)}")

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if address.lower() in str(m["To"]).lower()]

    @staticmethod
    def text_of(message: email.message.EmailMessage) -> str:
        part = message.get_body(preferencelist=("plain", "html"))
        return part.get_content() if part is not None else ""

    @classmethod
    def links_in(cls, message: email.message.EmailMessage) -> list[str]:
        return re.findall(r"https?://[^\s\"'<>]+", cls.text_of(message))


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def smtp_sink() -> Iterator[SMTPSink]:
    from aiosmtpd.controller import Controller

    sink = SMTPSink(port=free_port())
    controller = Controller(sink, hostname=sink.host, port=sink.port)
    controller.start()
    yield sink
    controller.stop()


# --------------------------------------------------------------------------- app and client

# The cookies of a form login by a fresh client, by everything that login's outcome depends on.
_FORM_LOGINS: dict[tuple, list] = {}


class ConsultaClient(FlaskClient):
    """A test client that sends a valid CSRF token with every form POST, like a browser."""

    def csrf_token(self) -> str:
        with self.session_transaction() as sess:
            raw = sess.setdefault("csrf_token", hashlib.sha1(os.urandom(64)).hexdigest())
        serializer = URLSafeTimedSerializer(self.application.secret_key, salt="wtf-csrf-token")
        return serializer.dumps(raw)

    def open(self, *args, **kwargs):
        csrf = kwargs.pop("csrf", True)
        method = (kwargs.get("method") or "GET").upper()
        data = kwargs.get("data")
        if csrf and method in {"POST", "PUT", "PATCH", "DELETE"} and kwargs.get("json") is None:
            data = {} if data is None else data
            if isinstance(data, dict) and "csrf_token" not in data:
                kwargs["data"] = {**data, "csrf_token": self.csrf_token()}
        # The test's session ends its transaction first, as the request would only see committed data
        # (sharing the test's connection, it would otherwise work inside the test's open savepoint).
        db.session.commit()
        # Each request gets its own app context (fresh `g` and database session), as in
        # production; afterwards the test's session forgets what it had loaded.
        with self.application.app_context():
            response = super().open(*args, **kwargs)
        db.session.expire_all()
        return response

    def login(self, user, password: str = DEFAULT_PASSWORD, remember: bool = False) -> None:
        """Log in through the login form. A client with no cookie yet, logging in as a user whose row
        says what it said at an earlier form login (same id, e-mail, password hash, session version and
        name), gets the very cookies that login produced — the same signed session, welcome message
        included — without the request: most tests log in, few test the login (tests/accounts do, with
        their own POSTs). What it skips is only `last_login_at` and the rate limiter's count."""
        key = None if not isinstance(user, User) else (
            self.application.secret_key, user.id, user.email, user.password_hash, user.session_version,
            user.display_name, password, remember, tuple(sorted(self.environ_base.items())))
        if not self._cookies and key in _FORM_LOGINS:
            for cookie in _FORM_LOGINS[key]:
                self.set_cookie(cookie.key, cookie.decoded_value, domain=cookie.domain, path=cookie.path,
                                expires=cookie.expires, httponly=cookie.http_only, samesite=cookie.same_site)
            return
        fresh = not self._cookies
        response = self.post("/accedi", data={"email": user.email, "password": password,
                                              **({"remember": "y"} if remember else {})})
        assert response.status_code == 302, f"login failed for {user.email}: {response.status_code}"
        if fresh and key is not None:
            _FORM_LOGINS[key] = list(self._cookies.values())

    def logout(self):
        return self.post("/esci")


class ConsultaCliRunner(FlaskCliRunner):
    """Runs a command as cron would: in its own app context, after the test's session has committed."""

    def invoke(self, *args, **kwargs):
        db.session.commit()
        result = super().invoke(*args, **kwargs)
        db.session.expire_all()
        return result


@pytest.fixture(scope="session", params=BACKENDS)
def backend(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def database_url(backend, tmp_path_factory) -> str:
    return _database_url(backend, tmp_path_factory)


def build_app(database_url: str, smtp_sink: SMTPSink, **overrides):
    config = {
        "SQLALCHEMY_DATABASE_URI": database_url,
        "MAIL_SERVER": smtp_sink.host,
        "MAIL_PORT": smtp_sink.port,
        "MAIL_SUPPRESS_SEND": False,
        "SERVER_NAME": None,
    }
    config.update(overrides)
    app = create_app("testing", **config)
    app.test_client_class = ConsultaClient
    app.test_cli_runner_class = ConsultaCliRunner
    return app


@pytest.fixture(scope="session")
def _session_app(database_url, smtp_sink):
    app = build_app(database_url, smtp_sink)
    with app.app_context():
        db.create_all()
    yield app
    with app.app_context():
        release_held_transaction()
        db.engine.dispose()


@pytest.fixture
def app(_session_app, smtp_sink, request) -> Iterator:
    """The app on one backend, with empty tables and an empty SMTP sink.

    A test's writes are rolled back at its end. A test marked `committing` (other connections must see
    its data: a live server, threads, subprocesses) commits for real and empties the tables afterwards."""
    smtp_sink.clear()
    # A fresh worker for each test: cached page bodies (consulta/core/fragments.py) are keyed by content,
    # and a rolled-back test's rows come back in the next one with the same ids.
    _session_app.extensions.pop(fragments.EXTENSION, None)
    with _session_app.app_context():
        if request.node.get_closest_marker("committing"):
            release_held_transaction()  # its rows would lock out the other connections
            yield _session_app
            db.session.remove()
            clean_database()
        else:
            with rolled_back_transaction(may_keep_scene="scene" in request.fixturenames):
                yield _session_app


@dataclass
class _Scene:
    rows: Rows
    built_at: datetime
    value: object  # what build returned, its database objects as (class, primary key) references


_scenes: dict[tuple[str, str], _Scene] = {}


class _Reference:
    """A database object of a scene's value, kept as its class and primary key (not a dataclass: the walk
    below goes into dataclasses)."""

    def __init__(self, model: type, identity: tuple):
        self.model, self.identity = model, identity

    def load(self):
        return db.session.get(self.model, self.identity)


def _each_leaf(value, change):
    """`value` with `change` applied to everything but the dicts, lists, tuples and dataclasses holding it."""
    if isinstance(value, dict):
        return {key: _each_leaf(item, change) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_each_leaf(item, change) for item in value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{f.name: _each_leaf(getattr(value, f.name), change)
                                             for f in dataclasses.fields(value)})
    return change(value)


def _reference(value):
    state = sa.inspect(value, raiseerr=False)
    return _Reference(type(value), state.identity) if getattr(state, "mapper", None) is not None else value


def _load(value):
    return value.load() if isinstance(value, _Reference) else value


@pytest.fixture
def scene(app, database_url):
    """scene(name, build): the world build() makes through the domain operations, committed. The first
    test of a worker and database that asks for `name` runs build() (the test's first write: the tables are
    empty) and keeps the rows it left; later ones insert those rows again in bulk (same ids, the clock moved
    on by the time since) and get build()'s value back with its database objects reloaded."""

    def get(name: str, build):
        kept = _scenes.get((database_url, name))
        if scene_in_transaction() is not None:
            if kept is not None and scene_in_transaction() == name:
                claim_scene()  # the test before left these very rows
                return _each_leaf(kept.value, _load)
            discard_scene()
        if kept is None:
            assert tables_are_empty(), f"scene {name!r} must be the test's first write"
            value = build()
            db.session.commit()
            _scenes[(database_url, name)] = _Scene(table_rows(), utcnow(), _each_leaf(value, _reference))
        else:
            insert_rows(shifted(kept.rows, utcnow() - kept.built_at))
            db.session.commit()
            value = _each_leaf(kept.value, _load)
        scene_written(name)
        return value

    return get


@pytest.fixture
def demo(scene):
    """The database `make run` serves (`flask demo`), committed: loaded once per worker and database
    through the domain operations (load_demo: seconds, thousands of statements), inserted again later."""
    from consulta.demo import load_demo

    def build():
        assert load_demo(), "the demo did not load on empty tables"

    scene("demo", build)


@pytest.fixture
def make_app(database_url, smtp_sink, app):
    """Another app on the same database (and in the same test transaction) with some settings changed."""
    made = []

    def factory(**overrides):
        other = build_app(database_url, smtp_sink, **overrides)
        with other.app_context():
            made.append((other, db.engines[None]))
            if current_test_connection() is not None:
                db.engines[None] = current_test_connection()
        return other

    yield factory
    for other, engine in made:
        with other.app_context():
            db.engines[None] = engine
            db.engine.dispose()


@pytest.fixture
def deliver_outbox(app):
    """Run the real outbox sender (`flask send-mail`, one round) against the test database, as the
    worker beside the web server would after a request: every due e-mail goes to the SMTP sink (or
    to the server of `on`, another app from make_app). Returns the run's MailSummary."""
    def run(on=None):
        from consulta.digests.sender import MailRun

        target = on or app
        db.session.commit()
        # Its own app context, hence its own database session, as the sender process has.
        with target.app_context():
            summary = MailRun().run()
        db.session.expire_all()
        return summary

    return run


@pytest.fixture
def client(app) -> ConsultaClient:
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def db_session(app):
    return db.session


# --------------------------------------------------------------------------- query counting

class QueryCounter:
    def __init__(self):
        self.statements: list[str] = []

    def __call__(self, conn, cursor, statement, parameters, context, executemany):
        if not statement.lstrip().upper().startswith(("SAVEPOINT", "RELEASE", "ROLLBACK")):
            self.statements.append(statement)

    @property
    def count(self) -> int:
        return len(self.statements)


@pytest.fixture
def count_queries(app):
    """with count_queries() as counter: ...; counter.count is the number of SQL statements."""
    @contextmanager
    def counting():
        counter = QueryCounter()
        sa.event.listen(db.engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(db.engine, "before_cursor_execute", counter)
    return counting


@pytest.fixture
def renders_of(app):
    """renders_of(name) -> a function that says how many times template `name` has been rendered so far in
    the test (Flask's template_rendered signal)."""
    names: list[str] = []

    def record(sender, template, context, **extra):
        names.append(template.name)

    template_rendered.connect(record, app)
    yield lambda name: lambda: names.count(name)
    template_rendered.disconnect(record, app)


# --------------------------------------------------------------------------- browser

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
]


@pytest.fixture(scope="session")
def _playwright():
    if not Path(CHROMIUM).exists():
        message = f"Chromium not found at {CHROMIUM}"
        if IN_CI:
            pytest.fail(message + " (CI=true: Chromium is required)")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class LiveServer:
    def __init__(self, app):
        from werkzeug.serving import make_server

        self.server = make_server("127.0.0.1", 0, app, threaded=True)
        self.port = self.server.server_port
        self.url = f"http://127.0.0.1:{self.port}"
        # A short poll interval: shutdown() waits for the loop to look, 0.5 s by default, at every test's end.
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.thread.join(timeout=5)


@pytest.fixture
def live_server(app):
    app.config["PUBLIC_BASE_URL"] = "http://127.0.0.1"  # replaced below with the real port
    with LiveServer(app) as server:
        app.config["PUBLIC_BASE_URL"] = server.url
        yield server
    app.config["PUBLIC_BASE_URL"] = "http://localhost"


def _open_page(browser, live_server, width, height, csp_errors):
    context = browser.new_context(base_url=live_server.url, locale="it-IT",
                                  viewport={"width": width, "height": height})
    pg = context.new_page()
    pg.set_default_timeout(10_000)
    pg.on("console", lambda msg: csp_errors.append(msg.text)
          if msg.type == "error" and "Content Security Policy" in msg.text else None)
    return context, pg


@pytest.fixture
def new_page(_playwright, live_server):
    """Open browser pages, each in its own context (another person). Fails the test on a CSP violation."""
    contexts, csp_errors = [], []

    def factory(width=1280, height=900):
        context, pg = _open_page(_playwright, live_server, width, height, csp_errors)
        contexts.append(context)
        return pg

    yield factory
    for context in contexts:
        context.close()
    assert csp_errors == [], f"Content Security Policy violations: {csp_errors}"


@pytest.fixture
def page(new_page):
    """A fresh desktop-size browser page whose relative URLs go to the live server."""
    return new_page()


AXE_JS = ROOT / "static" / "vendor" / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def axe_violations(pg) -> list[dict]:
    """Run axe-core in the page for WCAG 2.1 A/AA; returns the violations (empty is good)."""
    if not AXE_JS.exists():
        pytest.fail(f"axe-core not installed at {AXE_JS}: run `make assets`")
    from playwright.sync_api import Error as PlaywrightError

    # A click just before may still be navigating: check the page that ends up loaded.
    for attempt in range(3):
        pg.wait_for_load_state("load")
        try:
            # Loaded from our own origin, so the page's CSP (script-src 'self') allows it.
            pg.add_script_tag(url="/static/vendor/axe-core/axe.min.js")
            # Only violations are read: asking for nothing else halves axe's work, same verdict. Of the
            # rules these tags run, only no-autoplay-audio preloads anything, and it reads the media: the
            # style sheets axe would fetch and parse again (its "cssom" asset) serve only the experimental
            # css-orientation-lock, which these tags do not run.
            result = pg.evaluate(
                "async (tags) => await axe.run(document, {runOnly: {type: 'tag', values: tags},"
                " resultTypes: ['violations'], preload: {assets: ['media']}})", WCAG_TAGS
            )
            break
        except PlaywrightError:
            if attempt == 2:
                raise
            pg.wait_for_timeout(250)
    return [
        {"id": v["id"], "impact": v["impact"], "help": v["help"],
         "nodes": [n["target"] for n in v["nodes"]][:5]}
        for v in result["violations"]
    ]


@pytest.fixture
def axe():
    def check(pg):
        violations = axe_violations(pg)
        assert violations == [], f"axe-core violations on {pg.url}: {violations}"
    return check


def form_login(pg, user, password: str = DEFAULT_PASSWORD) -> None:
    """Log a browser page in by filling the login form, as a person does (the login stories)."""
    pg.goto("/accedi")
    pg.locator("#email").fill(user.email)
    pg.locator("#password").fill(password)
    with pg.expect_navigation():
        pg.locator("main form [type=submit]").first.click()
    assert "/accedi" not in pg.url, f"login failed for {user.email}"


@pytest.fixture
def login_page(app, live_server):
    """login_page(pg, user): log a browser page in with the session cookie a test client obtained
    from the real login form (far cheaper than driving the form in the browser each time)."""

    def login(pg, user, password: str = DEFAULT_PASSWORD) -> None:
        client = app.test_client()
        # Flask-Login ties the session to the client's address and browser.
        client.environ_base["HTTP_USER_AGENT"] = pg.evaluate("navigator.userAgent")
        client.login(user, password)
        client.get("/")  # shows (and so consumes) the welcome message
        cookie = client.get_cookie(app.config["SESSION_COOKIE_NAME"])
        pg.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": live_server.url,
                                 "httpOnly": True, "sameSite": "Lax"}])

    return login


@pytest.fixture
def login(client):
    """login(user) logs the test client in and returns the user."""

    def do(user):
        client.login(user)
        return user

    return do
