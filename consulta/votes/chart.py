"""An accessible SVG bar chart of a tally by stakeholder category, drawn on the server.

One row per category that has votes: its name, a bar split into for / against /
abstain, and the same figures written out, so colour is never the only cue. The
<svg> is role="img" with a <title> and a <desc> that says everything in words;
the panel adds a table with the figures for screen readers. All text is escaped.
No inline style (the CSP forbids it): sizes and colours are SVG attributes, and
consulta.css scales the chart down on narrow screens (.tally-chart).
"""

from __future__ import annotations

from flask_babel import gettext as _
from markupsafe import Markup, escape

from consulta.votes.models import VOTE_LABELS

WIDTH = 360
BAR_HEIGHT = 20
ROW_HEIGHT = 74
LEGEND_HEIGHT = 30
# Dark enough for text contrast beside them and distinct from one another.
COLOURS = {"for": "#00703c", "against": "#a61c3c", "abstain": "#5c6f82"}
VALUES = ("for", "against", "abstain")


def _legend_labels() -> dict[str, str]:
    return {"for": _("Favorevoli"), "against": _("Contrari"), "abstain": _("Astenuti")}


def chart_description(tally) -> str:
    """The whole chart in words: what the <desc> says."""
    if tally.total == 0:
        return _("Nessun voto espresso.")
    parts = [_("Totale: %(summary)s.", summary=tally.totals.summary())]
    for row in tally.by_category:
        if row.total:
            parts.append(f"{row.label}: {row.summary()}.")
    silent = [row.label for row in tally.by_category if not row.total]
    if silent:
        parts.append(_("Nessun voto da: %(names)s.", names=", ".join(silent)))
    return " ".join(parts)


def category_chart(tally, *, chart_id: str = "grafico-voti") -> Markup:
    """The SVG markup, or an empty Markup when nobody has voted yet."""
    rows = [row for row in tally.by_category if row.total]
    if not rows:
        return Markup("")
    chart_id = escape(chart_id)
    height = LEGEND_HEIGHT + ROW_HEIGHT * len(rows)
    longest = max(row.total for row in rows)
    # Room after the bar for its total.
    bar_room = WIDTH - 44
    title = escape(_("Voti per categoria di portatori di interesse"))
    out: list[str] = [
        f'<svg class="tally-chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{chart_id}-titolo {chart_id}-descrizione">',
        f'<title id="{chart_id}-titolo">{title}</title>',
        f'<desc id="{chart_id}-descrizione">{escape(chart_description(tally))}</desc>',
    ]
    # Legend: swatch and word for each value.
    legend = _legend_labels()
    x = 0
    for value in VALUES:
        out.append(f'<rect x="{x}" y="4" width="14" height="14" fill="{COLOURS[value]}"/>')
        out.append(f'<text x="{x + 20}" y="16">{escape(legend[value])}</text>')
        x += 110
    for index, row in enumerate(rows):
        top = LEGEND_HEIGHT + index * ROW_HEIGHT
        out.append(f'<text x="0" y="{top + 15}" font-weight="600">{escape(row.label)}</text>')
        bar_y = top + 22
        x = 0.0
        for value in VALUES:
            count = row.get(value)
            if not count:
                continue
            width = bar_room * count / longest
            out.append(
                f'<rect x="{x:.1f}" y="{bar_y}" width="{width:.1f}" height="{BAR_HEIGHT}" '
                f'fill="{COLOURS[value]}" stroke="#ffffff" stroke-width="1">'
                f'<title>{escape(row.label)}: {escape(str(VOTE_LABELS[value]))} {count}</title></rect>'
            )
            x += width
        out.append(f'<text x="{x + 6:.1f}" y="{bar_y + 15}" font-weight="600">{row.total}</text>')
        out.append(f'<text x="0" y="{bar_y + BAR_HEIGHT + 20}">{escape(row.summary())}</text>')
    out.append("</svg>")
    return Markup("".join(out))
