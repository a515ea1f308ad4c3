"""Every word in its language (issue 12): each audit action, notice and system reason the code can write is
in the event catalogue (consulta/core/events.py and the domains' events.py), the pages that show them never
show a key, and every source string has its English translation in the catalogue of messages."""

from __future__ import annotations

import ast
import html
import re
import subprocess
import sys

from babel.messages.pofile import read_po
from sqlalchemy import func, select

from consulta.core import events
from consulta.core.audit import AuditEvent
from consulta.extensions import db
from tests.conftest import ROOT
from tests.factories import DEFAULT_PASSWORD

SOURCE = ROOT / "consulta"
# A key of the catalogue as it could leak onto a page: "proposal.hide", "plan_record.area.create".
DOTTED = re.compile(r"\b[a-z_]+(?:\.[a-z_]+)+\b")


def _name(node: ast.Call) -> str | None:
    return getattr(node.func, "attr", None) or getattr(node.func, "id", None)


def _keys(node: ast.AST) -> set[str]:
    """The key a literal says: "x.y", or f"{kind}.y" where kind is a proposal or a comment (moderation)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.JoinedStr) and isinstance(node.values[-1], ast.Constant):
        suffix = node.values[-1].value
        if suffix.startswith("."):
            return {f"proposal{suffix}", f"comment{suffix}"}
    return set()


def _scan() -> dict[str, set[str]]:
    """What the code writes, read from its source: audit actions (audit.record(..., "x.y"), the transition
    tables' action="x.y"), the operations of the plan record's history (f"plan_record.{item}.{operation}"),
    notices (notify.emit and the moderation and meetings helpers that call it, `event = "x.y"`, rows built
    as {"event": "x.y"}) and the system's phrases (phrase_key("x.y", ...))."""
    found: dict[str, set[str]] = {"actions": set(), "record_operations": set(), "notices": set(), "phrases": set()}
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "event" for t in node.targets):
                found["notices"] |= _keys(node.value)
            if isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "event":
                        found["notices"] |= _keys(value)
            if not isinstance(node, ast.Call):
                continue
            name = _name(node)
            if name == "record" and len(node.args) >= 2:
                found["actions"] |= _keys(node.args[1])
            if name == "_revise" and len(node.args) >= 4 and isinstance(node.args[3], ast.Constant):
                found["record_operations"].add(node.args[3].value)
            if name in ("emit", "_tell_author", "_tell_member") and len(node.args) >= 2:
                found["notices"] |= _keys(node.args[1])
            if name == "phrase_key" and node.args:
                argument = node.args[0]
                if isinstance(argument, ast.JoinedStr) and isinstance(argument.values[0], ast.Constant):
                    found["phrases"].add(argument.values[0].value + "*")  # f"moderation.{code}"
                else:
                    found["phrases"] |= _keys(argument)
            for keyword in node.keywords:
                if keyword.arg == "action" and isinstance(keyword.value, ast.Constant) and keyword.value.value:
                    found["actions"].add(keyword.value.value)
    return found


def test_everything_the_code_can_write_is_in_the_catalogue(app):
    from consulta.digests.builder import FAMILIES
    from consulta.moderation.models import HIDE_REASONS

    found = _scan()
    assert len(found["actions"]) > 60 and len(found["notices"]) > 25, "the scan found too little: has the code changed?"
    assert sorted(found["actions"] - events.actions().keys()) == []
    plan_record = {key.split(".")[2] for key in events.actions() if key.startswith("plan_record.")}
    assert found["record_operations"] and found["record_operations"] <= plan_record
    assert sorted(found["notices"] - events.notices().keys()) == []
    # Every family of digest lines a notice names exists.
    assert {n.digest for n in events.notices().values() if n.digest} <= FAMILIES.keys()
    phrases = events.phrases().keys()
    assert found["phrases"] - phrases == {"moderation.*"}
    assert {f"moderation.{code}" for code in HIDE_REASONS} <= phrases


def test_the_demo_writes_no_action_subject_or_field_without_words(demo):

    rows = db.session.execute(select(AuditEvent.action, AuditEvent.subject_type).distinct()).all()
    assert len(rows) > 30
    assert sorted({action for action, _s in rows} - events.actions().keys()) == []
    assert sorted({subject for _a, subject in rows} - events.subjects().keys()) == []
    assert _fields_without_words() == []


def _fields_without_words() -> list[str]:
    """Fields of the stored audit rows with no words, and values of enumerated fields with none."""
    missing = set()
    for subject_type, changes in db.session.execute(select(AuditEvent.subject_type, AuditEvent.changes)):
        for key, value in (changes or {}).items():
            known = events.find_field(subject_type, key)
            if known is None:
                missing.add(f"{subject_type}.{key}")
                continue
            values = value if isinstance(value, list) and len(value) == 2 else [value]
            for one in values:
                if known.values is not None and isinstance(one, str) and one not in known.values:
                    missing.add(f"{subject_type}.{key}={one}")
    return sorted(missing)


# --------------------------------------------------------------------------- what the pages show

def _visible_text(response) -> str:
    assert response.status_code == 200
    page = re.sub(r"(?s)<(script|style)\b.*?</\1>", " ", response.get_data(as_text=True))
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _leaked_keys(page: str) -> set[str]:
    known = events.actions().keys() | events.notices().keys() | events.phrases().keys()
    return {match for match in DOTTED.findall(page) if match in known}


def _pages(client, url: str, page_argument: str, per_page: int, total: int) -> list[str]:
    return [_visible_text(client.get(f"{url}?{page_argument}={number}"))
            for number in range(1, max(1, -(-total // per_page)) + 1)]


def test_the_logs_and_the_notices_speak_the_readers_language(
        demo, client, create_user, create_proposal, create_comment, create_organisation):
    """The demo and the moderation acts it lacks, read in Italian and in English: the admin's audit log (every
    page, its filters), every tavolo's public moderation log and an author's notifications show words, never a
    key, and the system's reasons are said in the reader's language."""
    from consulta.accounts.models import User
    from consulta.admin import operations as admin_operations
    from consulta.admin.views import AUDIT_PER_PAGE
    from consulta.demo import DEMO_PASSWORD
    from consulta.moderation import operations as moderation
    from consulta.moderation.queries import LOG_PER_PAGE
    from consulta.organisations import operations as organisation_operations
    from consulta.tavoli.models import Tavolo

    admin = db.session.scalar(select(User).where(User.email == "admin@consulta.example"))
    tavolo = db.session.scalars(select(Tavolo).where(Tavolo.moderation == "post", Tavolo.phase == "open")
                                .order_by(Tavolo.id)).first()
    facilitator = tavolo.facilitators[0]
    author = create_user(email="autrice@example.org", display_name="Anna Autrice")
    # A moderator hides a proposal with a note; three participants' flags hide a comment by themselves.
    proposal = create_proposal(tavolo, author, title="Una proposta sul tavolo sbagliato")
    moderation.hide(proposal, facilitator, reason="off_topic", note="Riguarda un altro tavolo.")
    comment = create_comment(proposal, author, body="Un commento segnalato")
    for n in range(3):
        moderation.flag(comment, create_user(email=f"segnala{n}@example.org"), reason="offensive")
    assert comment.hidden_by_flags
    organisation_operations.reject_organisation(create_organisation(status="pending"), admin, "Codice fiscale errato.")
    admin_operations.block_user(create_user(email="bloccata@example.org"), admin, "Messaggi ripetuti.")
    db.session.commit()
    assert _fields_without_words() == []
    audit_rows = db.session.scalar(select(func.count(AuditEvent.id)))
    tavoli = list(db.session.scalars(select(Tavolo).where(Tavolo.phase != "draft")))

    def read_everything(who, password, *, language: str) -> dict[str, str]:
        client.login(who, password=password)
        client.get(f"/lingua/{language}")
        pages = {}
        if who is admin:
            for number, page in enumerate(_pages(client, "/gestione/registro/", "pagina", AUDIT_PER_PAGE,
                                                 audit_rows), start=1):
                pages[f"audit log, page {number}"] = page
            for tavolo in tavoli:
                log_rows = db.session.scalar(select(func.count(AuditEvent.id)).where(
                    AuditEvent.tavolo_id == tavolo.id, AuditEvent.action.in_(events.public_actions())))
                for number, page in enumerate(_pages(client, f"/tavoli/{tavolo.slug}/registro-moderazione", "page",
                                                     LOG_PER_PAGE, log_rows), start=1):
                    pages[f"moderation log of {tavolo.slug}, page {number}"] = page
        else:
            pages["notifications"] = _visible_text(client.get("/notifiche/"))
        client.logout()
        return pages

    for language in ("it", "en"):
        pages = read_everything(admin, DEMO_PASSWORD, language=language)
        pages |= read_everything(author, DEFAULT_PASSWORD, language=language)
        assert len(pages) > 8
        assert {name: leaked for name, page in pages.items() if (leaked := _leaked_keys(page))} == {}
        everything = "\n".join(pages.values())
        # A person's words stay as they were written.
        assert "Riguarda un altro tavolo." in everything and "Codice fiscale errato." in everything
        if language == "it":
            assert "Decisione del verbale n." in everything
            assert "fuori tema. Riguarda un altro tavolo." in everything
            assert "in attesa di revisione dopo 3 segnalazioni" in everything
            assert "Proposta nascosta" in everything and "Commento nascosto in attesa di revisione" in everything
            assert "Il tuo commento su «Una proposta sul tavolo sbagliato» è stato nascosto dai moderatori" in everything
        else:
            assert "Decision in minutes no." in everything and "Decisione del verbale" not in everything
            assert "off topic. Riguarda un altro tavolo." in everything and "fuori tema" not in everything
            assert "awaiting review after 3 reports" in everything and "in attesa di revisione" not in everything
            assert "Proposal hidden" in everything and "Proposta nascosta" not in everything
            # The plan record's history: a decision taken in, all the comuni.
            assert "Decision no." in everything and "Decisione n." not in everything
            assert "Tutti i comuni dell'Ambito" not in everything
            assert "Your comment on “Una proposta sul tavolo sbagliato” was hidden by the moderators" in everything
        # Stored values in words: a proposal's state, an outcome, a plan action's status.
        assert not {"under_review", "partially_approved", "in_progress", "off_topic"} & set(everything.split())


def test_every_source_string_has_its_english_translation(tmp_path):
    """The catalogue extracted afresh from the code and the templates, against translations/en."""
    template = tmp_path / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg",
                    "-k", "_l", "-k", "lazy_gettext", "-o", str(template), "."],
                   cwd=ROOT, check=True, capture_output=True)
    with template.open("rb") as handle:
        wanted = [m.id for m in read_po(handle) if m.id]
    assert len(wanted) > 1000, "the extraction found too little: is babel.cfg still right?"
    with (ROOT / "translations" / "en" / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        english = read_po(handle)
    missing = []
    for msgid in wanted:
        message = english.get(msgid)
        translated = message is not None and not message.fuzzy and (
            all(message.string) if isinstance(message.string, tuple) else bool(message.string))
        if not translated:
            missing.append(msgid if isinstance(msgid, str) else msgid[0])
    assert missing == [], f"{len(missing)} strings without an English translation, e.g. {missing[:10]}"
