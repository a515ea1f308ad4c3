"""Setting up the Ambito: its name, its region and its comuni from the ISTAT list. Flushes; the caller commits."""

from __future__ import annotations

import re
from dataclasses import dataclass

from flask_babel import gettext as _
from sqlalchemy import exists, select

from consulta.ambito.istat import IstatComune, IstatRegistry, registry
from consulta.ambito.models import Ambito, Comune
from consulta.core import audit
from consulta.core.text import clean_plain, slugify
from consulta.extensions import db


class SetupProblem(ValueError):
    """The set-up cannot be applied as asked; each message says why, in Italian."""

    def __init__(self, *messages: str, field: str = "comuni"):
        super().__init__(" ".join(messages))
        self.messages = list(messages)
        self.field = field


@dataclass(frozen=True)
class AmbitoSetup:
    name: str
    number: str | None
    region: str
    comuni: list[IstatComune]
    lead_code: str


def split_entries(text: str) -> list[str]:
    """Comuni typed one per line or separated by commas or semicolons."""
    return [entry.strip() for entry in re.split(r"[\n,;]+", text or "") if entry.strip()]


def read_setup(*, name: str, number: str | None, region: str, comuni: str, lead: str) -> AmbitoSetup:
    """What a person typed (on the admin page or at `flask ambito init`), checked against the ISTAT list."""
    name, number, region = clean_plain(name), clean_plain(number or ""), (region or "").strip()
    if not name:
        raise SetupProblem(_("Indica il nome dell'Ambito."), field="name")
    if len(name) > 200:
        raise SetupProblem(_("Il nome può avere al massimo %(max)d caratteri.", max=200), field="name")
    if len(number) > 20:
        raise SetupProblem(_("Il numero può avere al massimo %(max)d caratteri.", max=20), field="number")
    if region not in registry().regions:
        raise SetupProblem(_("Scegli la regione dall'elenco."), field="region")
    found, problems = registry().resolve(split_entries(comuni), region)
    if problems:
        raise SetupProblem(*problems)
    if not found:
        raise SetupProblem(_("Indica almeno un comune dell'Ambito."))
    leads, lead_problems = IstatRegistry(found).resolve([lead])
    if lead_problems or not leads:
        raise SetupProblem(_("Il comune capofila deve essere uno dei comuni dell'Ambito."), field="lead")
    return AmbitoSetup(name=name, number=number or None, region=region, comuni=found, lead_code=leads[0].code)


def _in_use(comune: Comune) -> bool:
    """Whether anything recorded points at this comune (a person's or an organisation's seat, a plan action)."""
    from consulta.accounts.models import User
    from consulta.organisations.models import Organisation
    from consulta.plan.record import plan_action_comune

    return db.session.execute(select(
        exists().where(User.comune_id == comune.id)
        | exists().where(Organisation.comune_id == comune.id)
        | exists().where(plan_action_comune.c.comune_id == comune.id)
    )).scalar_one()


def set_up_ambito(actor, setup: AmbitoSetup) -> tuple[Ambito, dict[str, list]]:
    """Create or update the one Ambito of this installation; returns it and what changed.

    Comuni missing from the new list are removed only when nothing refers to them:
    removing the comune of residence of a registered person would lose what they told us.
    """
    codes = [comune.code for comune in setup.comuni]
    if not codes:
        raise SetupProblem(_("Indica almeno un comune dell'Ambito."))
    if setup.lead_code not in codes:
        raise SetupProblem(_("Il comune capofila deve essere uno dei comuni dell'Ambito."), field="lead")

    existing = list(db.session.execute(select(Comune).order_by(Comune.name)).scalars())
    leaving = [comune for comune in existing if comune.istat_code not in codes]
    kept_by_use = [comune.name for comune in leaving if _in_use(comune)]
    if kept_by_use:
        raise SetupProblem(_("Non si possono togliere %(names)s: vi sono registrate persone, organizzazioni "
                             "o azioni del piano.", names=", ".join(kept_by_use)))

    ambito = Ambito.current()
    created = ambito is None
    if created:
        ambito = Ambito(name=setup.name)
        db.session.add(ambito)
    before = {"name": ambito.name, "number": ambito.number, "region": ambito.region,
              "comuni": sorted(c.name for c in existing),
              "lead_comune": ambito.lead_comune.name if ambito.lead_comune else None}

    ambito.lead_comune = None
    for comune in leaving:
        db.session.delete(comune)
    db.session.flush()
    by_code = {comune.istat_code: comune for comune in existing if comune.istat_code in codes}
    for official in setup.comuni:
        comune = by_code.get(official.code)
        if comune is None:
            comune = Comune(istat_code=official.code)
            db.session.add(comune)
            by_code[official.code] = comune
        comune.name, comune.slug = official.name, slugify(official.name)
    db.session.flush()

    ambito.name, ambito.number, ambito.region = setup.name, setup.number or None, setup.region
    ambito.lead_comune = by_code[setup.lead_code]
    after = {"name": ambito.name, "number": ambito.number, "region": ambito.region,
             "comuni": sorted(c.name for c in setup.comuni), "lead_comune": ambito.lead_comune.name}
    changes = {key: [None if created else before[key], after[key]]
               for key in after if created or before[key] != after[key]}
    if changes:
        audit.record(actor, "ambito.create" if created else "ambito.update", ambito, changes)
    db.session.flush()
    return ambito, changes
