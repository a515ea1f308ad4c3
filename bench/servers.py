"""What the benchmarks share: where the data lives, the production settings, gunicorn and wrk."""

from __future__ import annotations

import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
WRK_SCRIPT = ROOT / "bench" / "wrk_report.lua"
# The PostgreSQL server the benchmark databases are created on (as the tests' TEST_DATABASE_URL).
POSTGRES_URL = os.environ.get("BENCH_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
_SECRET_KEY = secrets.token_hex(32)


def database_url(backend: str, scale: int) -> str:
    """The benchmark database of `backend` ("sqlite" or "postgresql") at `scale` proposals."""
    if backend == "sqlite":
        return f"sqlite:///{OUT / f'consulta-{scale}.sqlite3'}"
    from sqlalchemy.engine import make_url

    return make_url(POSTGRES_URL).set(database=f"consulta_bench_data_{scale}").render_as_string(hide_password=False)


def fresh_database(url: str) -> None:
    """An empty database at `url`: the SQLite file removed, the PostgreSQL database dropped and created."""
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database)
        path.parent.mkdir(parents=True, exist_ok=True)
        for extra in ("", "-wal", "-shm", "-journal"):
            Path(f"{path}{extra}").unlink(missing_ok=True)
        return
    engine = create_engine(make_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    engine.dispose()


def production_environment(url: str) -> dict[str, str]:
    """The environment of Consulta in production (docs/deployment.md) on the database at `url`.

    No instance settings file is read (CONSULTA_ENV_FILE names none), so a developer's
    instance/consulta.env does not change what is measured.
    """
    return {
        "CONSULTA_CONFIG": "production",
        "SECRET_KEY": _SECRET_KEY,
        "DATABASE_URL": url,
        "PUBLIC_BASE_URL": "https://consulta.example.org",
        "CONSULTA_ENV_FILE": str(OUT / "no-instance-settings.env"),
    }


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Gunicorn:
    """`gunicorn --workers 2` (sync workers) serving `app_spec` on a free port, until stopped.

    `idle_path` is a cheap page of the app (no work but a trivial query at most), for `drain()`.
    """

    def __init__(self, app_spec: str, env: dict[str, str], *, workers: int = 2, idle_path: str = "/healthz"):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers
        self.idle_path = idle_path
        command = [str(Path(sys.executable).parent / "gunicorn"), "--workers", str(workers), "--worker-class", "sync",
                   "--bind", f"127.0.0.1:{self.port}", "--log-level", "warning", "--timeout", "120", app_spec]
        self.process = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **env})
        self._wait(idle_path)

    def _wait(self, path: str, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {self.process.returncode}")
            try:
                with urllib.request.urlopen(self.url + path, timeout=30) as response:
                    if response.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"gunicorn did not answer on {self.url}{path}")

    def drain(self) -> None:
        """Return once the requests a wrk run left open are served.

        wrk stops with requests in flight, and gunicorn's sync workers serve them anyway, from the
        listen queue. One cheap request per worker, sent now, queues behind them: when all have
        answered, every worker is free again and the next run starts on an idle server.
        """
        def ask(_n: int) -> None:
            with urllib.request.urlopen(self.url + self.idle_path, timeout=600) as response:
                response.read()

        with ThreadPoolExecutor(self.workers) as pool:
            list(pool.map(ask, range(self.workers)))

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def __enter__(self) -> Gunicorn:
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


@dataclass
class WrkResult:
    requests: int
    seconds: float
    errors: int
    non_2xx: int
    p50_ms: float
    p99_ms: float
    max_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def wrk(url: str, *, duration: float, threads: int = 2, connections: int = 8) -> WrkResult:
    """One wrk run; the Lua `done` hook prints the totals and latency percentiles as JSON."""
    command = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration:g}s", "--timeout", "10s",
               "-s", str(WRK_SCRIPT), url]
    output = subprocess.run(command, check=True, capture_output=True, text=True).stdout
    line = next(line for line in output.splitlines() if line.startswith("WRK_JSON "))
    data = json.loads(line.removeprefix("WRK_JSON "))
    return WrkResult(requests=data["requests"], seconds=data["duration_us"] / 1e6, errors=data["errors"],
                     non_2xx=data["status_errors"], p50_ms=data["p50_us"] / 1000, p99_ms=data["p99_us"] / 1000,
                     max_ms=data["max_us"] / 1000)
