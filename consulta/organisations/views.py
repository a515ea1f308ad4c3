"""Routes of the organisations domain: the public list, a page per organisation,
and the requests to register or represent one."""

from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.exc import IntegrityError

from consulta.core.errors import abort_with
from consulta.core.input_guard import page_number
from consulta.core.permissions import is_authenticated
from consulta.core.views import load_or_404, require
from consulta.extensions import db
from consulta.organisations import bp, operations
from consulta.organisations.forms import ConfirmForm, JoinSearchForm, OrganisationRequestForm
from consulta.organisations.models import (
    CATEGORY_LABELS,
    Membership,
    Organisation,
    OrganisationStatus,
    OrganisationType,
)

PER_PAGE = 30
# How many organisations each type shows on the grouped overview.
PER_GROUP = 8
SEARCH_MAX = 100


def _verified():
    return select(Organisation).where(Organisation.status == OrganisationStatus.verified)


def _counts_by_type() -> dict[str, int]:
    rows = db.session.execute(
        select(Organisation.type, func.count(Organisation.id))
        .where(Organisation.status == OrganisationStatus.verified)
        .group_by(Organisation.type)
    ).all()
    counts = dict(rows)
    return {t.value: counts.get(t.value, 0) for t in OrganisationType}


def _first_of_each_type() -> dict[str, list[Organisation]]:
    """The first PER_GROUP verified organisations of every type, in one query."""
    position = func.row_number().over(partition_by=Organisation.type,
                                      order_by=(func.lower(Organisation.name), Organisation.id))
    ranked = (select(Organisation.id.label("id"), position.label("position"))
              .where(Organisation.status == OrganisationStatus.verified).subquery())
    rows = db.session.execute(
        select(Organisation).join(ranked, ranked.c.id == Organisation.id)
        .where(ranked.c.position <= PER_GROUP)
        .order_by(func.lower(Organisation.name), Organisation.id)
    ).scalars()
    groups: dict[str, list[Organisation]] = {t.value: [] for t in OrganisationType}
    for organisation in rows:
        groups[organisation.type].append(organisation)
    return groups


def _search_clause(q: str):
    like = func.lower(Organisation.name).contains(q.lower(), autoescape=True)
    code = q.replace(" ", "")
    # Only a body's 11-digit code is public; a person's code is never searchable.
    if len(code) == 11 and code.isdigit():
        return or_(like, Organisation.tax_code == code)
    return like


@bp.get("/")
def index():
    kind = request.args.get("tipo", "").strip()
    q = request.args.get("q", "").strip()
    if kind and kind not in {t.value for t in OrganisationType}:
        abort_with(400, _("Tipo di organizzazione sconosciuto."))
    if len(q) > SEARCH_MAX:
        abort_with(400, _("La ricerca può avere al massimo %(max)d caratteri.", max=SEARCH_MAX))
    page = page_number()
    counts = _counts_by_type()
    context = {"counts": counts, "total": sum(counts.values()), "kind": kind, "q": q, "labels": CATEGORY_LABELS}
    if not kind and not q:
        return render_template("organisations/index.html", groups=_first_of_each_type(), pagination=None,
                               **context)
    query = _verified()
    if kind:
        query = query.where(Organisation.type == kind)
    if q:
        query = query.where(_search_clause(q))
    pagination = db.paginate(query.order_by(Organisation.type, func.lower(Organisation.name), Organisation.id),
                             page=page, per_page=PER_PAGE, max_per_page=PER_PAGE)
    return render_template("organisations/index.html", groups=None, pagination=pagination, **context)


@bp.get("/<int:organisation_id>/")
def show(organisation_id: int):
    organisation = load_or_404(Organisation, organisation_id)
    if not organisation.can_view(current_user):
        abort(404)
    return render_template("organisations/show.html", organisation=organisation, form=ConfirmForm())


def _require_active_participant() -> None:
    require(is_authenticated(current_user))
    if not current_user.is_verified:
        abort_with(403, _("Verifica il tuo indirizzo e-mail prima di chiedere di registrare o rappresentare "
                          "un'organizzazione: apri il link che ti abbiamo inviato."))
    if current_user.is_blocked:
        abort_with(403, _("Il tuo account è sospeso: non puoi fare richieste per un'organizzazione."))


def _refused(form, refusal: operations.RequestRefused, template: str, **context):
    db.session.rollback()
    if refusal.field and refusal.field in form:
        form[refusal.field].errors = list(form[refusal.field].errors) + [refusal.message]
    return render_template(template, form=form, refusal=None if refusal.field else refusal.message,
                           **context), refusal.status


@bp.route("/richiesta", methods=["GET", "POST"], endpoint="request")
def request_organisation():
    _require_active_participant()
    form = OrganisationRequestForm()
    membership = current_user.membership
    if not Membership.can_request(current_user):
        # Already pending or active: explain, never show a form that would be refused.
        if form.is_submitted():
            refusal = _("Hai già una richiesta in attesa o rappresenti già un'organizzazione: "
                        "si può rappresentare una sola organizzazione alla volta.")
            return render_template("organisations/request.html", form=None, membership=membership,
                                   refusal=refusal), 409
        return render_template("organisations/request.html", form=None, membership=membership, refusal=None)
    if not form.validate_on_submit():
        status = 400 if form.is_submitted() else 200
        return render_template("organisations/request.html", form=form, membership=membership,
                               refusal=None), status
    try:
        operations.request_organisation(current_user, **form.cleaned)
        db.session.commit()
    except operations.RequestRefused as refusal:
        return _refused(form, refusal, "organisations/request.html", membership=membership)
    except IntegrityError:
        # Two requests at once (same user or same tax code): the database kept one.
        db.session.rollback()
        refusal = operations.RequestRefused(_("La richiesta è in conflitto con un'altra appena registrata: "
                                              "ricarica la pagina e controlla."))
        return _refused(form, refusal, "organisations/request.html", membership=current_user.membership)
    flash(_("Richiesta inviata: l'Ufficio di Piano verificherà i dati dell'organizzazione e ti avviserà."),
          "success")
    return redirect(url_for("organisations.request"))


@bp.get("/adesione")
def join_search():
    _require_active_participant()
    form = JoinSearchForm(request.args)
    membership = current_user.membership
    results = []
    if form.q.data and form.q.data.strip():
        if not form.validate():
            return render_template("organisations/join.html", form=form, results=[], membership=membership,
                                   confirm=ConfirmForm()), 400
        q = form.q.data.strip()
        results = list(db.session.execute(
            _verified().where(_search_clause(q)).order_by(func.lower(Organisation.name)).limit(20)
        ).scalars())
    return render_template("organisations/join.html", form=form, results=results, membership=membership,
                           confirm=ConfirmForm())


@bp.post("/<int:organisation_id>/adesione")
def join(organisation_id: int):
    _require_active_participant()
    organisation = load_or_404(Organisation, organisation_id)
    if not organisation.can_view(current_user) or not organisation.is_verified:
        abort(404)
    form = ConfirmForm()
    if not form.validate_on_submit():
        abort(400)
    try:
        operations.request_membership(current_user, organisation)
        db.session.commit()
    except operations.RequestRefused as refusal:
        db.session.rollback()
        abort_with(refusal.status, refusal.message)
    except IntegrityError:
        db.session.rollback()
        abort_with(409, _("Hai già una richiesta in corso: ricarica la pagina e controlla."))
    flash(_("Richiesta inviata: l'Ufficio di Piano confermerà che rappresenti «%(name)s».", name=organisation.name),
          "success")
    return redirect(url_for("organisations.request"))
