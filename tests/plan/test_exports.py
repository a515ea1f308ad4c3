"""Exports round-trip: the JSON validates against docs/plan.schema.json, the CSV totals equal
the page's totals, the PDF and the ODT contain every action and its origin."""

from __future__ import annotations

import csv
import io
import json
import re
import zipfile
from datetime import date
from decimal import Decimal

import jsonschema
import pytest
from sqlalchemy import select

from consulta.extensions import db
from tests.conftest import ROOT
from tests.plan.helpers import section, text

SCHEMA = json.loads((ROOT / "docs" / "plan.schema.json").read_text(encoding="utf-8"))


@pytest.fixture
def recorded(stage, admin_user, build_action, ambito, create_user):
    from consulta.ambito.models import Comune
    from consulta.plan import record_operations as ops

    d = stage["decisions"]
    amelia = db.session.execute(select(Comune).where(Comune.name == "Amelia")).scalar_one()
    centro = build_action(stage["area"], admin_user, title="Centro diurno Alzheimer",
                          budget=(("12500.50", "fnps", 2025), ("0.10", "fnps", 2025), ("0.20", "comunali", 2026)),
                          decisions=[d["Centro diurno a Narni"]], objective_decisions=[d["Trasporto sociale serale"]])
    ops.add_indicator(centro, admin_user, name="Anziani accolti", unit="persone", baseline=None, target=Decimal("40"))
    trasporto = build_action(stage["area"], admin_user, objective=centro.objective, title="Trasporto sociale ad Amelia",
                             budget=(("3000.00", "fna", 2027),), comuni=[amelia],
                             decisions=[d["Trasporto sociale serale"]])
    senza = build_action(stage["area"], admin_user, title="Sportello unico", budget=())
    db.session.commit()
    return {**stage, "actions": [centro, trasporto, senza]}


def test_json_validates_against_the_documented_schema(client, plan, recorded):
    response = client.get(f"/dati/piano/{plan.id}.json")
    assert response.status_code == 200 and response.mimetype == "application/json"
    document = response.get_json()
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert document["format"] == "consulta-plan/1"
    actions = [a for area in document["areas"] for o in area["objectives"] for a in o["actions"]]
    assert [a["title"] for a in actions] == ["Centro diurno Alzheimer", "Trasporto sociale ad Amelia", "Sportello unico"]
    centro = actions[0]
    assert centro["budget_total"] == "12500.80"
    origin = centro["inputs"][0]
    assert origin["subject"]["title"] == "Centro diurno a Narni"
    assert origin["subject"]["organisation"] == {"name": "Auser Narni", "type": "volunteer",
                                                 "type_label": "Organizzazione di volontariato"}
    assert origin["subject"]["tally"]["for"] == 2
    assert origin["decision"]["minutes"]["content_hash"] == recorded["minutes"].content_hash
    assert origin["decision"]["minutes"]["url"].endswith(f"/verbali/{recorded['minutes'].id}/")
    assert document["totals"]["total"] == "15500.80"
    assert actions[1]["comuni"] == {"all": False, "names": ["Amelia"]}


def test_json_of_an_adopted_plan_with_monitoring_validates(client, plan, recorded, admin_user):
    from consulta.plan import record_operations as ops
    from consulta.plan.operations import change_plan_status

    change_plan_status(plan, "adopted", admin_user, adoption_reference="Delibera n. 4", adoption_date=date(2025, 6, 30))
    change_plan_status(plan, "monitoring", admin_user)
    centro = recorded["actions"][0]
    ops.set_action_status(centro, admin_user, "in_progress")
    ops.add_progress_update(centro, admin_user, reported_on=date(2025, 9, 1), text="Aperto.",
                            values={centro.indicators[0].id: Decimal("12")})
    ops.open_aggiornamento(plan, admin_user, reason="Annuale")
    db.session.commit()
    document = client.get(f"/dati/piano/{plan.id}.json").get_json()
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert document["plan"]["adoption"] == {"reference": "Delibera n. 4", "date": "2025-06-30"}
    indicator = document["areas"][0]["objectives"][0]["actions"][0]["indicators"][0]
    assert (indicator["latest_value"], indicator["progress_percent"]) == ("12.00", 30)
    assert document["revision_sets"][0]["number"] == 1


def test_the_schema_refuses_what_it_should(client, plan, recorded):
    document = client.get(f"/dati/piano/{plan.id}.json").get_json()
    broken = json.loads(json.dumps(document))
    broken["totals"]["total"] = 15500.8  # a float is not an exact amount
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, SCHEMA)


def _csv(client, plan, name):
    response = client.get(f"/dati/piano/{plan.id}/{name}.csv")
    assert response.status_code == 200
    assert response.mimetype == "text/csv" and "attachment" in response.headers["Content-Disposition"]
    return list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))


def test_csv_totals_equal_the_page_totals(client, plan, recorded):
    rows = _csv(client, plan, "risorse")
    csv_total = sum((Decimal(r["amount_eur"]) for r in rows), Decimal("0"))
    page = client.get(f"/piano/{plan.id}/").get_data(as_text=True)
    page_total = Decimal(re.search(r'class="plan-grand-total" data-amount="([0-9.]+)"', page).group(1))
    assert csv_total == page_total == Decimal("15500.80")
    by_year = {}
    for r in rows:
        by_year[r["year"]] = by_year.get(r["year"], Decimal("0")) + Decimal(r["amount_eur"])
    table = section(page, "risorse-tabella-anno")
    for year, amount in by_year.items():
        assert re.search(rf">{year}</th><td[^>]*data-amount=\"{amount:.2f}\"", table)
    actions = _csv(client, plan, "azioni")
    assert sum((Decimal(r["budget_total_eur"]) for r in actions), Decimal("0")) == page_total


def test_csv_files_carry_the_provenance(client, plan, recorded):
    actions = {r["action"]: r for r in _csv(client, plan, "azioni")}
    assert set(actions) == {"Centro diurno Alzheimer", "Trasporto sociale ad Amelia", "Sportello unico"}
    centro_decision = recorded["decisions"]["Centro diurno a Narni"]
    assert actions["Centro diurno Alzheimer"]["decision_ids"] == str(centro_decision.id)
    assert actions["Centro diurno Alzheimer"]["minutes_ids"] == str(recorded["minutes"].id)
    provenance = _csv(client, plan, "provenienza")
    assert {(r["item_type"], r["subject_title"]) for r in provenance} == {
        ("objective", "Trasporto sociale serale"), ("action", "Centro diurno a Narni"),
        ("action", "Trasporto sociale serale")}
    row = next(r for r in provenance if r["subject_title"] == "Centro diurno a Narni")
    assert row["minutes_sha256"] == recorded["minutes"].content_hash
    assert row["organisation"] == "Auser Narni" and row["votes_for"] == "2"
    indicators = _csv(client, plan, "indicatori")
    assert indicators[0]["indicator"] == "Anziani accolti" and indicators[0]["target"] == "40.00"


def test_unknown_csv_is_404(client, plan, recorded):
    assert client.get(f"/dati/piano/{plan.id}/segreti.csv").status_code == 404
    assert client.get("/dati/piano/999999.json").status_code == 404


def test_pdf_contains_every_action_and_its_origin(client, plan, recorded):
    from pypdf import PdfReader

    response = client.get(f"/piano/{plan.id}.pdf")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.data))
    content = " ".join(page.extract_text() for page in reader.pages)
    flat = re.sub(r"\s+", " ", content)
    for action in recorded["actions"]:
        assert action.title in flat
    assert "Indice" in flat and "Allegato: provenienza delle voci del piano" in flat
    assert "Centro diurno a Narni" in flat and "Auser Narni" in flat
    assert f"verbale n. {recorded['minutes'].id}" in flat
    assert recorded["minutes"].content_hash[:16] in flat.replace(" ", "")
    assert len(reader.pages) >= 4  # cover and index, one area, resources, annex


def test_odt_contains_every_action_and_its_origin(client, plan, recorded):
    response = client.get(f"/piano/{plan.id}.odt")
    assert response.status_code == 200
    assert response.mimetype == "application/vnd.oasis.opendocument.text"
    with zipfile.ZipFile(io.BytesIO(response.data)) as odt:
        assert odt.read("mimetype") == b"application/vnd.oasis.opendocument.text"
        content = text(odt.read("content.xml").decode("utf-8"))
    for action in recorded["actions"]:
        assert action.title in content
    assert "Centro diurno a Narni" in content and "Auser Narni" in content
    assert recorded["minutes"].content_hash in content
    assert f"/verbali/{recorded['minutes'].id}/" in content
    assert "Allegato: provenienza delle voci del piano" in content
    assert "12.500,50 €" in content


def test_exports_are_linked_from_the_plan_page(client, plan, recorded):
    page = client.get(f"/piano/{plan.id}/").get_data(as_text=True)
    for href in (f"/piano/{plan.id}.pdf", f"/piano/{plan.id}.odt", f"/dati/piano/{plan.id}.json",
                 f"/dati/piano/{plan.id}/azioni.csv", f"/dati/piano/{plan.id}/risorse.csv",
                 f"/dati/piano/{plan.id}/provenienza.csv"):
        assert f'href="{href}"' in page


def test_the_export_command_writes_every_format(runner, plan, recorded, tmp_path):
    result = runner.invoke(args=["plan", "export", str(plan.id)])
    assert result.exit_code == 0, result.output
    jsonschema.validate(json.loads(result.output), SCHEMA)
    result = runner.invoke(args=["plan", "export", str(plan.id), "--formato", "risorse"])
    assert result.exit_code == 0 and result.output.startswith("plan_id,area_id,")
    target = tmp_path / "piano.pdf"
    result = runner.invoke(args=["plan", "export", str(plan.id), "--formato", "pdf", "-o", str(target)])
    assert result.exit_code == 0 and target.read_bytes().startswith(b"%PDF")
    result = runner.invoke(args=["plan", "export", str(plan.id), "--formato", "odt"])
    assert result.exit_code != 0 and "--output" in result.output
    result = runner.invoke(args=["plan", "export", "999999"])
    assert result.exit_code != 0 and "non esiste" in result.output


FORMULA = '=HYPERLINK("http://x","y")'


def test_csv_neutralises_formulas_and_json_keeps_them(client, plan, table, facilitator, stage, admin_user,
                                                      build_action, create_proposal, approve_decisions):
    """OWASP CSV injection: a cell a spreadsheet would evaluate starts with ' in every CSV; the JSON keeps it."""
    proposal = create_proposal(table, stage["citizen"], title=FORMULA)
    approved = approve_decisions(table, [(proposal, "approved")], by=facilitator)
    build_action(stage["area"], admin_user, title=FORMULA, budget=(("10.00", "fnps", 2025),),
                 decisions=approved.decisions)
    for kind in ("azioni", "risorse", "indicatori", "provenienza"):
        response = client.get(f"/dati/piano/{plan.id}/{kind}.csv")
        assert response.headers["Content-Type"] == "text/csv; charset=utf-8"
    actions = {r["action_id"]: r for r in _csv(client, plan, "azioni")}
    assert "'" + FORMULA in [r["action"] for r in actions.values()]
    assert not any(cell.startswith(("=", "+", "-", "@")) for r in actions.values() for cell in r.values())
    assert ["'" + FORMULA] == [r["action"] for r in _csv(client, plan, "risorse") if "HYPERLINK" in r["action"]]
    provenance = _csv(client, plan, "provenienza")
    assert "'" + FORMULA in [r["subject_title"] for r in provenance]
    assert "'" + FORMULA in [r["item_title"] for r in provenance]
    document = client.get(f"/dati/piano/{plan.id}.json").get_json()
    actions_json = [a for area in document["areas"] for o in area["objectives"] for a in o["actions"]]
    assert FORMULA in [a["title"] for a in actions_json]
    assert FORMULA in [i["subject"]["title"] for a in actions_json for i in a["inputs"]]


def test_csv_cell_rule():
    from consulta.core.spreadsheet import csv_text, safe_cell

    assert [safe_cell(v) for v in ("=1+1", "+39 333", "-2", "@SUM(A1)", "\tx", "\rx", "ok", "", None, 12, "a=b")] == [
        "'=1+1", "'+39 333", "'-2", "'@SUM(A1)", "'\tx", "'\rx", "ok", "", "", 12, "a=b"]
    assert csv_text(["a", "b"], [["=x", 1]]) == "a,b\r\n'=x,1\r\n"
