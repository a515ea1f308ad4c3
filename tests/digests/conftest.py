"""Helpers of the notifications and digest tests: running send-digests, reading the outbox, SMTP
servers that are slow or refuse, and the command as a subprocess. The data comes from the factories."""

from __future__ import annotations

import asyncio
import email
import email.policy
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select

from consulta.extensions import db
from tests.conftest import ROOT, SMTPSink, free_port


@pytest.fixture
def followers(app, create_user, create_tavolo, create_follow, create_proposal):
    """`n` participants following a tavolo where a new proposal was just published."""
    def make(n: int, prefix: str = "p"):
        tavolo = create_tavolo(slug=f"tavolo-{prefix}", title=f"Tavolo {prefix}")
        people = [create_user(email=f"{prefix}{i}@example.org") for i in range(n)]
        for person in people:
            create_follow(person, tavolo=tavolo)
        create_proposal(tavolo, create_user(email=f"autore-{prefix}@example.org"), title="Servizio di sollievo")
        return people
    return make


@pytest.fixture
def send_digests(app):
    """Run `flask send-digests` in-process on `app` (or another app from make_app)."""
    def run(*args, on=None):
        target = on or app
        db.session.commit()
        # Its own app context, hence its own database session, as a cron job would have.
        with target.app_context():
            result = target.test_cli_runner().invoke(args=["send-digests", *args], catch_exceptions=False)
        db.session.expire_all()
        return result

    return run


def digests_to(sink: SMTPSink, address: str):
    return [m for m in sink.to(address) if "riepilogo" in str(m["Subject"]).lower()]


def outbox_rows(**filters):
    from consulta.digests.models import OutboxEmail

    query = select(OutboxEmail).order_by(OutboxEmail.id)
    for name, value in filters.items():
        query = query.where(getattr(OutboxEmail, name) == value)
    return db.session.execute(query).scalars().all()


def pending_count(user) -> int:
    from consulta.core.notify import Notification

    return db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.user_id == user.id, Notification.digested_at.is_(None))).scalar_one()


def site_path(url: str) -> str:
    """An e-mailed absolute link as a path the test client can open."""
    base = "http://localhost"
    assert url.startswith(base), url
    return url[len(base):] or "/"


# --------------------------------------------------------------------------- SMTP servers of our own

@dataclass
class SlowSink(SMTPSink):
    """Keeps each message, then takes `delay` seconds before answering 250 (a busy relay)."""

    delay: float = 0.1

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        await asyncio.sleep(self.delay)
        return answer


@dataclass
class RefusingSink(SMTPSink):
    """Answers every RCPT TO with `code` (550: permanent, 451: try later)."""

    code: int = 550

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if self.code == 451:
            return "451 4.3.0 Mailbox temporarily unavailable"
        return "550 5.1.1 Mailbox does not exist"


@dataclass
class DroppingSink(SMTPSink):
    """Ends each connection after `per_connection` messages, as relays do: it closes the connection
    after the 250 (`how="close"`), or answers the next MAIL FROM with 421 and closes it (`how="421"`)."""

    per_connection: int = 3
    how: str = "close"

    def _full(self, session) -> bool:
        with self._lock:
            return self.peers.count(session.peer) >= self.per_connection

    async def handle_MAIL(self, server, session, envelope, address, mail_options):
        if self.how == "421" and self._full(session):
            asyncio.get_running_loop().call_soon(server.transport.close)
            return "421 4.7.0 Too many messages on this connection"
        envelope.mail_from = address
        envelope.mail_options.extend(mail_options)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        answer = await super().handle_DATA(server, session, envelope)
        if self.how == "close" and self._full(session):
            asyncio.get_running_loop().call_soon(server.transport.close)
        return answer


@pytest.fixture
def start_sink():
    from aiosmtpd.controller import Controller

    controllers = []

    def start(sink: SMTPSink):
        sink.port = free_port()
        controller = Controller(sink, hostname=sink.host, port=sink.port)
        controller.start()
        controllers.append(controller)
        return sink

    yield start
    for controller in controllers:
        controller.stop()


# --------------------------------------------------------------------------- subprocesses

def command_env(app, sink: SMTPSink | None = None, *, mail_port: int | None = None, **extra) -> dict[str, str]:
    env = {**os.environ, "CONSULTA_CONFIG": "testing", "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
           "MAIL_SERVER": "127.0.0.1", "MAIL_PORT": str(mail_port if mail_port is not None else sink.port),
           "PUBLIC_BASE_URL": app.config["PUBLIC_BASE_URL"], "PYTHONUNBUFFERED": "1"}
    env.update({k: str(v) for k, v in extra.items()})
    return env


def start_command(env: dict[str, str], *args: str) -> subprocess.Popen:
    flask = os.path.join(os.path.dirname(sys.executable), "flask")
    return subprocess.Popen([flask, "--app", "consulta", "send-digests", *args], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def parse_message(raw: bytes):
    return email.message_from_bytes(raw, policy=email.policy.default)
