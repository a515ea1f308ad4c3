"""The proposal list of a tavolo page: filters, sort, search, pages.

Contract used by the tavoli domain (tavolo page):
    listing = proposal_listing(tavolo, request.args, current_user)   # 400 on bad parameters
    {% include "proposals/_listing.html" %}                           # reads `listing` and `tavolo`

Every parameter is checked against an allowlist before any SQL is built; a bad
value answers 400 with an Italian message. A page costs the same number of
queries whatever the number of proposals: the count, the page (authors,
organisations and objectives joined), one grouped query for the per-card
counts of votes and comments, and the objectives for the filter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from flask import current_app, url_for
from flask_babel import lazy_gettext as _l
from sqlalchemy import String, and_, event, func, or_, select, true
from sqlalchemy.engine import Engine
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import joinedload
from sqlalchemy.sql.functions import FunctionElement
from werkzeug.routing import BuildError

from consulta.core.errors import abort_with
from consulta.core.input_guard import page_number, parse_id
from consulta.core.permissions import facilitates, is_authenticated
from consulta.core.text import clean_plain
from consulta.extensions import db
from consulta.organisations.models import CATEGORIES, CATEGORY_LABELS
from consulta.proposals.models import STATE_LABELS, Proposal, ProposalState, Visibility
from consulta.tavoli.models import Objective, ObjectiveStatus

SORTS = {
    "recenti": _l("Più recenti"),
    "sostegno": _l("Più sostenute"),
    "discusse": _l("Più discusse"),
}
DEFAULT_SORT = "recenti"
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


# Comments and votes import this package's models: imported late to avoid a cycle.
def votes_for_count():
    from consulta.votes.models import Vote, VoteValue

    return (select(func.count(Vote.id))
            .where(Vote.proposal_id == Proposal.id, Vote.value == VoteValue.for_.value)
            .correlate(Proposal).scalar_subquery())


def comments_count():
    from consulta.comments.models import Comment

    return (select(func.count(Comment.id))
            .where(Comment.proposal_id == Proposal.id, Comment.visibility == Visibility.visible.value,
                   Comment.deleted_at.is_(None))
            .correlate(Proposal).scalar_subquery())


def visible_to(user, tavolo):
    """SQL condition: the proposals of `tavolo` that `user` may see in a list (as Proposal.can_view)."""
    public = and_(Proposal.state != ProposalState.submitted.value,
                  Proposal.visibility != Visibility.pending.value)
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


def proposal_listing(tavolo, args, user) -> ProposalListing:
    config = current_app.config
    max_per_page = int(config.get("MAX_PER_PAGE", 100))
    page = page_number("page")
    per_page = _positive_int(
        args, "per_page", int(config.get("PROPOSALS_PER_PAGE", 20)), max_per_page,
        str(_l("Il numero di proposte per pagina deve essere fra 1 e %(max)d.", max=max_per_page)))
    state = _choice(args, "stato", STATE_FILTERS, str(_l("Lo stato scelto non esiste.")))
    category = _choice(args, "categoria", CATEGORIES, str(_l("La categoria scelta non esiste.")))
    sort = _choice(args, "ordine", SORTS, str(_l("L'ordinamento scelto non esiste."))) or DEFAULT_SORT
    raw_query = args.get("q") or ""
    if len(raw_query) > SEARCH_MAX:
        abort_with(400, str(_l("Il testo da cercare può avere al massimo %(max)d caratteri.", max=SEARCH_MAX)))
    query_text = clean_plain(raw_query)

    # Objectives anyone can see (not drafts): the filter's choices and its allowlist.
    objectives = [tuple(row) for row in db.session.execute(
        select(Objective.id, Objective.title)
        .where(Objective.tavolo_id == tavolo.id, Objective.status != ObjectiveStatus.draft.value)
        .order_by(Objective.position, Objective.id)
    ).all()]
    objective_raw = (args.get("obiettivo") or "").strip()
    objective_id = None
    if objective_raw:
        objective_id = parse_id(objective_raw)
        if objective_id is None:
            abort_with(400, str(_l("L'obiettivo scelto non è valido.")))
        if objective_id not in {oid for oid, _ in objectives}:
            abort_with(400, str(_l("L'obiettivo scelto non appartiene a questo tavolo.")))

    conditions = [Proposal.tavolo_id == tavolo.id, visible_to(user, tavolo)]
    if state:
        conditions.append(Proposal.state == state)
    if category:
        conditions.append(Proposal.category == category)
    if objective_id is not None:
        conditions.append(Proposal.objective_id == objective_id)
    if query_text:
        pattern = like_pattern(query_text.lower())
        conditions.append(and_(
            # Hidden text must not be findable, or a search would reveal it.
            text_readable_by(user, tavolo),
            or_(text_lower(Proposal.title).like(pattern, escape="\\"),
                text_lower(Proposal.body).like(pattern, escape="\\")),
        ))

    newest = (func.coalesce(Proposal.published_at, Proposal.created_at).desc(), Proposal.id.desc())
    if sort == "sostegno":
        order = (votes_for_count().desc(), *newest)
    elif sort == "discusse":
        order = (comments_count().desc(), *newest)
    else:
        order = newest

    statement = (
        select(Proposal)
        .where(*conditions)
        .options(joinedload(Proposal.author), joinedload(Proposal.organisation), joinedload(Proposal.objective))
        .order_by(*order)
    )
    # A page past the end (proposals withdrawn meanwhile) shows an empty page, not an error.
    pagination = db.paginate(statement, page=page, per_page=per_page, max_per_page=max_per_page, error_out=False)

    proposals = list(pagination.items)
    counts: dict[int, tuple[int, int]] = {}
    if proposals:
        rows = db.session.execute(
            select(Proposal.id, votes_for_count(), comments_count())
            .where(Proposal.id.in_([p.id for p in proposals]))
        ).all()
        counts = {pid: (votes or 0, comments or 0) for pid, votes, comments in rows}
    items = [ProposalCard(p, *counts.get(p.id, (0, 0)),
                          objective_url=objective_url(tavolo, p.objective_id) if p.objective_id else None)
             for p in proposals]

    params = {
        "stato": state, "obiettivo": str(objective_id) if objective_id is not None else "",
        "categoria": category, "q": query_text, "ordine": sort,
    }
    return ProposalListing(
        items=items,
        total=pagination.total or 0,
        pagination=pagination,
        params=params,
        objectives=objectives,
        state_choices=[(s, str(STATE_LABELS[s])) for s in STATE_FILTERS
                       if s != ProposalState.submitted.value or is_authenticated(user)],
        category_choices=[(c, str(CATEGORY_LABELS[c])) for c in CATEGORIES],
        sort_choices=[(key, str(label)) for key, label in SORTS.items()],
    )
