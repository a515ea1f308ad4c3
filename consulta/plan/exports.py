"""The plan record as open data (JSON, CSV) and as documents (PDF, ODT).

Everything is built from ONE description, `describe(plan)`: the JSON document
documented in docs/open-data.md and docs/plan.schema.json. The CSV files, the
PDF (WeasyPrint, with table of contents and provenance annex) and the ODT (odfpy)
are renderings of it, so every format carries the same content and provenance.
Amounts are strings with two decimals ("12500.00"): exact, whatever the reader.
"""

from __future__ import annotations

import io
from datetime import UTC
from decimal import Decimal
from typing import Any

from flask import render_template
from flask_babel import gettext as _

from consulta.core import spreadsheet
from consulta.core.db import utcnow
from consulta.core.formatting import format_date
from consulta.core.mail import external_url
from consulta.extensions import db
from consulta.plan import queries

FORMAT = "consulta-plan/1"
ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"
CSV_FILES = ("azioni", "risorse", "provenienza", "indicatori")


def money(value: Decimal | None) -> str | None:
    return None if value is None else f"{value:.2f}"


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def _moment(value) -> str | None:
    return value.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


# --------------------------------------------------------------------------- the description

def _tally_json(tally) -> dict[str, Any]:
    return {
        "for": tally.totals.for_, "against": tally.totals.against, "abstain": tally.totals.abstain,
        "total": tally.total,
        "by_category": [{"category": row.category, "label": row.label, "for": row.for_, "against": row.against,
                         "abstain": row.abstain} for row in tally.by_category if row.total],
    }


def input_json(row, tallies) -> dict[str, Any]:
    from consulta.organisations.models import CATEGORY_LABELS

    decision = row.decision
    minutes = decision.minutes
    meeting = minutes.meeting
    if row.proposal_id is not None:
        proposal = row.proposal
        organisation = proposal.organisation
        subject = {
            "type": "proposal", "id": proposal.id, "title": proposal.title,
            "url": external_url("proposals.show", proposal_id=proposal.id),
            "organisation": ({"name": organisation.name, "type": organisation.type,
                              "type_label": str(CATEGORY_LABELS.get(organisation.type, organisation.type))}
                             if organisation is not None else None),
            "category": proposal.category,
            "category_label": str(CATEGORY_LABELS.get(proposal.category, proposal.category)),
        }
    else:
        objective = row.objective
        subject = {
            "type": "objective", "id": objective.id, "title": objective.title,
            "url": external_url("tavoli.objective", slug=objective.tavolo.slug, objective_id=objective.id),
            "organisation": None, "category": None, "category_label": None,
        }
    subject["tally"] = _tally_json(tallies[(row.subject_type, row.proposal_id or row.objective_id)])
    return {
        "id": row.id,
        "decision": {
            "id": decision.id, "outcome": decision.outcome, "outcome_label": decision.outcome_label,
            "method": decision.method, "votes_for": decision.votes_for, "votes_against": decision.votes_against,
            "votes_abstained": decision.votes_abstained, "motivation": decision.motivation,
            "minutes": {
                "id": minutes.id, "url": external_url("meetings.minutes", minutes_id=minutes.id),
                "content_hash": minutes.content_hash, "approved_at": _moment(minutes.approved_at),
                "meeting_title": meeting.title, "meeting_date": _iso(meeting.starts_at.date()),
                "tavolo_id": minutes.tavolo_id,
            },
        },
        "subject": subject,
    }


def describe(plan, context: queries.PlanContext | None = None) -> dict[str, Any]:
    """The whole plan record as plain JSON values (the open data document)."""
    from consulta.ambito.models import Ambito, Comune

    context = context or queries.plan_context(plan)
    tallies = context.tallies
    ambito = Ambito.current()
    areas = []
    for area in context.areas:
        objectives = []
        for objective in area.objectives:
            actions = []
            for action in objective.actions:
                progress = queries.progress_of(action)
                actions.append({
                    "id": action.id, "title": action.title, "description": action.description,
                    "beneficiaries": action.beneficiaries, "responsible_body": action.responsible_body,
                    "start_date": _iso(action.start_date), "end_date": _iso(action.end_date),
                    "comuni": {"all": action.all_comuni, "names": [c.name for c in action.comuni]},
                    "status": action.status, "status_label": action.status_label,
                    "budget_total": money(action.budget_total),
                    "budget_lines": [{
                        "id": line.id, "amount": money(line.amount), "funding_source": line.funding_source,
                        "funding_source_label": line.funding_source_label, "year": line.year, "note": line.note,
                    } for line in action.budget_lines],
                    "indicators": [{
                        "id": p.indicator.id, "name": p.indicator.name, "unit": p.indicator.unit,
                        "baseline": money(p.indicator.baseline), "target": money(p.indicator.target),
                        "latest_value": money(p.value), "latest_date": _iso(p.reported_on),
                        "progress_percent": p.percent,
                    } for p in progress],
                    "progress_updates": [{
                        "id": u.id, "date": _iso(u.reported_on), "text": u.text, "author": u.author_name,
                        "values": [{"indicator_id": v.indicator_id, "value": money(v.value)} for v in u.values],
                    } for u in action.progress_updates],
                    "inputs": [input_json(row, tallies) for row in action.inputs],
                    "url": external_url("plan.show", plan_id=plan.id, _anchor=action.anchor),
                })
            objectives.append({
                "id": objective.id, "title": objective.title, "description": objective.description,
                "inputs": [input_json(row, tallies) for row in objective.inputs],
                "actions": actions,
            })
        areas.append({
            "id": area.id, "title": area.title, "description": area.description,
            "tavoli": [{"id": t.id, "slug": t.slug, "title": t.title,
                        "url": external_url("tavoli.show", slug=t.slug)} for t in area.tavoli if not t.is_draft],
            "objectives": objectives,
        })
    totals = context.totals
    return {
        "format": FORMAT,
        "generated_at": _moment(utcnow()),
        "ambito": {"name": ambito.name, "number": ambito.number} if ambito else None,
        "plan": {
            "id": plan.id, "title": plan.title, "period_start": plan.period_start, "period_end": plan.period_end,
            "status": plan.status, "status_label": plan.status_label, "description": plan.description or "",
            "adoption": ({"reference": plan.adoption_reference, "date": _iso(plan.adoption_date)}
                         if plan.adoption_reference else None),
            "url": external_url("plan.show", plan_id=plan.id),
        },
        "comuni": [{"name": c.name, "slug": c.slug, "istat_code": c.istat_code}
                   for c in db.session.execute(db.select(Comune).order_by(Comune.name)).scalars()],
        "areas": areas,
        "totals": {
            "currency": "EUR",
            "total": money(totals.total),
            "by_area": [{"area_id": int(r.key), "title": r.label, "amount": money(r.amount)} for r in totals.by_area],
            "by_funding_source": [{"funding_source": r.key, "label": r.label, "amount": money(r.amount)}
                                  for r in totals.by_source],
            "by_year": [{"year": int(r.key), "amount": money(r.amount)} for r in totals.by_year],
        },
        "revision_sets": [{
            "number": s.number, "reason": s.reason, "opened_at": _moment(s.opened_at), "opened_by": s.opened_by_name,
            "closed_at": _moment(s.closed_at), "approval_reference": s.approval_reference,
            "approval_date": _iso(s.approval_date),
        } for s in plan.revision_sets],
    }


# --------------------------------------------------------------------------- CSV

def _walk(document):
    for area in document["areas"]:
        for objective in area["objectives"]:
            for action in objective["actions"]:
                yield area, objective, action


def _provenance_columns(item: dict[str, Any]) -> list[Any]:
    decision = item["decision"]
    minutes = decision["minutes"]
    subject = item["subject"]
    organisation = subject["organisation"] or {}
    tally = subject["tally"]
    return [
        decision["id"], decision["outcome"], minutes["id"], minutes["url"], minutes["content_hash"],
        minutes["meeting_date"], subject["type"], subject["id"], subject["title"], subject["url"],
        organisation.get("name", ""), organisation.get("type", ""), subject["category"] or "",
        tally["for"], tally["against"], tally["abstain"],
        "; ".join(f"{c['category']}: {c['for']}/{c['against']}/{c['abstain']}" for c in tally["by_category"]),
    ]


CSV_HEADERS = {
    "azioni": ["plan_id", "area_id", "area", "objective_id", "objective", "action_id", "action", "description",
               "beneficiaries", "responsible_body", "start_date", "end_date", "all_comuni", "comuni", "status",
               "budget_total_eur", "decision_ids", "minutes_ids", "proposal_ids", "url"],
    "risorse": ["plan_id", "area_id", "area", "objective_id", "action_id", "action", "budget_line_id",
                "funding_source", "funding_source_label", "year", "amount_eur", "note"],
    "provenienza": ["plan_id", "item_type", "item_id", "item_title", "decision_id", "outcome", "minutes_id",
                    "minutes_url", "minutes_sha256", "meeting_date", "subject_type", "subject_id", "subject_title",
                    "subject_url", "organisation", "organisation_type", "category", "votes_for", "votes_against",
                    "votes_abstain", "votes_by_category"],
    "indicatori": ["plan_id", "action_id", "action", "indicator_id", "indicator", "unit", "baseline", "target",
                   "latest_value", "latest_date", "progress_percent"],
}


def csv_rows(document: dict[str, Any], name: str):
    plan_id = document["plan"]["id"]
    if name == "azioni":
        for area, objective, action in _walk(document):
            inputs = action["inputs"]
            yield [plan_id, area["id"], area["title"], objective["id"], objective["title"], action["id"],
                   action["title"], action["description"], action["beneficiaries"], action["responsible_body"],
                   action["start_date"] or "", action["end_date"] or "", "true" if action["comuni"]["all"] else "false",
                   "; ".join(action["comuni"]["names"]), action["status"], action["budget_total"],
                   " ".join(str(i["decision"]["id"]) for i in inputs),
                   " ".join(str(i["decision"]["minutes"]["id"]) for i in inputs),
                   " ".join(str(i["subject"]["id"]) for i in inputs if i["subject"]["type"] == "proposal"),
                   action["url"]]
    elif name == "risorse":
        for area, objective, action in _walk(document):
            for line in action["budget_lines"]:
                yield [plan_id, area["id"], area["title"], objective["id"], action["id"], action["title"], line["id"],
                       line["funding_source"], line["funding_source_label"], line["year"], line["amount"],
                       line["note"]]
    elif name == "provenienza":
        for area in document["areas"]:
            for objective in area["objectives"]:
                for item in objective["inputs"]:
                    yield [plan_id, "objective", objective["id"], objective["title"], *_provenance_columns(item)]
                for action in objective["actions"]:
                    for item in action["inputs"]:
                        yield [plan_id, "action", action["id"], action["title"], *_provenance_columns(item)]
    elif name == "indicatori":
        for _area, _objective, action in _walk(document):
            for indicator in action["indicators"]:
                yield [plan_id, action["id"], action["title"], indicator["id"], indicator["name"], indicator["unit"],
                       indicator["baseline"] or "", indicator["target"], indicator["latest_value"] or "",
                       indicator["latest_date"] or "",
                       "" if indicator["progress_percent"] is None else indicator["progress_percent"]]
    else:
        raise KeyError(name)


def csv_text(document: dict[str, Any], name: str) -> str:
    """RFC 4180 CSV, comma separated, UTF-8, a header row, decimal point in amounts; cells a spreadsheet
    would evaluate are neutralised (consulta.core.spreadsheet)."""
    return spreadsheet.csv_text(CSV_HEADERS[name], csv_rows(document, name))


# --------------------------------------------------------------------------- PDF

def _refuse_fetch(url, *args, **kwargs):
    # The document is self-contained: nothing may be fetched while rendering it.
    raise ValueError(f"external resource refused: {url}")


def _euro_it(amount: str | None) -> str:
    from flask_babel import format_currency

    return format_currency(Decimal(amount), "EUR") if amount is not None else ""


def _date_it(value: str | None) -> str:
    from datetime import date

    return format_date(date.fromisoformat(value), "d MMMM yyyy") if value else ""


def _number_it(value: str | None) -> str:
    from consulta.plan.presentation import number

    return number(value) if value is not None else ""


def tally_line(tally: dict[str, Any]) -> str:
    """"2 favorevoli · 1 contrario · 0 astenuti"."""
    from consulta.votes.tally import value_count_label

    return " · ".join(value_count_label(v, tally[v]) for v in ("for", "against", "abstain"))


def markdown_html(text: str | None) -> str:
    from consulta.core.text import render_markdown

    return render_markdown(text) if text else ""


def markdown_plain(text: str | None) -> str:
    """Markdown as plain text, for the ODT (which has no Markdown)."""
    from markupsafe import Markup

    return Markup(markdown_html(text)).striptags() if text else ""


def plan_pdf(plan, document: dict[str, Any] | None = None) -> bytes:
    from weasyprint import HTML

    document = document or describe(plan)
    html = render_template("plan/export_pdf.html", doc=document, euro=_euro_it, date_it=_date_it,
                           number=_number_it, tally_line=tally_line, markdown=markdown_html,
                           generated=format_date(utcnow().date(), "d MMMM yyyy"))
    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()


# --------------------------------------------------------------------------- ODT

def _provenance_lines(item: dict[str, Any]) -> list[str]:
    decision = item["decision"]
    minutes = decision["minutes"]
    subject = item["subject"]
    kind = _("Proposta") if subject["type"] == "proposal" else _("Obiettivo del tavolo")
    lines = [f"{kind} «{subject['title']}» — {subject['url']}"]
    if subject["organisation"]:
        lines.append(_("Presentata da %(name)s (%(type)s)", name=subject["organisation"]["name"],
                       type=subject["organisation"]["type_label"]))
    elif subject["category_label"]:
        lines.append(_("Presentata da: %(category)s", category=subject["category_label"]))
    tally = subject["tally"]
    lines.append(_("Sostegno: %(summary)s", summary=tally_line(tally)))
    for row in tally["by_category"]:
        lines.append(f"{row['label']}: {tally_line(row)}")
    lines.append(_("Decisione: %(outcome)s, verbale n. %(id)d del %(date)s — %(url)s", outcome=decision["outcome_label"],
                   id=minutes["id"], date=_date_it(minutes["meeting_date"]), url=minutes["url"]))
    lines.append(_("Impronta SHA-256 del verbale: %(hash)s", hash=minutes["content_hash"]))
    return lines


def plan_odt(plan, document: dict[str, Any] | None = None) -> bytes:
    from odf import teletype
    from odf.opendocument import OpenDocumentText
    from odf.style import ParagraphProperties, Style, TableColumnProperties, TextProperties
    from odf.table import Table, TableCell, TableColumn, TableRow
    from odf.text import H, List, ListItem, P

    document = document or describe(plan)
    odt = OpenDocumentText()
    styles = {}
    for name, size in (("Title", "18pt"), ("Heading1", "15pt"), ("Heading2", "13pt"), ("Heading3", "11.5pt")):
        style = Style(name=name, family="paragraph")
        style.addElement(TextProperties(fontsize=size, fontweight="bold"))
        style.addElement(ParagraphProperties(margintop="0.35cm", marginbottom="0.15cm"))
        odt.styles.addElement(style)
        styles[name] = style
    small = Style(name="Small", family="paragraph")
    small.addElement(TextProperties(fontsize="9pt"))
    odt.automaticstyles.addElement(small)
    wide = Style(name="Wide", family="table-column")
    wide.addElement(TableColumnProperties(columnwidth="11cm"))
    odt.automaticstyles.addElement(wide)
    narrow = Style(name="Narrow", family="table-column")
    narrow.addElement(TableColumnProperties(columnwidth="5cm"))
    odt.automaticstyles.addElement(narrow)

    def paragraph(text: str, style=None):
        p = P(stylename=style) if style is not None else P()
        teletype.addTextToElement(p, text)
        odt.text.addElement(p)

    def heading(text: str, level: int):
        h = H(outlinelevel=level, stylename=styles[f"Heading{min(level, 3)}"])
        teletype.addTextToElement(h, text)
        odt.text.addElement(h)

    def bullet_list(items: list[str]):
        lst = List()
        for item in items:
            li = ListItem()
            p = P()
            teletype.addTextToElement(p, item)
            li.addElement(p)
            lst.addElement(li)
        odt.text.addElement(lst)

    def table(rows: list[tuple[str, str]], header: tuple[str, str]):
        t = Table(name=f"Tabella{len(odt.text.childNodes)}")
        t.addElement(TableColumn(stylename=wide))
        t.addElement(TableColumn(stylename=narrow))
        for cells in (header, *rows):
            tr = TableRow()
            for text in cells:
                tc = TableCell()
                p = P()
                teletype.addTextToElement(p, text)
                tc.addElement(p)
                tr.addElement(tc)
            t.addElement(tr)
        odt.text.addElement(t)

    info = document["plan"]
    paragraph(info["title"], styles["Title"])
    paragraph(_("Periodo %(start)d–%(end)d · %(status)s", start=info["period_start"], end=info["period_end"],
                status=info["status_label"]))
    if info["adoption"]:
        paragraph(_("Adottato con %(reference)s del %(date)s.", reference=info["adoption"]["reference"],
                    date=_date_it(info["adoption"]["date"])))
    paragraph(_("Versione pubblica: %(url)s", url=info["url"]), small)

    heading(_("Indice"), 1)
    toc = []
    for area in document["areas"]:
        toc.append(area["title"])
        for objective in area["objectives"]:
            toc.append("    " + objective["title"])
    toc += [_("Risorse del piano"), _("Allegato: provenienza delle voci del piano")]
    bullet_list(toc)

    for area in document["areas"]:
        heading(area["title"], 1)
        if area["description"]:
            paragraph(markdown_plain(area["description"]))
        for objective in area["objectives"]:
            heading(_("Obiettivo: %(title)s", title=objective["title"]), 2)
            if objective["description"]:
                paragraph(markdown_plain(objective["description"]))
            for action in objective["actions"]:
                heading(_("Azione: %(title)s", title=action["title"]), 3)
                if action["description"]:
                    paragraph(markdown_plain(action["description"]))
                facts = [
                    (_("Destinatari"), action["beneficiaries"]),
                    (_("Soggetto responsabile"), action["responsible_body"]),
                    (_("Periodo"), " – ".join(filter(None, (_date_it(action["start_date"]),
                                                           _date_it(action["end_date"]))))),
                    (_("Comuni"), _("Tutti i comuni dell'Ambito") if action["comuni"]["all"]
                     else ", ".join(action["comuni"]["names"])),
                    (_("Stato"), action["status_label"]),
                    (_("Risorse"), _euro_it(action["budget_total"])),
                ]
                for label, value in facts:
                    if value:
                        paragraph(f"{label}: {value}")
                if action["budget_lines"]:
                    bullet_list([f"{line['funding_source_label']} {line['year']}: {_euro_it(line['amount'])}"
                                 for line in action["budget_lines"]])
                for indicator in action["indicators"]:
                    reached = (_("raggiunto %(value)s", value=_number_it(indicator["latest_value"]))
                               if indicator["latest_value"] is not None else _("nessun valore rilevato"))
                    target = " ".join(filter(None, (_number_it(indicator["target"]), indicator["unit"])))
                    paragraph(_("Indicatore: %(name)s — obiettivo %(target)s, %(reached)s",
                                name=indicator["name"], target=target, reached=reached))
                inputs = action["inputs"]
                if inputs:
                    paragraph(_("Origine:"))
                    for item in inputs:
                        bullet_list(_provenance_lines(item))

    heading(_("Risorse del piano"), 1)
    totals = document["totals"]
    paragraph(_("Totale: %(amount)s", amount=_euro_it(totals["total"])))
    heading(_("Per area"), 2)
    table([(r["title"], _euro_it(r["amount"])) for r in totals["by_area"]], (_("Area"), _("Importo")))
    heading(_("Per fonte di finanziamento"), 2)
    table([(r["label"], _euro_it(r["amount"])) for r in totals["by_funding_source"]], (_("Fonte"), _("Importo")))
    heading(_("Per anno"), 2)
    table([(str(r["year"]), _euro_it(r["amount"])) for r in totals["by_year"]], (_("Anno"), _("Importo")))

    heading(_("Allegato: provenienza delle voci del piano"), 1)
    any_input = False
    for area in document["areas"]:
        for objective in area["objectives"]:
            sources = [(_("Obiettivo «%(title)s»", title=objective["title"]), objective["inputs"])]
            sources += [(_("Azione «%(title)s»", title=a["title"]), a["inputs"]) for a in objective["actions"]]
            for label, inputs in sources:
                if not inputs:
                    continue
                any_input = True
                heading(label, 2)
                for item in inputs:
                    bullet_list(_provenance_lines(item))
    if not any_input:
        paragraph(_("Nessuna voce del piano è ancora collegata a decisioni dei tavoli."))

    buffer = io.BytesIO()
    odt.write(buffer)
    return buffer.getvalue()
