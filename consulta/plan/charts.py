"""Accessible SVG bar charts of the budget totals, drawn on the server.

Each chart is role="img" with a <title> and a <desc> that states every figure in
words; the page shows the same figures in a table beside it, so nothing depends on
seeing the bars. Sizes and colours are SVG attributes (the CSP forbids inline
style); plan.css lets the chart shrink on narrow screens. All text is escaped.
"""

from __future__ import annotations

from decimal import Decimal

from flask_babel import format_currency
from markupsafe import Markup, escape

WIDTH = 560
LABEL_HEIGHT = 22
BAR_HEIGHT = 24
ROW_HEIGHT = 64
# Bootstrap Italia primary blue: 4.5:1 contrast against white for the figures beside it.
BAR_COLOUR = "#0066cc"
TRACK_COLOUR = "#e6e9f2"


def euro(amount: Decimal) -> str:
    return format_currency(amount, "EUR")


def bar_chart(rows, *, chart_id: str, title: str) -> Markup:
    """rows: objects with `chart_label` and `amount` (Decimal). Empty Markup when there is nothing to draw."""
    rows = [r for r in rows if r.amount > 0]
    if not rows:
        return Markup("")
    largest = max(r.amount for r in rows)
    height = ROW_HEIGHT * len(rows) + 4
    bar_room = WIDTH - 170
    chart_id = escape(chart_id)
    description = "; ".join(f"{r.chart_label}: {euro(r.amount)}" for r in rows) + "."
    out = [
        f'<svg class="plan-chart" xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'viewBox="0 0 {WIDTH} {height}" role="img" aria-labelledby="{chart_id}-titolo {chart_id}-descrizione">',
        f'<title id="{chart_id}-titolo">{escape(title)}</title>',
        f'<desc id="{chart_id}-descrizione">{escape(description)}</desc>',
    ]
    for index, row in enumerate(rows):
        top = index * ROW_HEIGHT
        width = float(Decimal(bar_room) * row.amount / largest)
        out.append(f'<text x="0" y="{top + 17}" font-weight="600">{escape(row.chart_label)}</text>')
        out.append(f'<rect x="0" y="{top + LABEL_HEIGHT + 4}" width="{bar_room}" height="{BAR_HEIGHT}" '
                   f'fill="{TRACK_COLOUR}"/>')
        out.append(f'<rect x="0" y="{top + LABEL_HEIGHT + 4}" width="{max(width, 2):.1f}" height="{BAR_HEIGHT}" '
                   f'fill="{BAR_COLOUR}"/>')
        out.append(f'<text x="{bar_room + 8}" y="{top + LABEL_HEIGHT + 22}">{escape(euro(row.amount))}</text>')
    out.append("</svg>")
    return Markup("".join(out))
