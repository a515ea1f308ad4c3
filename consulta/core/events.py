"""The catalogue of events: every audit action, notification, subject and system phrase, with its words.

Each domain declares its own in `consulta/<domain>/events.py` (create_app imports them all):

    action("proposal.publish", _l("Proposta pubblicata"))        # AuditEvent.action
    notice("proposal.hidden", _l("Proposta nascosta"), digest="proposal")   # Notification.event
    subject("proposal", _l("Proposta"), fields={"state": Field(_l("stato"), STATE_LABELS)})
    phrase("moderation.flags", lambda n: ngettext(...))          # a reason the system gives, stored as a key

The audit log and its filters, the public moderation log and the digests read the words here and
nowhere else. A key is never shown: what the catalogue does not know gets a readable fallback, and
tests/test_catalogue.py makes sure every key the code can write is known.

What the system writes in words of its own (a reason, a value of the plan record's history) is stored
as a phrase's key, with at most one argument ("minutes.decision:3"), and said in the reader's language
when shown; a person's own words are stored beside it as they were written.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from flask_babel import gettext
from flask_babel import lazy_gettext as _l

from consulta.core.formatting import format_date, format_datetime

# A lazy_gettext string: said in the language of whoever reads it.
Words = Any


@dataclass(frozen=True)
class Action:
    """An audit action (AuditEvent.action)."""

    key: str
    label: Words
    # Listed in the tavolo's public moderation log.
    public: bool = False
    # The words when the system acted by itself, with no person (a hide after enough flags).
    automatic: Words | None = None


@dataclass(frozen=True)
class Notice:
    """A notification event (Notification.event)."""

    key: str
    label: Words
    # The family of digest lines that puts it into words (consulta.digests.builder.FAMILIES);
    # without one the digest writes a plain line with the label.
    digest: str | None = None


@dataclass(frozen=True)
class Field:
    """A field of the before/after summary of an audit row."""

    label: Words
    # The words of each stored value (an enum's labels).
    values: Mapping[str, Words] | None = None
    # Or how a value reads (money, a reference to another row).
    show: Callable[[Any], str] | None = None


@dataclass(frozen=True)
class Subject:
    """A kind of thing the audit log records acts on (AuditEvent.subject_type, a table name)."""

    key: str
    label: Words
    # Fields named by a pattern ("indicator:3"): returns the Field of such a name, or None.
    field_of: Callable[[str], Field | None] | None = None


@dataclass(frozen=True)
class Phrase:
    """Words the system writes (a reason it gives): stored as "key" or "key:argument", said when read."""

    key: str
    say: Callable[[str | None], str]


_actions: dict[str, Action] = {}
_notices: dict[str, Notice] = {}
_subjects: dict[str, Subject] = {}
_phrases: dict[str, Phrase] = {}
_fields: dict[tuple[str, str], Field] = {}


def _add(registry: dict, item):
    if item.key in registry:
        raise ValueError(f"{item.key!r} is declared twice in the event catalogue")
    registry[item.key] = item
    return item


def action(key: str, label: Words, **options: Any) -> Action:
    return _add(_actions, Action(key, label, **options))


def notice(key: str, label: Words, **options: Any) -> Notice:
    return _add(_notices, Notice(key, label, **options))


def subject(key: str, label: Words, *, fields: Mapping[str, Field] | None = None, **options: Any) -> Subject:
    declared = _add(_subjects, Subject(key, label, **options))
    if fields:
        subject_fields(key, fields)
    return declared


def subject_fields(subject_key: str, fields: Mapping[str, Field]) -> None:
    """Fields of a subject's audit rows; a domain declares those it writes, also on another domain's subject
    (the minutes write their number on the proposals they decide)."""
    for name, one in fields.items():
        if (subject_key, name) in _fields:
            raise ValueError(f"field {name!r} of {subject_key!r} is declared twice in the event catalogue")
        _fields[(subject_key, name)] = one


def phrase(key: str, say: Callable[[str | None], str]) -> Phrase:
    return _add(_phrases, Phrase(key, say))


# --------------------------------------------------------------------------- reading

def actions() -> dict[str, Action]:
    return dict(_actions)


def notices() -> dict[str, Notice]:
    return dict(_notices)


def subjects() -> dict[str, Subject]:
    return dict(_subjects)


def phrases() -> dict[str, Phrase]:
    return dict(_phrases)


def find_notice(key: str) -> Notice | None:
    return _notices.get(key)


def public_actions() -> list[str]:
    """The actions of the public moderation log."""
    return sorted(key for key, one in _actions.items() if one.public)


def subject_label(key: str) -> str:
    known = _subjects.get(key)
    return str(known.label) if known is not None else gettext("Altro oggetto")


def action_label(key: str, *, automatic: bool = False) -> str:
    """The words of an action; an action the catalogue does not know is named by its subject."""
    known = _actions.get(key)
    if known is not None:
        return str(known.automatic if automatic and known.automatic is not None else known.label)
    kind = key.split(".", 1)[0]
    if kind in _subjects:
        return gettext("%(subject)s: altra attività", subject=subject_label(kind))
    return gettext("Altra attività")


# Fields any subject may have.
COMMON_FIELDS = {
    "title": Field(_l("titolo")),
    "name": Field(_l("nome")),
    "description": Field(_l("descrizione")),
}


def find_field(subject_type: str, key: str) -> Field | None:
    if (subject_type, key) in _fields:
        return _fields[(subject_type, key)]
    known = _subjects.get(subject_type)
    if known is not None and known.field_of is not None:
        found = known.field_of(key)
        if found is not None:
            return found
    return COMMON_FIELDS.get(key)


def field_label(subject_type: str, key: str) -> str:
    known = find_field(subject_type, key)
    return str(known.label) if known is not None else key.replace("_", " ")


def show_value(subject_type: str, key: str, value: Any) -> str:
    """A before/after value of the audit log, as a person reads it."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return gettext("sì") if value else gettext("no")
    known = find_field(subject_type, key)
    if known is not None and known.show is not None:
        return known.show(value)
    if known is not None and known.values is not None and isinstance(value, str) and value in known.values:
        return str(known.values[value])
    if isinstance(value, list):
        return ", ".join(show_value(subject_type, key, one) for one in value)
    if isinstance(value, str) and key.endswith(("_at", "_date")):
        return _moment(value)
    return str(value)


def _moment(value: str) -> str:
    try:
        if "T" in value:
            return format_datetime(datetime.fromisoformat(value), "d MMMM yyyy, HH:mm")
        return format_date(date.fromisoformat(value), "d MMMM yyyy")
    except ValueError:
        return value


def reference(value: Any) -> str:
    """A reference to another row, by its number ("n. 12")."""
    return gettext("n. %(id)s", id=value)


# --------------------------------------------------------------------------- the system's phrases

def phrase_key(key: str, argument: Any = None) -> str:
    """What to store for a phrase of the system: "key" or "key:argument"."""
    if key not in _phrases:
        raise KeyError(f"{key!r} is not a declared phrase")
    return key if argument is None else f"{key}:{argument}"


def is_phrase(stored: object) -> bool:
    """Whether a stored text is a phrase's key (and not a person's words, nor words stored before the
    system's phrases were keys)."""
    return isinstance(stored, str) and stored.partition(":")[0] in _phrases


def say(stored: str | None, note: str | None = None) -> str | None:
    """A stored phrase in the reader's language, followed by a person's own words if any."""
    words = None
    if stored:
        key, _sep, argument = stored.partition(":")
        known = _phrases.get(key)
        words = known.say(argument or None) if known is not None else gettext("motivo indicato dal sistema")
    if words and note:
        return f"{words}. {note}"
    return words or note or None


def stored_text(stored: str | None, note: str | None = None) -> str | None:
    """Words stored in a column that held the words themselves before the system's phrases were keys: a
    key is said in the reader's language, older words are shown as they were written."""
    return say(stored, note) if is_phrase(stored) else (stored or note)
