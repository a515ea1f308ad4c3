"""The canonical form of a verbale and its SHA-256 (documented in docs/minutes-hash.md).

The document is a JSON object built from an explicit list of fields, serialised
with sorted keys, no insignificant whitespace, UTF-8 without escapes, every
string normalised to Unicode NFC and line endings to "\\n". Lists whose order
carries no meaning (attendance, decisions, dissents) are sorted, so the hash
depends only on the content. Change FORMAT whenever the field list changes.
"""

from __future__ import annotations

import hashlib
import json
import unicodedata
from datetime import UTC, datetime
from typing import Any

FORMAT = "consulta-minutes/1"


def _text(value: str | None) -> str | None:
    if value is None:
        return None
    return unicodedata.normalize("NFC", value.replace("\r\n", "\n").replace("\r", "\n"))


def _moment(value: datetime | None) -> str | None:
    """UTC, whole seconds, ISO 8601 with a Z: 2025-03-14T15:30:00Z."""
    if value is None:
        return None
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def _sorted(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(items, key=lambda item: json.dumps(item, sort_keys=True, ensure_ascii=False))


def canonical_document(minutes) -> dict[str, Any]:
    """The fields of `minutes` the hash covers, as plain JSON values."""
    meeting = minutes.meeting
    attendance = [{
        "kind": a.kind,
        "attended_as": a.attended_as,
        "name": _text(a.name),
        "role": _text(a.role),
        "organisation": _text(a.organisation_name),
        "category": a.category,
    } for a in minutes.attendance]
    decisions = [{
        "subject_type": d.subject_type,
        "subject_id": d.subject_id,
        "subject_title": _text(d.subject_title),
        "outcome": d.outcome,
        "method": d.method,
        "votes_for": d.votes_for,
        "votes_against": d.votes_against,
        "votes_abstained": d.votes_abstained,
        "motivation": _text(d.motivation),
        # Only when present: minutes sealed before the field existed keep their hash.
        **({"outcome_note": _text(d.outcome_note)} if d.outcome_note is not None else {}),
        "dissents": _sorted([{
            "organisation": _text(x.organisation_name),
            "category": x.category,
            "text": _text(x.text),
        } for x in d.dissents]),
    } for d in minutes.decisions]
    return {
        "format": FORMAT,
        "minutes_id": minutes.id,
        "corrects_id": minutes.corrects_id,
        "tavolo_id": minutes.tavolo_id,
        "meeting": {
            "id": meeting.id,
            "title": _text(meeting.title),
            "starts_at": _moment(meeting.starts_at),
            "ends_at": _moment(meeting.ends_at),
            "place": _text(meeting.place),
            "online_url": _text(meeting.online_url),
        },
        "agenda_items": _text(minutes.agenda_items),
        "text": _text(minutes.text),
        "quorum_required": minutes.quorum_required,
        "members_present": minutes.members_present,
        "quorum_reached": minutes.quorum_reached,
        "approved_at": _moment(minutes.approved_at),
        "approved_by": _text(minutes.approved_by_name),
        "attendance": _sorted(attendance),
        "decisions": sorted(decisions, key=lambda d: (d["subject_type"], d["subject_id"])),
    }


def canonical_bytes(minutes) -> bytes:
    document = canonical_document(minutes)
    serialised = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"),
                            allow_nan=False)
    return unicodedata.normalize("NFC", serialised).encode("utf-8")


def content_hash(minutes) -> str:
    """SHA-256 of the canonical form, 64 lowercase hex digits."""
    return hashlib.sha256(canonical_bytes(minutes)).hexdigest()
