"""Benchmark data: the demo Ambito, then a consultation at scale in one big tavolo.

    .venv/bin/python -m bench.data --scale 5000 [--database-url URL] [--reset]

The schema comes from the migrations (`flask db upgrade`, as a deployment makes it). On top of the
demo (`load_demo()`: comuni, organisations, six tavoli, meetings with approved minutes, the plan
record adopted and monitored), for a scale of N proposals:

* organisations of every category (N / 50, at least two per category), most verified;
* 2 × N participants, one representative and one member per organisation, the rest citizens;
  a few unverified or blocked;
* one big open, post-moderated tavolo with three published objectives and the N proposals:
  most published, some under evaluation, answered, merged, hidden or withdrawn, with the audit
  events, follows and notifications the operations would have written;
* about 3 votes and 1.6 comments per proposal (a quarter of the comments are replies), and one
  proposal with 300 comments; every comment notifies the proposal's followers as the app does;
* twenty participants who started following the big tavolo a week ago, notified of every proposal
  published since;
* an aggiornamento of the plan record that brings it to about 100 actions, with budget lines,
  indicators and origins (decisions of the demo's minutes), through the record's own operations.

The few structural rows go through the domain operations; the volume is inserted in bulk with
SQLAlchemy Core (executemany), with the values the operations would store: sanitised HTML rendered by
`render_markdown`, categories snapshotted from the author's organisation, ballots keyed per person.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from itertools import cycle

from sqlalchemy import bindparam, func, insert, select, update

SCALES = (500, 5000, 50000)
TAVOLO_SLUG = "servizi-sociali-di-comunita"
PASSWORD = "consulta-bench-2025"
BUSY_COMMENTS = 300
PLAN_ACTIONS = 100
TAVOLO_FOLLOWERS = 20
FOLLOWED_DAYS_AGO = 7
SPAN_DAYS = 90
BATCH = 5000

FIRST_NAMES = ["Giulia", "Marco", "Francesca", "Luca", "Chiara", "Andrea", "Sara", "Matteo", "Elena", "Paolo",
               "Anna", "Davide", "Laura", "Stefano", "Marta", "Giorgio", "Silvia", "Roberto", "Ilaria", "Fabio",
               "Valentina", "Simone", "Federica", "Alessandro", "Rita", "Samir", "Amina", "Ion", "Fatima", "Wei"]
LAST_NAMES = ["Rossi", "Bianchi", "Ferri", "Moretti", "Galli", "Conti", "Ricci", "Fabbri", "Marchetti", "Santini",
              "Proietti", "Mancini", "Lucci", "Petrini", "Cardinali", "Paolucci", "Tomassini", "Renzi", "Pompili",
              "Mattioli", "Bernardini", "Sensini", "Fratini", "Cerquiglini", "Haddad", "Popescu", "Benali"]
ORG_NAMES = {
    "union": "Lega sindacale",
    "social_coop": "Cooperativa sociale",
    "volunteer": "Associazione di volontariato",
    "aps": "APS",
    "third_sector_other": "Fondazione",
    "public_body": "Istituto comprensivo",
    "other": "Comitato di quartiere",
}
ORG_WORDS = ["Il Ponte", "La Rondine", "Il Cerchio", "Arcobaleno", "Insieme", "La Quercia", "Il Faro", "Orizzonti",
             "Mani Aperte", "Il Girasole", "La Tenda", "Porta Aperta", "Il Melograno", "Terra Buona"]
VERBS = ["Potenziare", "Estendere", "Attivare", "Sostenere", "Coordinare", "Aprire", "Rafforzare", "Garantire",
         "Sperimentare", "Riorganizzare", "Finanziare", "Promuovere"]
OBJECTS = ["l'assistenza domiciliare", "il trasporto sociale", "lo sportello di ascolto", "i centri diurni",
           "il doposcuola", "la mediazione culturale", "il servizio pasti", "la telefonia sociale",
           "gli orti sociali", "il sostegno ai caregiver", "i tirocini di inclusione", "la ludoteca",
           "il custode sociale", "i gruppi di auto-mutuo aiuto", "l'accoglienza notturna", "l'emporio solidale",
           "lo sportello casa", "i corsi di italiano", "il centro per le famiglie", "l'educativa di strada"]
PARAGRAPHS = [
    "Nel nostro comune molte persone anziane vivono sole e non hanno parenti vicini: chiediamo un servizio "
    "che le raggiunga **almeno una volta a settimana**.",
    "Il servizio esiste già a Narni, ma nei comuni più piccoli non arriva: basterebbe una persona in più "
    "per coprire i borghi.",
    "Proponiamo di lavorare con le associazioni di volontariato del territorio, che conoscono le famiglie e "
    "possono segnalare chi ha bisogno.",
    "Le famiglie che assistono un familiare non autosufficiente chiedono *qualche ora di sollievo* e un punto "
    "di riferimento stabile.",
    "Servono orari compatibili con chi lavora: il pomeriggio tardi e il sabato mattina.",
    "Il costo stimato è contenuto e può essere coperto in parte con il Fondo nazionale politiche sociali.",
    "Chiediamo che il servizio sia accessibile anche a chi non parla bene l'italiano, con materiali tradotti.",
    "- prenotazione per telefono\n- un referente per comune\n- una verifica dopo sei mesi",
    "Nel quartiere mancano spazi per i ragazzi il pomeriggio: una sala comunale è inutilizzata da anni.",
    "Molti non conoscono i servizi a cui hanno diritto: serve uno sportello informativo nei comuni.",
]
COMMENTS = [
    "Sono d'accordo: nel mio comune ne avremmo bisogno.",
    "Serve però un coordinamento con i servizi dell'Azienda USL, per non sovrapporre gli interventi.",
    "Quanto costerebbe? Bisognerebbe capire con quali fondi.",
    "La nostra associazione è disponibile a collaborare con i volontari.",
    "Meglio rafforzare i servizi che già esistono invece di aprirne di nuovi.",
    "Mia madre ne avrebbe avuto bisogno l'anno scorso: **ottima proposta**.",
    "Attenzione agli orari: chi lavora non riesce ad andarci la mattina.",
    "Si potrebbe partire in via sperimentale in due comuni e poi estendere.",
    "Nei borghi il problema principale resta il trasporto.",
    "Condivido, purché il servizio resti pubblico e con personale stabile.",
]
OBJECTIVES = [
    ("Servizi vicini a casa in ogni comune",
     "Portare i servizi sociali nei comuni più piccoli con sportelli itineranti e presenze settimanali."),
    ("Un punto unico di accesso ai servizi",
     "Un solo sportello, fisico e telefonico, che orienti le persone fra i servizi sociali e sociosanitari."),
    ("Più partecipazione delle comunità locali",
     "Coinvolgere associazioni, cooperative e cittadini nella progettazione e nella verifica dei servizi."),
]
HIDE_REASONS = ("off_topic", "spam", "personal_data")
ANSWER = ("La proposta è stata valutata dal tavolo: {outcome}. Le risorse disponibili per il prossimo anno "
          "sono indicate nel piano; il tavolo ne verificherà l'attuazione.")


@dataclass
class Generated:
    """What pages.py and the tests need to find in the generated data."""

    scale: int
    tavolo_slug: str
    plan_id: int
    busy_proposal_id: int
    proposals: int
    participants: int
    organisations: int
    votes: int
    comments: int
    notifications: int
    plan_actions: int


def _insert(table, rows: list[dict], *, returning=None) -> list:
    """Bulk INSERT in batches (executemany); with `returning`, the new ids in the order of `rows`."""
    from consulta.extensions import db

    ids: list = []
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        if returning is None:
            db.session.execute(insert(table), chunk)
        else:
            stmt = insert(table).returning(returning, sort_by_parameter_order=True)
            ids.extend(db.session.execute(stmt, chunk).scalars())
    return ids


class _Steps:
    def __init__(self, say: Callable[[str], None]):
        self.say = say
        self.started = self.last = time.perf_counter()

    def done(self, what: str) -> None:
        now = time.perf_counter()
        self.say(f"  {what} ({now - self.last:.1f} s)")
        self.last = now


def generate(scale: int, *, busy_comments: int = BUSY_COMMENTS, plan_actions: int = PLAN_ACTIONS, seed: int = 2025,
             say: Callable[[str], None] = lambda line: None) -> Generated:
    """Fill an empty database (schema already created) for `scale` proposals. Flushes; the caller commits.

    `busy_comments` and `plan_actions` are smaller only in the tests."""
    from argon2 import PasswordHasher

    from consulta.accounts.models import User
    from consulta.ambito.models import Comune
    from consulta.comments.models import Comment
    from consulta.core.audit import AuditEvent
    from consulta.core.db import utcnow
    from consulta.core.notify import Notification
    from consulta.core.text import render_markdown
    from consulta.demo import load_demo
    from consulta.extensions import db
    from consulta.organisations.models import Membership, Organisation
    from consulta.plan.models import Plan
    from consulta.proposals.models import Proposal
    from consulta.tavoli import operations as tavoli_ops
    from consulta.tavoli.models import Follow
    from consulta.votes.models import Vote

    if scale < 20:
        raise ValueError("scale must be at least 20 proposals")
    rng = random.Random(seed)
    steps = _Steps(say)
    now = utcnow()
    start = now - timedelta(days=SPAN_DAYS)

    if not load_demo():
        raise RuntimeError("the database already holds an Ambito: generate into an empty database")
    steps.done("demo Ambito (operations)")
    admin = db.session.execute(select(User).where(User.email == "admin@consulta.example")).scalar_one()
    facilitator = db.session.execute(select(User).where(User.email == "facilitatrice@consulta.example")).scalar_one()
    plan = Plan.current()
    comune_ids = list(db.session.execute(select(Comune.id).order_by(Comune.id)).scalars())

    # --- the big tavolo and its objectives, through the operations
    tavolo = tavoli_ops.create_tavolo(
        plan, admin, title="Servizi sociali di comunità", slug=TAVOLO_SLUG, area="Servizi di comunità",
        description="Il tavolo aperto a tutti sui servizi sociali di prossimità: **sportelli**, trasporto, "
                    "domiciliarità e partecipazione nei dodici comuni dell'Ambito.",
        facilitator_ids=[facilitator.id], deadline=now + timedelta(days=30), moderation="post",
        vote_mode="person", quorum=None)
    tavoli_ops.change_phase(tavolo, "open", admin)
    objective_ids = []
    for title, body in OBJECTIVES:
        objective = tavoli_ops.create_objective(tavolo, facilitator, title=title, body=body)
        tavoli_ops.change_objective_status(objective, "published", facilitator)
        objective_ids.append(objective.id)
    db.session.flush()
    steps.done("big tavolo and objectives (operations)")

    # --- organisations of every category
    categories = list(ORG_NAMES)
    n_orgs = max(2 * len(categories), scale // 50)
    org_rows, org_status = [], []
    for n in range(n_orgs):
        kind = categories[n % len(categories)]
        status = "pending" if n % 20 == 19 else "rejected" if n % 25 == 24 else "verified"
        org_status.append(status)
        org_rows.append({
            "name": f"{ORG_NAMES[kind]} {ORG_WORDS[n % len(ORG_WORDS)]} {n + 1}", "type": kind,
            "tax_code": _tax_code(n), "comune_id": comune_ids[n % len(comune_ids)], "status": status,
            "verified_at": start - timedelta(days=10) if status == "verified" else None,
            "verified_by_id": admin.id if status == "verified" else None,
            "rejection_reason": "Codice fiscale non corrispondente all'ente indicato." if status == "rejected" else None,
            "created_at": start - timedelta(days=20), "created_by_id": admin.id,
        })
    org_ids = _insert(Organisation.__table__, org_rows, returning=Organisation.__table__.c.id)
    steps.done(f"{n_orgs:,} organisations")

    # --- participants: a representative and a member per organisation, then citizens
    password_hash = PasswordHasher().hash(PASSWORD)
    n_people = 2 * scale
    people, user_rows = [], []
    for i in range(n_people):
        org = i % n_orgs if i < 2 * n_orgs else None
        verified = i % 37 != 36
        blocked = verified and i % 211 == 210
        created = start - timedelta(days=30) + timedelta(seconds=rng.randrange(30 * 86400))
        user_rows.append({
            "email": f"partecipante{i:06d}@bench.example", "password_hash": password_hash,
            "display_name": f"{FIRST_NAMES[i % len(FIRST_NAMES)]} {LAST_NAMES[(i // 7) % len(LAST_NAMES)]}",
            "role": "participant", "registered_as": "representative" if org is not None else "citizen",
            "comune_id": comune_ids[i % len(comune_ids)] if i % 9 else None,
            "email_verified_at": created + timedelta(minutes=5) if verified else None,
            "blocked_at": now - timedelta(days=3) if blocked else None,
            "blocked_reason": "Messaggi offensivi ripetuti." if blocked else None,
            "digest_frequency": ("weekly", "weekly", "daily", "off")[i % 4], "locale": "en" if i % 10 == 9 else "it",
            "privacy_consent_at": created, "session_version": 1, "created_at": created,
        })
        active_rep = org is not None and i < n_orgs and org_status[org] == "verified"
        people.append({"org": org, "representative": i < n_orgs, "active": verified and not blocked,
                       "org_id": org_ids[org] if active_rep else None,
                       "category": categories[org % len(categories)] if active_rep else "citizen",
                       "name": user_rows[-1]["display_name"]})
    user_ids = _insert(User.__table__, user_rows, returning=User.__table__.c.id)
    for person, uid in zip(people, user_ids, strict=True):
        person["id"] = uid
    membership_rows = []
    for i, person in enumerate(people[:2 * n_orgs]):
        status = {"verified": "active", "pending": "pending", "rejected": "rejected"}[org_status[person["org"]]]
        membership_rows.append({
            "user_id": person["id"], "organisation_id": org_ids[person["org"]], "is_representative": i < n_orgs,
            "status": status, "requested_at": start - timedelta(days=20),
            "decided_at": start - timedelta(days=10) if status != "pending" else None,
            "decided_by_id": admin.id if status != "pending" else None,
            "rejection_reason": "L'organizzazione non è stata verificata." if status == "rejected" else None,
        })
    _insert(Membership.__table__, membership_rows)
    active = [p for p in people if p["active"]]
    steps.done(f"{n_people:,} participants and {len(membership_rows):,} memberships")

    # --- the proposals, with what submitting, publishing and the facilitator's acts leave behind
    bodies = ["\n\n".join(rng.sample(PARAGRAPHS, rng.randint(2, 4))) for _ in range(48)]
    bodies_html = [render_markdown(b) for b in bodies]
    busy_index = scale // 2
    proposal_rows, plans = [], []
    step = (now - timedelta(days=1) - start) / scale
    for i in range(scale):
        author = active[rng.randrange(len(active))]
        created = start + step * i + timedelta(seconds=rng.randrange(60))
        roll = rng.random()
        fate = ("published" if i == busy_index or roll < 0.78 else "under_review" if roll < 0.86
                else "answered" if roll < 0.955 else "merged" if roll < 0.96 and i > 0 else "hidden" if roll < 0.98
                else "withdrawn")
        body = rng.randrange(len(bodies))
        objective_id = objective_ids[i % 3] if i % 3 != 0 or i % 2 else None
        title = f"{VERBS[rng.randrange(len(VERBS))]} {OBJECTS[rng.randrange(len(OBJECTS))]}"
        if i % 4 == 0:
            title += f" a {('Narni', 'Amelia', 'Otricoli', 'Giove', 'Alviano', 'Guardea')[i % 6]}"
        row = {
            "tavolo_id": tavolo.id, "objective_id": objective_id, "author_id": author["id"],
            "organisation_id": author["org_id"], "category": author["category"], "title": title,
            "body": bodies[body], "body_html": bodies_html[body], "channel": "online", "state": "published",
            "visibility": "visible", "hidden_reason": None, "hidden_by_flags": False, "answer": None,
            "answer_html": None, "answered_by_id": None, "answered_at": None, "merged_into_id": None,
            "created_at": created, "updated_at": created, "published_at": created + timedelta(seconds=1),
        }
        acted = created + timedelta(days=rng.uniform(0.5, 20))
        acted = min(acted, now - timedelta(hours=1))
        if fate == "under_review":
            row.update(state="under_review", updated_at=acted)
        elif fate in ("answered", "merged"):
            outcome = "merged" if fate == "merged" else ("approved", "partially_approved", "rejected")[i % 3]
            answer = ANSWER.format(outcome={"approved": "accolta", "partially_approved": "accolta in parte",
                                            "rejected": "non accolta", "merged": "unita a una proposta simile"}[outcome])
            row.update(state=outcome, answer=answer, answer_html=render_markdown(answer),
                       answered_by_id=facilitator.id, answered_at=acted, updated_at=acted)
        elif fate == "hidden":
            row.update(visibility="hidden", hidden_reason=_hide_text(HIDE_REASONS[i % 3]), updated_at=acted)
        elif fate == "withdrawn":
            row.update(state="withdrawn", updated_at=acted)
        proposal_rows.append(row)
        plans.append((fate, acted))
    # A merge points at an earlier proposal that stays open.
    targets: dict[int, int] = {}
    for i, (fate, _acted) in enumerate(plans):
        if fate == "merged":
            target = next((j for j in range(i - 1, -1, -1) if plans[j][0] == "published"), None)
            if target is None:
                plans[i] = ("published", plans[i][1])
                proposal_rows[i].update(state="published", answer=None, answer_html=None, answered_by_id=None,
                                        answered_at=None)
            else:
                targets[i] = target
                # The target's id is known after the INSERT: state and target are set together below.
                proposal_rows[i]["state"] = "published"
    proposal_ids = _insert(Proposal.__table__, proposal_rows, returning=Proposal.__table__.c.id)
    if targets:
        table = Proposal.__table__
        db.session.execute(
            update(table).where(table.c.id == bindparam("pid"))
            .values(state="merged", merged_into_id=bindparam("target")),
            [{"pid": proposal_ids[i], "target": proposal_ids[j]} for i, j in targets.items()])
    steps.done(f"{scale:,} proposals")

    audit_rows, follow_rows, notes = [], [], []
    for i, (row, pid) in enumerate(zip(proposal_rows, proposal_ids, strict=True)):
        fate, acted = plans[i]
        author_id = row["author_id"]
        base = {"subject_type": "proposal", "subject_id": pid, "tavolo_id": tavolo.id, "reason": None}
        audit_rows.append({**base, "at": row["created_at"], "actor_id": author_id, "action": "proposal.submit",
                           "changes": {"title": [None, row["title"]], "organisation_id": [None, row["organisation_id"]],
                                       "objective_id": [None, row["objective_id"]]}})
        audit_rows.append({**base, "at": row["published_at"], "actor_id": author_id, "action": "proposal.publish",
                           "changes": {"state": ["submitted", "published"], "visibility": ["pending", "visible"]}})
        follow_rows.append({"user_id": author_id, "tavolo_id": None, "proposal_id": pid,
                            "created_at": row["created_at"]})
        note = {"user_id": author_id, "subject_type": "proposal", "subject_id": pid, "tavolo_id": tavolo.id,
                "created_at": acted, "data": {"title": row["title"]}}
        if fate in ("under_review", "answered"):
            audit_rows.append({**base, "at": acted, "actor_id": facilitator.id, "action": "proposal.review",
                               "changes": {"state": ["published", "under_review"]}})
        if fate == "under_review":
            notes.append({**note, "event": "proposal.under_review"})
        elif fate == "answered":
            audit_rows.append({**base, "at": acted, "actor_id": facilitator.id, "action": "proposal.answer",
                               "changes": {"state": ["under_review", row["state"]],
                                           "answer_length": len(row["answer"])}})
            notes.append({**note, "event": "proposal.answered", "data": {"title": row["title"],
                                                                        "outcome": row["state"]}})
        elif fate == "merged":
            target = proposal_rows[targets[i]]
            target_id = proposal_ids[targets[i]]
            audit_rows.append({**base, "at": acted, "actor_id": facilitator.id, "action": "proposal.merge",
                               "changes": {"state": ["published", "merged"], "merged_into_id": [None, target_id],
                                           "answer_length": len(row["answer"])}})
            notes.append({**note, "event": "proposal.merged", "data": {
                "title": row["title"], "target_id": target_id, "target_title": target["title"]}})
        elif fate == "hidden":
            code = HIDE_REASONS[i % 3]
            audit_rows.append({**base, "at": acted, "actor_id": facilitator.id, "action": "proposal.hide",
                               "changes": {"visibility": ["visible", "hidden"], "reason_code": code},
                               "reason": row["hidden_reason"]})
            notes.append({**note, "event": "proposal.hidden", "data": {"title": row["title"],
                                                                      "reason": row["hidden_reason"]}})
        elif fate == "withdrawn":
            audit_rows.append({**base, "at": acted, "actor_id": author_id, "action": "proposal.withdraw",
                               "changes": {"state": ["published", "withdrawn"]}})
    steps.done("audit events, follows and notices of the proposals (built)")

    # Withdrawn, merged and hidden proposals take votes and comments only until then.
    closes = [acted if fate in ("withdrawn", "merged", "hidden") else now - timedelta(minutes=1)
              for fate, acted in plans]

    # --- votes: about three ballots per proposal, by person (the tavolo votes per person)
    vote_rows = []
    for i, (row, pid) in enumerate(zip(proposal_rows, proposal_ids, strict=True)):
        k = rng.choices(range(8), weights=(10, 12, 18, 20, 16, 12, 7, 5))[0]
        for voter in rng.sample(active, k):
            at = min(row["published_at"] + timedelta(seconds=rng.randrange(86400 * 5)), closes[i])
            vote_rows.append({
                "tavolo_id": tavolo.id, "proposal_id": pid, "objective_id": None,
                "ballot_key": f"person:{voter['id']}", "voter_id": voter["id"], "organisation_id": None,
                "category": voter["category"],
                "value": rng.choices(("for", "against", "abstain"), weights=(60, 25, 15))[0],
                "created_at": at, "updated_at": at,
            })
    _insert(Vote.__table__, vote_rows)
    steps.done(f"{len(vote_rows):,} votes")

    # --- comments: about 1.6 per proposal, a quarter of them replies; one proposal with 300
    comment_html = [render_markdown(c) for c in COMMENTS]
    top, replies = [], []
    for i, (row, pid) in enumerate(zip(proposal_rows, proposal_ids, strict=True)):
        if i == busy_index:
            k = busy_comments
        else:
            k = rng.choices((0, 1, 2, 3, 4, 6), weights=(30, 25, 20, 12, 8, 5))[0]
        moment = row["published_at"]
        for n in range(k):
            author = active[rng.randrange(len(active))]
            moment = min(moment + timedelta(minutes=rng.randrange(5, 600)), closes[i] - timedelta(seconds=k - n))
            text = rng.randrange(len(COMMENTS))
            comment = {
                "tavolo_id": tavolo.id, "objective_id": None, "proposal_id": pid, "author_id": author["id"],
                "organisation_id": author["org_id"], "category": author["category"],
                "stance": rng.choice(("in_favour", "in_favour", "neutral", "against", None)),
                "body": COMMENTS[text], "body_html": comment_html[text], "visibility": "visible",
                "hidden_reason": None, "hidden_by_flags": False, "deleted_at": None,
                "created_at": moment, "updated_at": moment, "parent_id": None,
                "_proposal": i, "_author_name": author["name"],
            }
            if n and rng.random() < 0.25:
                comment["stance"] = None
                comment["_parent"] = len(top) - 1 - rng.randrange(min(n, 3)) if top else None
                replies.append(comment)
            else:
                top.append(comment)
    for n, comment in enumerate(top):
        if n % 97 == 96:
            comment.update(visibility="hidden", hidden_reason=_hide_text("off_topic"))
        elif n % 151 == 150:
            comment["deleted_at"] = min(comment["created_at"] + timedelta(hours=1), now)
    top_ids = _insert(Comment.__table__, [_public(c) for c in top], returning=Comment.__table__.c.id)
    for comment in replies:
        parent = top[comment["_parent"]] if comment["_parent"] is not None else None
        if (parent is None or parent["proposal_id"] != comment["proposal_id"] or parent["visibility"] != "visible"
                or parent["deleted_at"] is not None):
            comment["_parent"] = None  # no top-level comment of this proposal to answer: a comment of its own
        else:
            comment["parent_id"] = top_ids[comment["_parent"]]
    reply_ids = _insert(Comment.__table__, [_public(c) for c in replies], returning=Comment.__table__.c.id)
    steps.done(f"{len(top) + len(replies):,} comments")

    # Each public comment tells the proposal's followers (its author), a reply also the parent's author.
    for comment, cid in [*zip(top, top_ids, strict=True), *zip(replies, reply_ids, strict=True)]:
        proposal = proposal_rows[comment["_proposal"]]
        data = {"subject_type": "proposal", "subject_id": comment["proposal_id"],
                "subject_title": proposal["title"], "author_name": comment["_author_name"], "comment_id": cid}
        base = {"subject_type": "comment", "subject_id": cid, "tavolo_id": tavolo.id,
                "created_at": comment["created_at"], "data": data}
        parent_author = None
        if comment.get("_parent") is not None:
            parent_author = top[comment["_parent"]]["author_id"]
            if parent_author != comment["author_id"]:
                notes.append({**base, "user_id": parent_author, "event": "comment.reply"})
        if proposal["author_id"] not in (parent_author, comment["author_id"]):
            notes.append({**base, "user_id": proposal["author_id"], "event": "comment.created"})
        if comment["visibility"] == "hidden":
            audit_rows.append({"at": min(comment["created_at"] + timedelta(hours=2), now), "actor_id": facilitator.id,
                               "action": "comment.hide", "subject_type": "comment", "subject_id": cid,
                               "tavolo_id": tavolo.id, "reason": comment["hidden_reason"],
                               "changes": {"visibility": ["visible", "hidden"], "reason_code": "off_topic"}})
        elif comment["deleted_at"] is not None:
            audit_rows.append({"at": comment["deleted_at"], "actor_id": comment["author_id"],
                               "action": "comment.delete", "subject_type": "comment", "subject_id": cid,
                               "tavolo_id": tavolo.id, "reason": None, "changes": {"deleted": [False, True]}})

    # Twenty participants follow the tavolo since a week: every proposal published since reached them.
    since = now - timedelta(days=FOLLOWED_DAYS_AGO)
    followers = rng.sample(active, TAVOLO_FOLLOWERS)
    for person in followers:
        follow_rows.append({"user_id": person["id"], "tavolo_id": tavolo.id, "proposal_id": None,
                            "created_at": since})
    for row, pid in zip(proposal_rows, proposal_ids, strict=True):
        if row["published_at"] >= since:
            for person in followers:
                if person["id"] != row["author_id"]:
                    notes.append({"user_id": person["id"], "event": "proposal.published", "subject_type": "proposal",
                                  "subject_id": pid, "tavolo_id": tavolo.id, "created_at": row["published_at"],
                                  "data": {"title": row["title"]}})
    # Read on the site after a day, when older than two weeks.
    for note in notes:
        note["read_at"] = note["created_at"] + timedelta(days=1) if note["created_at"] < now - timedelta(days=14) \
            else None
    _insert(AuditEvent.__table__, audit_rows)
    _insert(Follow.__table__, follow_rows)
    _insert(Notification.__table__, notes)
    steps.done(f"{len(audit_rows):,} audit events, {len(follow_rows):,} follows, {len(notes):,} notifications")

    actions = _plan_record(plan, admin, rng, plan_actions)
    steps.done(f"plan record to {actions} actions (operations)")
    # The counters the operations keep (cards, tavolo figures), for the rows inserted in bulk.
    from consulta.stats.recount import recount

    recount()
    steps.done("counters (flask recount)")
    db.session.flush()
    return Generated(
        scale=scale, tavolo_slug=tavolo.slug, plan_id=plan.id, busy_proposal_id=proposal_ids[busy_index],
        proposals=scale, participants=n_people, organisations=n_orgs, votes=len(vote_rows),
        comments=len(top) + len(replies), notifications=len(notes), plan_actions=actions,
    )


def _public(comment: dict) -> dict:
    return {k: v for k, v in comment.items() if not k.startswith("_")}


def _hide_text(code: str) -> str:
    """What a moderator's hide stores: the reason's phrase key (said in the reader's language)."""
    from consulta.core.events import phrase_key

    return phrase_key(f"moderation.{code}")


def _tax_code(n: int) -> str:
    """An 11-digit code of a body, with its check digit (distinct from the demo's)."""
    from stdnum import luhn

    base = f"8{n:06d}055"
    return base + luhn.calc_check_digit(base)


AREAS = [
    ("Servizi di comunità e accesso", "Sportelli, trasporto e punti di accesso nei comuni."),
    ("Lavoro e inclusione attiva", "Tirocini, orientamento e accompagnamento al lavoro."),
]
ACTION_WORDS = ["Sportello", "Servizio", "Progetto", "Laboratorio", "Percorso", "Rete", "Centro", "Programma"]
ACTION_TOPICS = ["di prossimità", "per le famiglie", "di inclusione", "per i giovani", "per gli anziani soli",
                 "di mediazione", "di orientamento", "di comunità", "di sollievo", "di accompagnamento"]


def _plan_record(plan, admin, rng: random.Random, total: int) -> int:
    """An aggiornamento that brings the record to `total` actions, through the operations."""
    from consulta.ambito.models import Comune
    from consulta.extensions import db
    from consulta.meetings.models import Decision, Minutes
    from consulta.plan import record_operations as record_ops
    from consulta.plan.record import PlanAction, PlanArea, PlanInput
    from consulta.tavoli.models import Tavolo

    today = date.today()
    end = date(plan.period_end, 12, 31)
    comuni = list(db.session.execute(select(Comune).order_by(Comune.name)).scalars())
    decisions = list(db.session.execute(
        select(Decision).join(Minutes).join(PlanInput, PlanInput.decision_id == Decision.id)
        .where(Minutes.status == "approved").distinct().order_by(Decision.id)).scalars())
    record_ops.open_aggiornamento(plan, admin, reason="Nuove azioni dai tavoli del secondo anno.")
    tavolo = db.session.execute(select(Tavolo).where(Tavolo.slug == TAVOLO_SLUG)).scalar_one()
    for title, description in AREAS:
        record_ops.create_area(plan, admin, title=title, description=description, tavoli=[tavolo])
    areas = list(db.session.execute(select(PlanArea).where(PlanArea.plan_id == plan.id)
                                    .order_by(PlanArea.position, PlanArea.id)).scalars())
    have = db.session.scalar(select(func.count()).select_from(PlanAction).where(PlanAction.plan_id == plan.id))
    objectives = []
    for n, area in enumerate(areas):
        for k in range(3):
            objectives.append(record_ops.create_objective(
                area, admin, title=f"Obiettivo {n + 1}.{k + 1}: servizi {ACTION_TOPICS[(n + k) % 10]}",
                description="Un obiettivo dell'aggiornamento: **più servizi**, più vicini alle persone."))
    sources = ("fnps", "fna", "fondo_poverta", "comunali", "fse_plus", "pnrr")
    made = 0
    for n, objective in zip(range(total - have), cycle(objectives), strict=False):
        all_comuni = n % 3 != 0
        fields = record_ops.ActionFields(
            title=f"{ACTION_WORDS[n % len(ACTION_WORDS)]} {ACTION_TOPICS[n % len(ACTION_TOPICS)]} n. {n + 1}",
            description="Un'azione dell'aggiornamento con **operatori dedicati** e una verifica a metà anno.",
            beneficiaries="Persone e famiglie seguite dai servizi sociali", responsible_body="Comune capofila",
            start_date=today, end_date=end, all_comuni=all_comuni,
            comuni=[] if all_comuni else rng.sample(comuni, 3))
        chosen = [decisions[n % len(decisions)]] if decisions and n % 4 == 0 else []
        action = record_ops.create_action(objective, admin, fields, decisions=chosen)
        for year in range(plan.period_start + 1, plan.period_end + 1):
            record_ops.add_budget_line(action, admin, amount=Decimal(rng.randrange(5, 120) * 1000),
                                       funding_source=sources[(n + year) % len(sources)], year=year)
        record_ops.add_indicator(action, admin, name="Persone raggiunte", unit="persone",
                                 baseline=Decimal(0), target=Decimal(rng.randrange(20, 400)))
        made += 1
    record_ops.close_aggiornamento(plan, admin, reference=None, approval_date=None)
    return have + made


# --------------------------------------------------------------------------- command line

def database_is_empty() -> bool:
    from sqlalchemy import inspect, text

    from consulta.extensions import db

    if not inspect(db.engine).has_table("user"):
        return True
    return db.session.execute(text('SELECT 1 FROM "user" LIMIT 1')).first() is None


def reset_schema() -> None:
    """Drop every table (and Alembic's) so that the migrations start from nothing."""
    from sqlalchemy import MetaData

    from consulta.extensions import db

    db.session.remove()
    existing = MetaData()
    existing.reflect(db.engine)
    existing.drop_all(db.engine)


def create_tables(reset: bool) -> bool:
    """The models' tables, empty, for a benchmark that needs no migrations; False (said on stderr) when the
    database holds data and `reset` was not given."""
    from consulta.extensions import db

    if not database_is_empty():
        if not reset:
            print("The database is not empty: use a dedicated one, or --reset to wipe it.", file=sys.stderr)
            return False
    reset_schema()
    db.create_all()
    return True


def production_app(database_url: str):
    """Consulta as gunicorn runs it in production (CONSULTA_CONFIG=production), on `database_url`."""
    from bench.servers import production_environment

    os.environ.update(production_environment(database_url))
    from consulta import create_app

    return create_app()


def build(database_url: str, scale: int, *, reset: bool = False, say=print) -> Generated:
    """Create the schema with the migrations and fill it; refuses a non-empty database unless `reset`."""
    from flask_migrate import upgrade

    from consulta.extensions import db

    app = production_app(database_url)
    with app.app_context():
        if not database_is_empty():
            if not reset:
                raise SystemExit("The database is not empty: use a dedicated one, or --reset to wipe it.")
            reset_schema()
        elif reset:
            reset_schema()
        started = time.perf_counter()
        upgrade()
        say(f"  schema (flask db upgrade) ({time.perf_counter() - started:.1f} s)")
        generated = generate(scale, say=say)
        db.session.commit()
        analyse(db.engine)
        say(f"generated {scale:,} proposals in {time.perf_counter() - started:.1f} s")
        db.engine.dispose()
    return generated


def analyse(engine) -> None:
    """Refresh the planner's statistics (and, on PostgreSQL, clear the dead rows the recount's updates left),
    as autovacuum does on a database in service: without them the planner thinks the big tavolo holds a
    dozen rows and sorts all of them instead of reading the listing's index in order."""
    with engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("VACUUM ANALYZE")
        else:
            conn.exec_driver_sql("ANALYZE")
            conn.commit()


def main(argv: list[str] | None = None) -> int:
    from bench.servers import database_url

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scale", type=int, default=5000, help="proposals in the big tavolo (500, 5000, 50000)")
    parser.add_argument("--database-url", help="default: bench/out/consulta-<scale>.sqlite3")
    parser.add_argument("--reset", action="store_true", help="drop every table of a non-empty database first")
    args = parser.parse_args(argv)
    if args.scale < 20:
        parser.error("--scale must be at least 20")
    url = args.database_url or database_url("sqlite", args.scale)
    generated = build(url, args.scale, reset=args.reset)
    print(generated)
    return 0


if __name__ == "__main__":
    sys.exit(main())
