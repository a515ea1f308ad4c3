"""Minutes as PDF (WeasyPrint) and ODT (odfpy), built from one description of the
document so both carry the same content: meeting, attendance by category,
quorum, text, decisions with dissents, and the SHA-256 of the approved record."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from flask import render_template
from flask_babel import gettext as _

from consulta.core.formatting import format_datetime
from consulta.core.mail import external_url

ODT_MIMETYPE = "application/vnd.oasis.opendocument.text"


@dataclass
class ExportDecision:
    heading: str
    subject_url: str
    lines: list[str]
    motivation: str
    dissents: list[str] = field(default_factory=list)


@dataclass
class ExportDocument:
    title: str
    subtitle: str
    status_line: str
    facts: list[tuple[str, str]]
    agenda_items: list[str]
    attendance: list[tuple[str, list[str]]]
    quorum_line: str
    text: str
    text_html: str
    decisions: list[ExportDecision]
    content_hash: str | None
    page_url: str


def _when(minutes) -> str:
    meeting = minutes.meeting
    when = format_datetime(meeting.starts_at, "EEEE d MMMM yyyy, HH:mm")
    if meeting.ends_at is not None:
        when += "–" + format_datetime(meeting.ends_at, "HH:mm")
    return when


def _attendance_line(row) -> str:
    if row.kind == "member":
        return f"{row.organisation_name} — {row.name} ({row.attended_as_label})"
    if row.kind == "participant":
        return f"{row.name} ({row.organisation_name})" if row.organisation_name else row.name
    return f"{row.name} — {row.role}" if row.role else row.name


def quorum_line(minutes) -> str:
    if minutes.quorum_required is None:
        return _("Organizzazioni aderenti presenti: %(num)d. Il tavolo non prevede un quorum.",
                 num=minutes.members_present)
    if minutes.quorum_reached:
        return _("Quorum raggiunto: presenti %(num)d organizzazioni aderenti su %(quorum)d richieste.",
                 num=minutes.members_present, quorum=minutes.quorum_required)
    return _("Quorum non raggiunto: presenti %(num)d organizzazioni aderenti su %(quorum)d richieste.",
             num=minutes.members_present, quorum=minutes.quorum_required)


def describe(minutes, groups) -> ExportDocument:
    meeting = minutes.meeting
    if minutes.is_approved:
        status = _("Verbale approvato il %(date)s da %(name)s.",
                   date=format_datetime(minutes.approved_at, "d MMMM yyyy, HH:mm"), name=minutes.approved_by_name)
    else:
        status = _("BOZZA – verbale non ancora approvato: il contenuto può cambiare.")
    subtitle = minutes.tavolo.title
    if minutes.corrects_id is not None:
        subtitle += " · " + _("Rettifica del verbale n. %(id)d", id=minutes.corrects_id)
    facts = [(_("Tavolo"), minutes.tavolo.title), (_("Data"), _when(minutes))]
    if meeting.place:
        facts.append((_("Luogo"), meeting.place))
    if meeting.online_url:
        facts.append((_("Collegamento"), meeting.online_url))
    facts.append((_("Verbale n."), str(minutes.id)))
    decisions = []
    for d in minutes.decisions:
        kind = _("Proposta n. %(id)d", id=d.proposal_id) if d.proposal_id else _("Obiettivo n. %(id)d", id=d.objective_id)
        lines = [_("Esito: %(outcome)s", outcome=d.outcome_label)]
        if d.method == "vote":
            lines.append(_("Votazione: favorevoli %(yes)d, contrari %(no)d, astenuti %(abstained)d",
                           yes=d.votes_for, no=d.votes_against, abstained=d.votes_abstained))
        else:
            lines.append(_("Decisione per consenso"))
        if d.outcome_note:
            lines.append(_("Esito confermato nonostante i voti: %(note)s", note=d.outcome_note))
        url = (external_url("proposals.show", proposal_id=d.proposal_id) if d.proposal_id
               else external_url("tavoli.objective", slug=minutes.tavolo.slug, objective_id=d.objective_id))
        decisions.append(ExportDecision(
            heading=f"{kind}: {d.subject_title}", subject_url=url, lines=lines, motivation=d.motivation,
            dissents=[f"{x.organisation_name}: {x.text}" for x in d.dissents],
        ))
    return ExportDocument(
        title=_("Verbale dell'incontro «%(title)s»", title=meeting.title),
        subtitle=subtitle, status_line=status, facts=facts, agenda_items=minutes.agenda_item_list,
        attendance=[(g.label, [_attendance_line(a) for a in g.items]) for g in groups],
        quorum_line=quorum_line(minutes), text=minutes.text, text_html=minutes.text_html, decisions=decisions,
        content_hash=minutes.content_hash if minutes.is_approved else None,
        page_url=external_url("meetings.minutes", minutes_id=minutes.id),
    )


# --------------------------------------------------------------------------- PDF

def _refuse_fetch(url, *args, **kwargs):
    # The document is self-contained: nothing may be fetched while rendering it.
    raise ValueError(f"external resource refused: {url}")


def minutes_pdf(minutes, groups) -> bytes:
    from weasyprint import HTML

    html = render_template("meetings/minutes_export.html", doc=describe(minutes, groups))
    return HTML(string=html, url_fetcher=_refuse_fetch).write_pdf()


# --------------------------------------------------------------------------- ODT

def minutes_odt(minutes, groups) -> bytes:
    from odf import teletype
    from odf.opendocument import OpenDocumentText
    from odf.style import ParagraphProperties, Style, TextProperties
    from odf.text import H, List, ListItem, P

    doc = describe(minutes, groups)
    odt = OpenDocumentText()
    styles = {}
    for name, size, bold in (("Title", "18pt", True), ("Heading1", "14pt", True), ("Heading2", "12pt", True)):
        style = Style(name=name, family="paragraph")
        style.addElement(TextProperties(fontsize=size, fontweight="bold" if bold else "normal"))
        style.addElement(ParagraphProperties(margintop="0.3cm", marginbottom="0.15cm"))
        odt.styles.addElement(style)
        styles[name] = style
    mono = Style(name="Hash", family="paragraph")
    mono.addElement(TextProperties(fontfamily="monospace", fontname="DejaVu Sans Mono"))
    odt.automaticstyles.addElement(mono)

    def paragraph(text: str, style=None):
        p = P(stylename=style) if style is not None else P()
        teletype.addTextToElement(p, text)
        odt.text.addElement(p)

    def heading(text: str, level: int):
        h = H(outlinelevel=level, stylename=styles["Heading1" if level == 1 else "Heading2"])
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

    paragraph(doc.title, styles["Title"])
    paragraph(doc.subtitle)
    paragraph(doc.status_line)
    for label, value in doc.facts:
        paragraph(f"{label}: {value}")

    heading(_("Ordine del giorno"), 1)
    if doc.agenda_items:
        bullet_list(doc.agenda_items)
    else:
        paragraph(_("Nessun punto indicato."))

    heading(_("Presenze"), 1)
    paragraph(doc.quorum_line)
    for label, lines in doc.attendance:
        heading(label, 2)
        bullet_list(lines)

    heading(_("Svolgimento"), 1)
    for block in (doc.text or "").split("\n\n"):
        if block.strip():
            paragraph(block.strip())

    heading(_("Decisioni"), 1)
    if not doc.decisions:
        paragraph(_("Nessuna decisione."))
    for decision in doc.decisions:
        heading(decision.heading, 2)
        for line in decision.lines:
            paragraph(line)
        paragraph(_("Motivazione: %(text)s", text=decision.motivation))
        if decision.dissents:
            paragraph(_("Posizioni dissenzienti:"))
            bullet_list(decision.dissents)
        paragraph(decision.subject_url)

    heading(_("Integrità del verbale"), 1)
    if doc.content_hash:
        paragraph(_("Impronta SHA-256 del verbale approvato:"))
        paragraph(doc.content_hash, mono)
    else:
        paragraph(_("Bozza: l'impronta si calcola all'approvazione."))
    paragraph(_("Versione pubblica: %(url)s", url=doc.page_url))

    buffer = io.BytesIO()
    odt.write(buffer)
    return buffer.getvalue()
