"""The demo Ambito: Ambito Territoriale Sociale n. 11 (Narni capofila)."""

from __future__ import annotations

import re
import unicodedata
from datetime import timedelta

from sqlalchemy import select

from consulta.accounts.models import RegisteredAs, Role, User
from consulta.accounts.operations import create_user
from consulta.ambito.models import Ambito, Comune
from consulta.core.db import utcnow
from consulta.core.text import render_markdown
from consulta.extensions import db
from consulta.organisations.models import Membership, MembershipStatus, Organisation, OrganisationStatus
from consulta.plan.models import Plan, PlanStatus
from consulta.tavoli.models import Moderation, Phase, Tavolo, VoteMode

COMUNI = [
    ("Narni", "055022"), ("Alviano", "055002"), ("Amelia", "055005"), ("Attigliano", "055007"),
    ("Avigliano Umbro", "055033"), ("Calvi dell'Umbria", "055009"), ("Giove", "055013"),
    ("Guardea", "055014"), ("Lugnano in Teverina", "055015"), ("Montecastrilli", "055017"),
    ("Otricoli", "055024"), ("Penna in Teverina", "055027"),
]

DEMO_PASSWORD = "consulta-demo-2025"
DEMO_ACCOUNTS = [
    ("Amministratore", "admin@consulta.example", DEMO_PASSWORD),
    ("Facilitatrice", "facilitatrice@consulta.example", DEMO_PASSWORD),
    ("Rappresentante (coop.)", "coop@consulta.example", DEMO_PASSWORD),
    ("Cittadino", "cittadino@consulta.example", DEMO_PASSWORD),
]

TAVOLI = [
    ("minori-e-famiglia", "Minori, giovani e famiglia", "Minori e famiglia",
     "Sostegno alla genitorialità, contrasto all'abbandono scolastico, centri per le famiglie.", "post", "person"),
    ("anziani", "Anziani", "Anziani",
     "Domiciliarità, sollievo alle famiglie che assistono, contrasto alla solitudine degli anziani soli.", "post", "person"),
    ("disabilita", "Disabilità", "Disabilità",
     "Progetti di vita indipendente, inclusione scolastica e lavorativa, dopo di noi.", "pre", "organisation"),
    ("poverta-e-inclusione", "Povertà e inclusione sociale", "Povertà ed emarginazione",
     "Servizi a bassa soglia, emergenza casa, percorsi di inclusione attiva.", "post", "person"),
    ("immigrazione", "Immigrazione e intercultura", "Immigrazione",
     "Mediazione culturale, corsi di italiano, accoglienza diffusa.", "post", "person"),
    ("salute-mentale-e-dipendenze", "Salute mentale e dipendenze", "Salute mentale e dipendenze",
     "Integrazione sociosanitaria con l'Azienda USL, prevenzione e reinserimento.", "pre", "person"),
]

ORGANISATIONS = [
    ("CGIL Terni – Lega SPI Narni", "union", "80012340552"),
    ("Cooperativa Sociale Il Cerchio", "social_coop", "01234560553"),
    ("Associazione Volontari Amerini per l'Assistenza", "volunteer", "90012340551"),
    ("APS Il Ponte – Giovani di Otricoli", "aps", "90045670552"),
    ("Fondazione Comunità Narnese", "third_sector_other", "90056780555"),
    ("Azienda USL Umbria 2 – Distretto di Narni-Amelia", "public_body", "01499590550"),
]


def slugify(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text.lower()).strip("-")


def load_demo() -> bool:
    """Create the demo data unless it exists; returns True when something was created."""
    if Ambito.current() is not None:
        return False
    comuni = {}
    for name, istat in COMUNI:
        comune = Comune(name=name, slug=slugify(name), istat_code=istat)
        db.session.add(comune)
        comuni[name] = comune
    db.session.flush()
    db.session.add(Ambito(
        name="Ambito Territoriale Sociale n. 11", number="11", lead_comune_id=comuni["Narni"].id,
        description="Narni (comune capofila) e altri undici comuni della bassa Umbria.",
    ))

    accounts = {}
    for (label, email, password), role, registered_as, comune in zip(
        DEMO_ACCOUNTS,
        (Role.admin, Role.facilitator, Role.participant, Role.participant),
        (RegisteredAs.citizen, RegisteredAs.citizen, RegisteredAs.representative, RegisteredAs.citizen),
        ("Narni", "Narni", "Amelia", "Otricoli"),
        strict=True,
    ):
        accounts[email] = create_user(
            email=email, display_name={
                "admin@consulta.example": "Ufficio di Piano",
                "facilitatrice@consulta.example": "Chiara Benedetti",
                "coop@consulta.example": "Marco Rossi",
                "cittadino@consulta.example": "Giulia Ferri",
            }[email], password=password, role=role, registered_as=registered_as,
            comune_id=comuni[comune].id, verified=True, check_password=False,
        )
    admin = accounts["admin@consulta.example"]
    facilitator = accounts["facilitatrice@consulta.example"]

    now = utcnow()
    orgs = []
    for i, (name, kind, tax_code) in enumerate(ORGANISATIONS):
        org = Organisation(
            name=name, type=kind, tax_code=tax_code, comune_id=list(comuni.values())[i % len(comuni)].id,
            status=OrganisationStatus.verified, verified_at=now, verified_by_id=admin.id, created_by_id=admin.id,
        )
        db.session.add(org)
        orgs.append(org)
    db.session.flush()
    db.session.add(Membership(
        user_id=accounts["coop@consulta.example"].id, organisation_id=orgs[1].id, is_representative=True,
        status=MembershipStatus.active, decided_at=now, decided_by_id=admin.id,
    ))

    plan = Plan(
        title="Piano Sociale di Zona 2025–2027", period_start=2025, period_end=2027,
        status=PlanStatus.consulting,
        description="Il Piano triennale dei servizi sociali dell'Ambito n. 11, costruito con i tavoli tematici.",
    )
    db.session.add(plan)
    db.session.flush()
    for position, (slug, title, area, description, moderation, vote_mode) in enumerate(TAVOLI):
        tavolo = Tavolo(
            plan_id=plan.id, slug=slug, title=title, area=area, description=description,
            description_html=render_markdown(description), phase=Phase.open,
            proposal_deadline=now + timedelta(days=21 + position), moderation=Moderation(moderation),
            vote_mode=VoteMode(vote_mode), position=position,
        )
        tavolo.facilitators.append(facilitator)
        db.session.add(tavolo)
    db.session.flush()
    return True


def demo_user(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
