"""`flask verify-minutes` catches tampering; the PDF and ODT exports carry decisions and hash."""

from __future__ import annotations

import io
import json
import zipfile
from datetime import timedelta
from xml.etree import ElementTree

import pytest
import sqlalchemy as sa
from pypdf import PdfReader

from consulta.extensions import db
from consulta.meetings.canonical import FORMAT, canonical_bytes, canonical_document, content_hash
from consulta.meetings.models import Minutes
from tests.database import sql_connection
from tests.meetings.conftest import guard_lifted


@pytest.fixture
def approved(table, facilitator, create_meeting, create_minutes, create_seat, create_proposal, citizen, approve,
             create_objective):
    meeting = create_meeting(table, title="Incontro di aprile", starts_in=timedelta(hours=-5))
    auser = create_seat(table, name="Auser Narni")
    cgil = create_seat(table, name="CGIL Terni", type="union")
    centro = create_proposal(table, citizen, title="Centro diurno a Narni")
    trasporto = create_proposal(table, citizen, title="Trasporto sociale")
    objective = create_objective(table, title="Domiciliarità")
    minutes = create_minutes(meeting, text="Il tavolo discute.\n\nSi passa al voto.", seats=[auser, cgil],
                             decisions=[(centro, "approved"), (trasporto, "rejected"), (objective, "deferred")])
    assert approve(minutes, facilitator).status_code == 302
    db.session.expire_all()
    return db.session.get(Minutes, minutes.id)


def test_verify_minutes_reports_intact_minutes(runner, approved):
    result = runner.invoke(args=["verify-minutes"])

    assert result.exit_code == 0, result.output
    assert f"Verbale n. {approved.id}: integro" in result.output
    assert "nessuna alterazione" in result.output


def test_verify_minutes_catches_a_row_tampered_with_in_the_database(runner, approved):
    db.session.remove()
    with guard_lifted(), sql_connection() as conn:
        conn.execute(sa.text("UPDATE minutes_decision SET motivation = 'Motivazione riscritta di nascosto.' "
                             "WHERE minutes_id = :m AND proposal_id IS NOT NULL AND outcome = 'rejected'"),
                     {"m": approved.id})

    result = runner.invoke(args=["verify-minutes"])

    assert result.exit_code == 1
    assert f"Verbale n. {approved.id}: ALTERATO" in result.output
    assert approved.content_hash in result.output
    single = runner.invoke(args=["verify-minutes", str(approved.id)])
    assert single.exit_code == 1 and "ALTERATO" in single.output


def test_verify_minutes_catches_a_changed_attendance_name(runner, approved):
    db.session.remove()
    with guard_lifted(), sql_connection() as conn:
        conn.execute(sa.text("UPDATE minutes_attendance SET name = 'Qualcun altro' WHERE minutes_id = :m"),
                     {"m": approved.id})

    result = runner.invoke(args=["verify-minutes", str(approved.id)])

    assert result.exit_code == 1 and "ALTERATO" in result.output


def test_verify_minutes_of_unknown_or_draft_minutes(runner, table, create_meeting, create_minutes):
    draft = create_minutes(create_meeting(table, starts_in=timedelta(hours=-1)))

    unknown = runner.invoke(args=["verify-minutes", "999"])
    not_approved = runner.invoke(args=["verify-minutes", str(draft.id)])

    assert unknown.exit_code == 2 and "non esiste" in unknown.output
    assert not_approved.exit_code == 2 and "è una bozza" in not_approved.output


def test_the_canonical_form_is_documented_json(approved):
    document = json.loads(canonical_bytes(approved).decode("utf-8"))

    assert document == canonical_document(approved)
    assert document["format"] == FORMAT
    assert list(document) == sorted(document)
    assert [d["subject_type"] for d in document["decisions"]] == ["objective", "proposal", "proposal"]
    assert document["approved_at"].endswith("Z")
    # The documented recipe reproduces the bytes exactly.
    recipe = json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
    assert canonical_bytes(approved) == recipe
    assert content_hash(approved) == approved.content_hash


def test_the_hash_ignores_row_order_but_not_content(approved):
    document = canonical_document(approved)
    reordered = dict(document, attendance=list(reversed(document["attendance"])))
    assert sorted(reordered["attendance"], key=json.dumps) == sorted(document["attendance"], key=json.dumps)
    # NFC: a decomposed "à" serialises like the composed one.
    approved.text = approved.text + " citta\u0300"
    composed = canonical_bytes(approved)
    approved.text = approved.text.replace("a\u0300", "\u00e0")
    assert canonical_bytes(approved) == composed
    db.session.rollback()


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def odt_text(data: bytes) -> str:
    archive = zipfile.ZipFile(io.BytesIO(data))
    assert archive.read("mimetype") == b"application/vnd.oasis.opendocument.text"
    root = ElementTree.fromstring(archive.read("content.xml"))
    return "\n".join("".join(node.itertext()) for node in root.iter()
                     if node.tag.endswith("}p") or node.tag.endswith("}h"))


def squeeze(text: str) -> str:
    return "".join(text.split())


def test_the_pdf_export_contains_decisions_and_hash(client, approved):
    response = client.get(f"/verbali/{approved.id}.pdf")

    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert f"verbale-{approved.id}-" in response.headers["Content-Disposition"]
    text = pdf_text(response.data)
    for expected in ("Verbale dell'incontro «Incontro di aprile»", "Centro diurno a Narni", "Trasporto sociale",
                     "Esito: Accolta", "Esito: Non accolta", "Esito: Rinviato", "Auser Narni", "CGIL Terni",
                     "Quorum raggiunto"):
        assert squeeze(expected) in squeeze(text), expected
    assert approved.content_hash in squeeze(text)


def test_the_odt_export_contains_decisions_and_hash(client, approved):
    response = client.get(f"/verbali/{approved.id}.odt")

    assert response.status_code == 200
    assert response.mimetype == "application/vnd.oasis.opendocument.text"
    text = odt_text(response.data)
    for expected in ("Verbale dell'incontro «Incontro di aprile»", "Proposta n.", "Centro diurno a Narni",
                     "Esito: Accolta", "Esito: Non accolta", "Esito: Rinviato", "Motivazione: Motivazione per "
                     "Trasporto sociale.", "Auser Narni — Delegato 1 (delegato/a)", "Quorum raggiunto",
                     "Si passa al voto."):
        assert expected in text, expected
    assert approved.content_hash in text


def test_pdf_and_odt_carry_the_same_content(client, approved):
    pdf = squeeze(pdf_text(client.get(f"/verbali/{approved.id}.pdf").data))
    odt = odt_text(client.get(f"/verbali/{approved.id}.odt").data)

    for line in odt.splitlines():
        if line.strip() and not line.startswith("http"):
            assert squeeze(line) in pdf, line
