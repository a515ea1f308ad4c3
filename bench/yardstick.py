"""The yardstick: the first page of a tavolo's proposals, written by hand over the same database.

    gunicorn 'bench.yardstick:create_app()'      # DATABASE_URL names the database

No Consulta code: Flask, one Jinja template string and three SQL statements — the tavolo with the
number of its public proposals, the page of 20 cards (ordered and cut on the proposal rows alone,
then joined to author, organisation and objective), and the votes in favour and comments of those 20. It shows the cards the tavolo page shows an
anonymous visitor, in the same order; it is what a page over this data costs at the least.
"""

from __future__ import annotations

import os
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import Flask, abort, render_template_string, request
from sqlalchemy import bindparam, create_engine, text

PER_PAGE = 20
ROME = ZoneInfo("Europe/Rome")
STATES = {
    "published": "Pubblicata", "under_review": "In valutazione", "approved": "Accolta",
    "partially_approved": "Accolta in parte", "rejected": "Non accolta", "merged": "Unita ad altra proposta",
    "withdrawn": "Ritirata",
}
CATEGORIES = {
    "union": "Organizzazione sindacale", "social_coop": "Cooperativa sociale",
    "volunteer": "Organizzazione di volontariato", "aps": "Associazione di promozione sociale",
    "third_sector_other": "Altro ente del Terzo settore", "public_body": "Ente pubblico", "other": "Altro",
    "citizen": "cittadino/a",
}
PUBLIC = "p.state != 'submitted' AND p.visibility != 'pending'"

TAVOLO = text(f"""
    SELECT t.id, t.title, t.slug,
           (SELECT count(*) FROM proposal p WHERE p.tavolo_id = t.id AND {PUBLIC}) AS total
    FROM tavolo t WHERE t.slug = :slug AND t.phase != 'draft'
""")
# The page is cut on the narrow proposal rows first; only its 20 rows are joined.
PAGE = text(f"""
    WITH page AS (
        SELECT p.id, coalesce(p.published_at, p.created_at) AS shown FROM proposal p
        WHERE p.tavolo_id = :tavolo AND {PUBLIC}
        ORDER BY shown DESC, p.id DESC LIMIT :limit OFFSET :offset)
    SELECT p.id, p.title, p.state, p.visibility, p.category, p.published_at, p.created_at,
           u.display_name AS author, o.name AS organisation, p.objective_id, ob.title AS objective
    FROM page
    JOIN proposal p ON p.id = page.id
    LEFT JOIN "user" u ON u.id = p.author_id
    LEFT JOIN organisation o ON o.id = p.organisation_id
    LEFT JOIN objective ob ON ob.id = p.objective_id
    ORDER BY page.shown DESC, p.id DESC
""")
COUNTS = text("""
    SELECT p.id,
           (SELECT count(*) FROM vote v WHERE v.proposal_id = p.id AND v.value = 'for') AS votes_for,
           (SELECT count(*) FROM comment c WHERE c.proposal_id = p.id AND c.visibility = 'visible'
                                               AND c.deleted_at IS NULL) AS comments
    FROM proposal p WHERE p.id IN :ids
""").bindparams(bindparam("ids", expanding=True))

PAGE_TEMPLATE = """<!doctype html>
<html lang="it"><head><meta charset="utf-8"><title>{{ tavolo.title }}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body><main>
<h1>{{ tavolo.title }}</h1>
<p>{{ tavolo.total }} proposte · pagina {{ page }} di {{ pages }}</p>
<ul class="proposal-cards">
{% for card in cards %}
<li><article class="proposal-card">
  <p><span class="badge">{{ card.state }}</span></p>
  <h3 class="card-title"><a href="/proposte/{{ card.id }}/">{{ card.title }}</a></h3>
  {% if card.readable %}<p>{% if card.organisation %}{{ card.organisation }} (presentata da {{ card.author }}){% else %}{{ card.author }}{% endif %}
    <span class="chip">{{ card.category }}</span></p>{% endif %}
  {% if card.objective %}<p>Obiettivo: <a href="/tavoli/{{ tavolo.slug }}/obiettivi/{{ card.objective_id }}/">{{ card.objective }}</a></p>{% endif %}
  <ul><li>{{ card.votes_for }} voti a favore</li><li>{{ card.comments }} commenti</li>
    <li><time datetime="{{ card.when.isoformat() }}">{{ card.when.strftime("%d/%m/%Y") }}</time></li></ul>
</article></li>
{% endfor %}
</ul>
<nav>{% if page > 1 %}<a href="?page={{ page - 1 }}">precedente</a>{% endif %}
{% if page < pages %}<a href="?page={{ page + 1 }}">successiva</a>{% endif %}</nav>
</main></body></html>
"""


def _moment(value) -> datetime:
    """SQLite gives the stored UTC text back, PostgreSQL an aware datetime."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        value = value.replace(tzinfo=ZoneInfo("UTC"))
    return value.astimezone(ROME)


def create_app(database_url: str | None = None) -> Flask:
    url = database_url or os.environ["DATABASE_URL"]
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            url = "postgresql+psycopg://" + url[len(prefix):]
    app = Flask(__name__)
    engine = create_engine(url)
    app.extensions["yardstick_engine"] = engine

    @app.get("/healthz")
    def healthz():
        return "ok"

    @app.get("/tavoli/<slug>/")
    def tavolo_page(slug: str):
        page = request.args.get("page", "1")
        if not page.isdigit() or not 1 <= int(page) <= 1_000_000:
            abort(400)
        page = int(page)
        with engine.connect() as conn:
            tavolo = conn.execute(TAVOLO, {"slug": slug}).first()
            if tavolo is None:
                abort(404)
            rows = conn.execute(PAGE, {"tavolo": tavolo.id, "limit": PER_PAGE,
                                       "offset": (page - 1) * PER_PAGE}).all()
            counts = {}
            if rows:
                counts = {r.id: r for r in conn.execute(COUNTS, {"ids": [r.id for r in rows]})}
        cards = [{
            "id": r.id, "state": STATES[r.state], "readable": r.visibility != "hidden",
            "title": r.title if r.visibility != "hidden" else "Proposta nascosta dal moderatore",
            "author": r.author or "Autore non più registrato", "organisation": r.organisation,
            "category": CATEGORIES.get(r.category, r.category), "objective_id": r.objective_id,
            "objective": r.objective, "votes_for": counts[r.id].votes_for, "comments": counts[r.id].comments,
            "when": _moment(r.published_at or r.created_at),
        } for r in rows]
        pages = max(1, -(-tavolo.total // PER_PAGE))
        return render_template_string(PAGE_TEMPLATE, tavolo=tavolo, cards=cards, page=page, pages=pages)

    return app
