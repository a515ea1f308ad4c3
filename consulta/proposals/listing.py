"""The proposal list of a tavolo page: filters, sort, search, pages.

Contract used by the tavoli domain (tavolo page):
    listing = proposal_listing(tavolo, request.args, current_user)   # 400 on bad parameters
    {% include "proposals/_listing.html" %}                           # reads `listing` and `tavolo`

Every parameter is checked against an allowlist before any SQL is built; a bad
value answers 400 with an Italian message. A page costs the same whatever the
number of proposals and however deep it is: one statement cuts the page on the
index of its order (after the keyset cursor of a "next page" link, or at the
offset of a page number) and reads only its rows, with the card's columns and the
counters kept on the row (ballots in favour, comments). The total is the tavolo's
counter when nothing is filtered (one more count for what only this user sees:
their own proposals awaiting moderation, or the queue for a moderator), else a
count. The objectives come from the caller when it has them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, event, func, not_, or_, select, true
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload, load_only
from sqlalchemy.orm.attributes import set_committed_value
from sqlalchemy.sql.functions import FunctionElement
from werkzeug.routing import BuildError

from consulta.accounts.models import User
from consulta.core import keyset
from consulta.core.errors import abort_with
from consulta.core.input_guard import page_number, parse_id
from consulta.core.permissions import facilitates, is_authenticated
from consulta.core.text import clean_plain
from consulta.extensions import db
from consulta.organisations.models import CATEGORIES, CATEGORY_LABELS, Organisation
from consulta.proposals.models import (
    STATE_LABELS,
    Proposal,
    ProposalState,
    Visibility,
    tavolo_tallies_sql,
)
from consulta.tavoli.models import Objective, ObjectiveStatus

SORTS = {
    "recenti": _l("Più recenti"),
    "sostegno": _l("Più sostenute"),
    "discusse": _l("Più discusse"),
}
DEFAULT_SORT = "recenti"
# Each order's keys, all descending, the id last: what the indexes ix_proposal_tavolo_* hold.
SORT_KEYS = {
    "recenti": (Proposal.listed_at, Proposal.id),
    "sostegno": (Proposal.votes_for_count, Proposal.listed_at, Proposal.id),
    "discusse": (Proposal.comments_count, Proposal.listed_at, Proposal.id),
}
SORT_KEY_TYPES = {
    "recenti": (datetime, int),
    "sostegno": (int, datetime, int),
    "discusse": (int, datetime, int),
}
SEARCH_MAX = 200
# The states a filter may ask for, in lifecycle order.
STATE_FILTERS = tuple(s.value for s in ProposalState)


# --------------------------------------------------------------------------- case-insensitive text on both backends

class text_lower(FunctionElement):
    """lower() that folds non-ASCII letters on SQLite too (its own lower() only folds A-Z)."""

    type = String()
    inherit_cache = True


@compiles(text_lower)
def _text_lower_default(element, compiler, **kw):
    return f"lower({compiler.process(element.clauses, **kw)})"


@compiles(text_lower, "sqlite")
def _text_lower_sqlite(element, compiler, **kw):
    return f"consulta_lower({compiler.process(element.clauses, **kw)})"


@event.listens_for(Engine, "connect")
def _sqlite_unicode_lower(dbapi_connection, connection_record):
    if type(dbapi_connection).__module__.startswith("sqlite3"):
        dbapi_connection.create_function(
            "consulta_lower", 1, lambda value: value.lower() if isinstance(value, str) else value,
            deterministic=True)


def like_pattern(text: str) -> str:
    """%text% with the user's own % _ and \\ taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def objective_url(tavolo, objective_id: int) -> str:
    """The objective's page (tavoli domain), also while that route is still being built."""
    try:
        return url_for("tavoli.objective", slug=tavolo.slug, objective_id=objective_id)
    except BuildError:
        return f"/tavoli/{tavolo.slug}/obiettivi/{objective_id}/"


# --------------------------------------------------------------------------- the listing

@dataclass
class ProposalCard:
    proposal: Proposal
    votes_for: int = 0
    comments: int = 0
    objective_title: str | None = None
    objective_url: str | None = None


@dataclass
class ProposalListing:
    items: list[ProposalCard] = field(default_factory=list)
    total: int = 0
    pagination: Any = None
    # The validated parameters, as strings for the filter form ("" = not set).
    params: dict[str, str] = field(default_factory=dict)
    objectives: list[tuple[int, str]] = field(default_factory=list)
    state_choices: list[tuple[str, str]] = field(default_factory=list)
    category_choices: list[tuple[str, str]] = field(default_factory=list)
    sort_choices: list[tuple[str, str]] = field(default_factory=list)

    @property
    def filtered(self) -> bool:
        return any(self.params.get(k) for k in ("stato", "obiettivo", "categoria", "q"))


def _positive_int(args, name: str, default: int, maximum: int, message: str) -> int:
    raw = args.get(name)
    if raw is None or raw == "":
        return default
    raw = raw.strip()
    if not raw.isdigit() or len(raw) > 9:
        abort_with(400, message)
    value = int(raw)
    if value < 1 or value > maximum:
        abort_with(400, message)
    return value


def _choice(args, name: str, allowed, message: str) -> str:
    raw = (args.get(name) or "").strip()
    if raw and raw not in allowed:
        abort_with(400, message)
    return raw


def visible_to(user, tavolo):
    """SQL condition: the proposals of `tavolo` that `user` may see in a list (as Proposal.can_view)."""
    public = tavolo_tallies_sql()["listed_count"]
    if facilitates(user, tavolo):
        return true()
    if is_authenticated(user):
        return or_(public, Proposal.author_id == user.id)
    return public


def text_readable_by(user, tavolo):
    """SQL condition: the proposals whose title and text `user` may read (hidden ones are placeholders)."""
    if facilitates(user, tavolo):
        return true()
    not_hidden = Proposal.visibility != Visibility.hidden.value
    if is_authenticated(user):
        return or_(not_hidden, Proposal.author_id == user.id)
    return not_hidden


def _card_columns():
    """What a card shows (not the text, not the answer), and the names of who proposed it."""
    return (
        load_only(Proposal.tavolo_id, Proposal.objective_id, Proposal.author_id, Proposal.author_name,
                  Proposal.organisation_id, Proposal.category, Proposal.title, Proposal.channel,
                  Proposal.protocol_number, Proposal.state, Proposal.visibility, Proposal.hidden_reason, Proposal.hidden_note,
                  Proposal.hidden_by_flags, Proposal.listed_at, Proposal.votes_for_count, Proposal.comments_count),
        joinedload(Proposal.author).load_only(User.display_name).lazyload(User.comune),
        joinedload(Proposal.organisation).load_only(Organisation.name, Organisation.type).lazyload(Organisation.comune),
    )


def proposal_listing(tavolo, args, user, objectives: list[Objective] | None = None) -> ProposalListing:
    """The list of `tavolo`'s proposals for `user` as `args` ask. `objectives`: the tavolo's objectives
    when the caller has loaded them already (the tavolo page), else they are read here."""
    config = current_app.config
    max_per_page = int(config.get("MAX_PER_PAGE", 100))
    per_page = _positive_int(
        args, "per_page", int(config.get("PROPOSALS_PER_PAGE", 20)), max_per_page,
        str(_l("Il numero di proposte per pagina deve essere fra 1 e %(max)d.", max=max_per_page)))
    state = _choice(args, "stato", STATE_FILTERS, str(_l("Lo stato scelto non esiste.")))
    category = _choice(args, "categoria", CATEGORIES, str(_l("La categoria scelta non esiste.")))
    sort = _choice(args, "ordine", SORTS, str(_l("L'ordinamento scelto non esiste."))) or DEFAULT_SORT
    cursor = keyset.read(args, f"proposals.{sort}", SORT_KEY_TYPES[sort])
    page = cursor.page if cursor is not None else page_number("page")
    raw_query = args.get("q") or ""
    if len(raw_query) > SEARCH_MAX:
        abort_with(400, str(_l("Il testo da cercare può avere al massimo %(max)d caratteri.", max=SEARCH_MAX)))
    query_text = clean_plain(raw_query)

    if objectives is None:
        objectives = list(db.session.execute(
            select(Objective).where(Objective.tavolo_id == tavolo.id, Objective.status != ObjectiveStatus.draft.value)
            .order_by(Objective.position, Objective.id)
        ).unique().scalars())
    titles = {o.id: o.title for o in objectives}
    # Objectives anyone can see (not drafts): the filter's choices and its allowlist.
    choices = [(o.id, o.title) for o in objectives if o.status != ObjectiveStatus.draft]
    objective_raw = (args.get("obiettivo") or "").strip()
    objective_id = None
    if objective_raw:
        objective_id = parse_id(objective_raw)
        if objective_id is None:
            abort_with(400, str(_l("L'obiettivo scelto non è valido.")))
        if objective_id not in {oid for oid, _ in choices}:
            abort_with(400, str(_l("L'obiettivo scelto non appartiene a questo tavolo.")))

    conditions = [Proposal.tavolo_id == tavolo.id, visible_to(user, tavolo)]
    filters = []
    if state:
        filters.append(Proposal.state == state)
    if category:
        filters.append(Proposal.category == category)
    if objective_id is not None:
        filters.append(Proposal.objective_id == objective_id)
    if query_text:
        pattern = like_pattern(query_text.lower())
        filters.append(and_(
            # Hidden text must not be findable, or a search would reveal it.
            text_readable_by(user, tavolo),
            or_(text_lower(Proposal.title).like(pattern, escape="\\"),
                text_lower(Proposal.body).like(pattern, escape="\\")),
        ))

    # The page is cut on the narrow rows, on the index of the order (after the cursor, or at an
    # offset for a page number), and only its rows are then read with the card's columns.
    keys = SORT_KEYS[sort]
    order = [key.desc() for key in keys]
    cut = select(Proposal.id).where(*conditions, *filters).order_by(*order).limit(per_page)
    if cursor is not None:
        cut = cut.where(keyset.after(keys, cursor.values))
    else:
        cut = cut.offset((page - 1) * per_page)
    cut = cut.subquery()
    base, counted = _total(tavolo, user, conditions, filters)
    rows = db.session.execute(
        select(Proposal, *([counted] if counted is not None else []))
        .join(cut, cut.c.id == Proposal.id).options(*_card_columns()).order_by(*order)
    ).all()
    proposals = [row[0] for row in rows]
    for proposal in proposals:  # the cards ask it what the user may read: it is the tavolo at hand
        set_committed_value(proposal, "tavolo", tavolo)
    total = base
    if counted is not None:
        # Counted beside the page's rows; an empty page (past the end, nothing found) asks on its own.
        total += rows[0][1] if rows else db.session.execute(select(counted)).scalar_one()
    items = [ProposalCard(p, votes_for=p.votes_for_count, comments=p.comments_count,
                          objective_title=titles.get(p.objective_id),
                          objective_url=objective_url(tavolo, p.objective_id) if p.objective_id in titles else None)
             for p in proposals]
    pagination = keyset.Page(page=page, per_page=per_page, items=items, total=total)
    if len(proposals) == per_page:
        pagination.follow(f"proposals.{sort}", [getattr(proposals[-1], key.key) for key in keys])

    params = {
        "stato": state, "obiettivo": str(objective_id) if objective_id is not None else "",
        "categoria": category, "q": query_text, "ordine": sort,
    }
    return ProposalListing(
        items=items,
        total=total,
        pagination=pagination,
        params=params,
        objectives=choices,
        state_choices=[(s, str(STATE_LABELS[s])) for s in STATE_FILTERS
                       if s != ProposalState.submitted.value or is_authenticated(user)],
        category_choices=[(c, str(CATEGORY_LABELS[c])) for c in CATEGORIES],
        sort_choices=[(key, str(label)) for key, label in SORTS.items()],
    )


def _total(tavolo, user, conditions, filters) -> tuple[int, Any]:
    """How many proposals the list has for `user`: a number, plus the count that SQL must add to it (or
    None). Unfiltered, the tavolo's counter of listed proposals, plus those only this user may see
    (their own awaiting moderation, or the whole queue for a moderator); filtered, a count."""
    if filters:
        return 0, select(func.count()).select_from(Proposal).where(*conditions, *filters).scalar_subquery()
    if not is_authenticated(user):
        return tavolo.listed_count, None
    unlisted = [Proposal.tavolo_id == tavolo.id, not_(tavolo_tallies_sql()["listed_count"])]
    if not facilitates(user, tavolo):
        # What visible_to() leaves of the unlisted, said plainly so that the count reads the author's index
        # (under the OR it would read every proposal of the tavolo).
        unlisted.append(Proposal.author_id == user.id)
    return tavolo.listed_count, select(func.count()).select_from(Proposal).where(*unlisted).scalar_subquery()
