"""Settings that follow the developer (issue 12): one instance file for the server and every command,
links that follow `make run`'s port, and a development mailbox when no SMTP server answers."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys

from consulta import create_app
from consulta.core.mail import send_email_after_commit
from consulta.extensions import db
from tests.conftest import ROOT, free_port


def forget_afterwards(monkeypatch, *names):
    """load_dotenv writes os.environ: make monkeypatch restore these variables however they end."""
    for name in names:
        monkeypatch.setenv(name, "placeholder")
        monkeypatch.delenv(name)


def test_the_instance_file_is_read_by_the_server_and_the_environment_wins(tmp_path, monkeypatch):
    settings = tmp_path / "consulta.env"
    settings.write_text("PUBLIC_BASE_URL=https://consulta.ambito44.example\nDIGEST_LINES_PER_SECTION=7\n")
    forget_afterwards(monkeypatch, "PUBLIC_BASE_URL", "DIGEST_LINES_PER_SECTION")
    monkeypatch.setenv("CONSULTA_ENV_FILE", str(settings))
    monkeypatch.setenv("DIGEST_LINES_PER_SECTION", "3")  # set by the service manager: it wins

    app = create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://")

    assert app.config["PUBLIC_BASE_URL"] == "https://consulta.ambito44.example"
    assert app.config["DIGEST_LINES_PER_SECTION"] == 3


def test_tests_never_read_the_instance_file(tmp_path, monkeypatch):
    settings = tmp_path / "consulta.env"
    settings.write_text("PUBLIC_BASE_URL=https://consulta.ambito44.example\n")
    forget_afterwards(monkeypatch, "PUBLIC_BASE_URL")
    monkeypatch.setenv("CONSULTA_ENV_FILE", str(settings))
    assert create_app("testing").config["PUBLIC_BASE_URL"] == "http://localhost"


def test_a_flask_command_reads_the_same_file(tmp_path):
    database = tmp_path / "da-file.sqlite3"
    settings = tmp_path / "consulta.env"
    settings.write_text(f"DATABASE_URL=sqlite:///{database}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "CONSULTA_CONFIG")}
    env.update(CONSULTA_ENV_FILE=str(settings), FLASK_APP="consulta", FLASK_SKIP_DOTENV="1")
    result = subprocess.run([sys.executable, "-m", "flask", "db", "upgrade"], cwd=ROOT, env=env,
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    tables = {row[0] for row in sqlite3.connect(database).execute("SELECT name FROM sqlite_master")}
    assert {"ambito", "proposal", "outbox_email"} <= tables


def test_development_links_follow_the_port_make_run_listens_on(monkeypatch):
    monkeypatch.setenv("FLASK_RUN_HOST", "127.0.0.1")
    monkeypatch.setenv("FLASK_RUN_PORT", "5101")
    monkeypatch.delenv("PUBLIC_BASE_URL", raising=False)
    monkeypatch.setenv("CONSULTA_ENV_FILE", "/nonexistent/consulta.env")
    assert create_app("development", SQLALCHEMY_DATABASE_URI="sqlite://").config["PUBLIC_BASE_URL"] == (
        "http://127.0.0.1:5101")


def test_without_an_smtp_server_development_mail_lands_in_the_dev_mailbox(tmp_path, make_app, deliver_outbox,
                                                                           client, create_user):
    developing = make_app(DEBUG=True, MAIL_DEV_DIR=str(tmp_path / "mail"), MAIL_SERVER="127.0.0.1",
                          MAIL_PORT=free_port())  # nothing listens there
    ada = create_user(email="ada@example.org", display_name="Ada")
    with developing.test_request_context():
        send_email_after_commit(ada.email, "Conferma il tuo indirizzo e-mail", "accounts/verify_email",
                                user=ada, link="http://127.0.0.1:5101/verifica-email/abc", hours=72)
        db.session.commit()

    summary = deliver_outbox(on=developing)

    assert summary.sent == 1
    [filed] = list((tmp_path / "mail").glob("*.eml"))
    page = developing.test_client().get("/_dev/posta").get_data(as_text=True)
    assert "Conferma il tuo indirizzo e-mail" in page and "ada@example.org" in page
    message = developing.test_client().get(f"/_dev/posta/{filed.name}").get_data(as_text=True)
    assert 'href="http://127.0.0.1:5101/verifica-email/abc"' in message
    # Outside debug mode the page does not exist, and a failed send stays failed (see tests/mail).
    assert client.get("/_dev/posta").status_code == 404
    assert developing.test_client().get("/_dev/posta/..%2Fconsulta.env").status_code == 404
