"""The development mailbox: with no SMTP server answering, the sender files each message in
MAIL_DEV_DIR (instance/mail/), and /_dev/posta lists them. Registered only in debug mode."""

from __future__ import annotations

import email
import email.policy
import re
from dataclasses import dataclass
from pathlib import Path

from flask import Blueprint, Flask, abort, current_app, render_template

bp = Blueprint("devmail", __name__)
SHOWN = 100
_NAME = re.compile(r"^[0-9T]+-[A-Za-z0-9@._-]+\.eml$")


@dataclass
class FiledMessage:
    name: str
    to: str
    subject: str
    date: str
    text: str
    links: list[str]


def _read(path: Path) -> FiledMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    body = message.get_body(preferencelist=("plain",))
    text = body.get_content() if body is not None else ""
    return FiledMessage(name=path.name, to=str(message["To"] or ""), subject=str(message["Subject"] or ""),
                        date=str(message["Date"] or ""), text=text,
                        links=list(dict.fromkeys(re.findall(r"https?://[^\s<>\"')\]]+", text))))


def _folder() -> Path:
    return Path(current_app.config["MAIL_DEV_DIR"])


@bp.get("/_dev/posta")
def mailbox():
    paths = sorted(_folder().glob("*.eml"), reverse=True)[:SHOWN] if _folder().is_dir() else []
    return render_template("devmail/index.html", messages=[_read(p) for p in paths], folder=_folder())


@bp.get("/_dev/posta/<name>")
def message(name: str):
    path = _folder() / name
    if not _NAME.match(name) or not path.is_file():
        abort(404)
    return render_template("devmail/message.html", message=_read(path))


def register(app: Flask) -> None:
    if app.debug and app.config.get("MAIL_DEV_DIR"):
        app.register_blueprint(bp)
