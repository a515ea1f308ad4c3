"""The demo Ambito: Ambito Territoriale Sociale n. 11 (Narni capofila)."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from consulta.accounts.models import RegisteredAs, Role, User
from consulta.accounts.operations import create_user
from consulta.ambito.models import Ambito, Comune
from consulta.core.db import utcnow
from consulta.core.text import render_markdown, slugify
from consulta.extensions import db
from consulta.organisations.models import (
    Membership,
    MembershipStatus,
    Organisation,
    OrganisationStatus,
)
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
    for (_label, email, password), role, registered_as, comune in zip(
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
    _load_participation(plan, orgs, accounts, comuni)
    return True


# Draft objectives per tavolo: (title, body).
OBJECTIVES = {
    "minori-e-famiglia": [
        ("Potenziare il Centro per le famiglie",
         "Aprire sportelli di **sostegno alla genitorialità** a Narni e Amelia e un servizio di mediazione "
         "familiare per le famiglie in condizioni di fragilità."),
        ("Contrastare l'abbandono scolastico",
         "Integrare scuola, servizi educativi e sociali con progetti di tutoraggio nei comuni più piccoli."),
    ],
    "anziani": [
        ("Sostenere la domiciliarità",
         "Ampliare l'assistenza domiciliare e i servizi di **sollievo** alle famiglie che assistono."),
        ("Contrastare la solitudine degli anziani soli",
         "Una rete di verifica e compagnia con il volontariato, a partire dai borghi senza servizi."),
    ],
    "disabilita": [
        ("Progetti di vita indipendente",
         "Percorsi personalizzati di autonomia abitativa e lavorativa, in attuazione della legge 112/2016."),
    ],
    "poverta-e-inclusione": [
        ("Mantenere i servizi a bassa soglia",
         "Consolidare la pronta accoglienza e il sostegno alle famiglie colpite dall'emergenza casa."),
    ],
    "immigrazione": [
        ("Mediazione culturale nei servizi",
         "Mediatori culturali a scuola, nei servizi sociali e sanitari; corsi di italiano per adulti."),
    ],
    "salute-mentale-e-dipendenze": [
        ("Prevenzione e stili di vita con le scuole",
         "Azioni di prevenzione dell'uso di sostanze con le scuole e l'Azienda USL."),
    ],
}

# Proposals: (tavolo slug, objective index or None, author key, on behalf of organisation?, title, body).
PROPOSALS = [
    ("anziani", 0, "coop", True, "Assistenza domiciliare anche il sabato",
     "Proponiamo di estendere l'assistenza domiciliare al **sabato mattina**, quando le famiglie "
     "che assistono hanno più bisogno di sollievo. Il costo stimato è contenuto."),
    ("anziani", 1, "union", True, "Telefonia sociale per gli anziani soli",
     "Un servizio di telefonate periodiche agli anziani soli, gestito con lo SPI e il volontariato, "
     "collegato al servizio sociale dei comuni."),
    ("anziani", 1, "citizen", False, "Trasporto sociale nei borghi",
     "Nei borghi di Penna in Teverina e Alviano chi non guida non riesce a raggiungere gli ambulatori: "
     "serve un trasporto sociale a chiamata."),
    ("minori-e-famiglia", 0, "aps", True, "Spazio giovani a Otricoli",
     "Uno spazio aperto il pomeriggio per i ragazzi, con educatori e attività di scambio interculturale."),
    ("minori-e-famiglia", 1, "volunteer", True, "Doposcuola solidale",
     "Volontari per il doposcuola nei comuni senza servizi educativi pomeridiani."),
    ("poverta-e-inclusione", 0, "third_sector", True, "Emporio solidale dell'Ambito",
     "Un emporio solidale con tessera a punti per le famiglie seguite dai servizi sociali."),
    ("immigrazione", 0, "citizen", False, "Corsi di italiano serali",
     "Corsi di italiano la sera, per chi lavora di giorno."),
    ("disabilita", 0, "coop", True, "Appartamento per l'autonomia a Narni",
     "Un appartamento palestra per sperimentare la vita indipendente, con educatori a ore."),
]

COMMENTS = [
    # (proposal index, author key, stance, body, reply to comment index or None)
    (0, "citizen", "in_favour", "Mia madre ne avrebbe bisogno: il sabato restiamo sempre soli.", None),
    (0, "union", "in_favour", "Condividiamo, purché il servizio resti pubblico e con personale stabile.", None),
    (0, "coop", None, "Grazie: il costo è stimato nella scheda allegata al verbale.", 1),
    (1, "volunteer", "in_favour", "I nostri volontari sono disponibili a partecipare.", None),
    (2, "public_body", "neutral", "Va coordinato con il servizio di trasporto dell'Azienda USL.", None),
    (3, "citizen", "against", "Meglio rafforzare gli spazi già esistenti ad Amelia.", None),
]

VOTES = [
    # (proposal index, voter key, value)
    (0, "citizen", "for"), (0, "union", "for"), (0, "volunteer", "for"), (0, "aps", "abstain"),
    (1, "citizen", "for"), (1, "coop", "for"), (1, "public_body", "against"),
    (2, "union", "for"), (2, "coop", "for"), (2, "third_sector", "for"),
    (3, "citizen", "against"), (3, "volunteer", "for"),
    (5, "citizen", "for"), (5, "union", "for"),
]

EXTRA_PEOPLE = [
    # key, e-mail, name, organisation index in ORGANISATIONS
    ("union", "sindacato@consulta.example", "Paolo Santini", 0),
    ("volunteer", "volontariato@consulta.example", "Anna Marchetti", 2),
    ("aps", "aps@consulta.example", "Luca Bernardini", 3),
    ("third_sector", "fondazione@consulta.example", "Elena Proietti", 4),
    ("public_body", "asl@consulta.example", "Roberto Mancini", 5),
]


def _load_participation(plan, orgs, accounts, comuni) -> None:
    """Objectives, proposals, comments and votes, so a newcomer sees a living consultation."""
    from consulta.comments.models import Comment
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Follow, Objective, ObjectiveRevision
    from consulta.votes.models import Vote

    now = utcnow()
    facilitator = accounts["facilitatrice@consulta.example"]
    people = {
        "coop": accounts["coop@consulta.example"],
        "citizen": accounts["cittadino@consulta.example"],
    }
    org_of = {"coop": orgs[1]}
    for key, email, name, org_index in EXTRA_PEOPLE:
        person = create_user(email=email, display_name=name, password=DEMO_PASSWORD,
                             registered_as=RegisteredAs.representative, comune_id=comuni["Narni"].id,
                             verified=True, check_password=False)
        db.session.add(Membership(user_id=person.id, organisation_id=orgs[org_index].id, is_representative=True,
                                  status=MembershipStatus.active, decided_at=now))
        people[key] = person
        org_of[key] = orgs[org_index]
    db.session.flush()

    tavoli = {t.slug: t for t in plan.tavoli}
    objectives: dict[str, list[Objective]] = {}
    for slug, items in OBJECTIVES.items():
        for position, (title, body) in enumerate(items):
            objective = Objective(
                tavolo_id=tavoli[slug].id, title=title, body=body, body_html=render_markdown(body),
                status="published", position=position, created_by_id=facilitator.id,
                published_at=now - timedelta(days=10),
            )
            objective.revisions.append(ObjectiveRevision(
                number=1, title=title, body=body, edited_by_id=facilitator.id, edited_at=now - timedelta(days=10)))
            db.session.add(objective)
            objectives.setdefault(slug, []).append(objective)
    db.session.flush()

    proposals = []
    for age, (slug, objective_index, who, on_behalf, title, body) in enumerate(PROPOSALS):
        author = people[who]
        org = org_of.get(who) if on_behalf else None
        created = now - timedelta(days=8 - age, hours=age)
        proposal = Proposal(
            tavolo_id=tavoli[slug].id,
            objective_id=objectives[slug][objective_index].id if objective_index is not None else None,
            author_id=author.id, organisation_id=org.id if org else None,
            category=org.type if org else "citizen", title=title, body=body, body_html=render_markdown(body),
            state="published", visibility="visible", created_at=created, updated_at=created, published_at=created,
        )
        db.session.add(proposal)
        proposals.append(proposal)
    db.session.flush()
    for proposal in proposals:
        db.session.add(Follow(user_id=proposal.author_id, proposal_id=proposal.id))
    db.session.add(Follow(user_id=people["citizen"].id, tavolo_id=tavoli["anziani"].id))

    comments = []
    for n, (proposal_index, who, stance, body, reply_to) in enumerate(COMMENTS):
        proposal = proposals[proposal_index]
        org = org_of.get(who)
        comment = Comment(
            tavolo_id=proposal.tavolo_id, proposal_id=proposal.id, author_id=people[who].id,
            organisation_id=org.id if org else None, category=org.type if org else "citizen",
            stance=stance, body=body, body_html=render_markdown(body),
            parent_id=comments[reply_to].id if reply_to is not None else None,
            created_at=now - timedelta(days=5, hours=-n),
        )
        db.session.add(comment)
        db.session.flush()
        comments.append(comment)

    for proposal_index, who, value in VOTES:
        proposal = proposals[proposal_index]
        tavolo = tavoli[PROPOSALS[proposal_index][0]]
        org = org_of.get(who)
        by_org = tavolo.vote_mode == VoteMode.organisation and org is not None
        db.session.add(Vote(
            tavolo_id=tavolo.id, proposal_id=proposal.id,
            ballot_key=f"organisation:{org.id}" if by_org else f"person:{people[who].id}",
            voter_id=people[who].id, organisation_id=org.id if org else None,
            category=org.type if org else "citizen", value=value,
        ))
    db.session.flush()


def demo_user(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
