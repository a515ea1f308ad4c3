"""Fixtures of the outbox tests: an SMTP server that accepts and never answers, the accounts'
registration form and the digests' own SMTP servers and subprocess helpers."""

from __future__ import annotations

import socket
import threading
import time

import pytest

from tests.accounts.conftest import registration  # noqa: F401  (a fixture, shared)
from tests.digests.conftest import start_sink  # noqa: F401  (a fixture, shared)


class SilentSMTP:
    """A TCP server on loopback that accepts every connection and never says a word: no greeting,
    no answer, like a wedged mail relay. Each connection is dropped after `hold` seconds (as a
    firewall or the relay's own reaper eventually would), so code without a timeout waits that long."""

    def __init__(self, hold: float = 4.0):
        self.hold = hold
        self.accepted = 0
        self._stop = threading.Event()
        self._server = socket.create_server(("127.0.0.1", 0), backlog=64)
        self._server.settimeout(0.05)
        self.port = self._server.getsockname()[1]
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        held: list[tuple[socket.socket, float]] = []
        while not self._stop.is_set():
            try:
                conn, _address = self._server.accept()
            except TimeoutError:
                pass
            else:
                self.accepted += 1
                held.append((conn, time.monotonic() + self.hold))
            now = time.monotonic()
            for conn, _until in [item for item in held if item[1] <= now]:
                conn.close()
            held = [item for item in held if item[1] > now]
        for conn, _until in held:
            conn.close()

    def __enter__(self) -> SilentSMTP:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self._server.close()


@pytest.fixture
def silent_smtp():
    with SilentSMTP() as server:
        yield server
