"""Every word in its language (issue 12): each audit action has its label, and every source string
has its English translation in the catalogue."""

from __future__ import annotations

import ast
import subprocess
import sys

from babel.messages.pofile import read_po

from tests.conftest import ROOT

SOURCE = ROOT / "consulta"


def _recorded_actions() -> tuple[set[str], set[str]]:
    """Actions written as constants (audit.record(..., "x.y"), Transition(..., action="x.y")) and the
    operations of the plan record history (f"plan_record.{item_type}.{operation}")."""
    actions, record_operations = set(), set()
    for path in SOURCE.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", None) or getattr(node.func, "id", None)
            if name == "record" and len(node.args) >= 2:
                action = node.args[1]
                if isinstance(action, ast.Constant) and isinstance(action.value, str):
                    actions.add(action.value)
                elif isinstance(action, ast.JoinedStr) and isinstance(action.values[-1], ast.Constant):
                    suffix = action.values[-1].value  # f"{kind}.flag": kind is a proposal or a comment
                    if suffix.startswith("."):
                        actions |= {f"proposal{suffix}", f"comment{suffix}"}
            if name == "_revise" and len(node.args) >= 4 and isinstance(node.args[3], ast.Constant):
                record_operations.add(node.args[3].value)
            for keyword in node.keywords:
                if keyword.arg == "action" and isinstance(keyword.value, ast.Constant) and keyword.value.value:
                    actions.add(keyword.value.value)
    return actions, record_operations


def test_every_audit_action_has_words(app):
    from consulta.core import events

    ACTION_LABELS = events.actions()
    actions, record_operations = _recorded_actions()
    assert len(actions) > 60, "the scan found too little: has the code changed shape?"
    assert sorted(actions - ACTION_LABELS.keys()) == []
    plan_record = {key.split(".")[2] for key in ACTION_LABELS if key.startswith("plan_record.")}
    assert record_operations and record_operations <= plan_record


def test_the_demo_writes_no_action_or_subject_without_words(app):
    from sqlalchemy import select

    from consulta.core import events
    from consulta.core.audit import AuditEvent
    from consulta.demo import load_demo
    from consulta.extensions import db

    load_demo()
    db.session.flush()
    rows = db.session.execute(select(AuditEvent.action, AuditEvent.subject_type).distinct()).all()
    assert len(rows) > 30
    assert sorted({action for action, _s in rows} - events.actions().keys()) == []
    assert sorted({subject for _a, subject in rows} - events.subjects().keys()) == []


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
