"""One definition of "may act": a blocked or unverified account has no power anywhere, admins included.

The routes are not listed by hand: every POST route of the facilitation (`/facilitazione/`) and admin
(`/gestione/`) areas, plus the tavolo-management routes outside them, is read from `app.url_map` and
replayed with real ids from a world built by the factories, a valid CSRF token and a plausible form.
Blocking ends every open session (tests/admin/test_admin_users.py); a blocked person may still log in
to read, and then every one of these POSTs answers 403 and nothing in the database changes.
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from consulta.accounts import operations as accounts_ops
from consulta.admin import operations as admin_ops
from consulta.digests.models import OutboxEmail
from consulta.extensions import db
from consulta.organisations import operations as org_ops
from consulta.plan import record_operations as record_ops

from .factories import DEFAULT_PASSWORD, build_admin, build_ambito

POWER_PREFIXES = ("/facilitazione/", "/gestione/")
# Tavolo management that lives beside the public tavolo pages.
POWER_ENDPOINTS_ELSEWHERE = {"meetings.member_accept", "meetings.member_reject", "meetings.member_leave"}

# A form that would pass most of these routes' validation if the permission check let it through.
PLAUSIBLE_FORM = {
    "title": "Titolo di prova", "body": "Testo di prova.", "description": "Descrizione.", "text": "Testo.",
    "reason": "off_topic", "note": "Nota.", "motivation": "Motivazione di prova.", "outcome": "approved",
    "phase": "closed", "status": "approved", "role": "admin", "name": "Nome", "unit": "persone",
    "target": "10", "baseline": "1", "amount": "100.00", "funding_source": "fnps", "year": "2025",
    "agenda_items": "Apertura", "agenda": "- Apertura", "place": "Sala", "method": "consensus",
    "starts_at": "2030-01-01T10:00", "deliberation_number": "12", "deliberation_date": "2026-01-10",
    "channel": "paper", "protocol_number": "123", "author_name": "Mario Rossi", "blocked_reason": "Spam",
    "beneficiaries": "Anziani", "responsible_body": "Comune", "all_comuni": "y", "slug": "nuovo-tavolo",
    "area": "Anziani", "moderation": "post", "vote_mode": "person", "period_start": "2025",
    "period_end": "2027", "progress": "50", "confirm": "y",
}


def power_routes(app):
    rules = [rule for rule in app.url_map.iter_rules()
             if "POST" in rule.methods and (rule.rule.startswith(POWER_PREFIXES)
                                            or rule.endpoint in POWER_ENDPOINTS_ELSEWHERE)]
    return sorted(rules, key=lambda rule: rule.rule)


def snapshot() -> dict[str, list[tuple]]:
    """Every row of every table, as text: what "nothing changed" compares."""
    db.session.expire_all()
    tables = {}
    for table in db.metadata.sorted_tables:
        rows = db.session.execute(select(table)).all()
        tables[table.name] = sorted(tuple(str(value) for value in row) for row in rows)
    return tables


@pytest.fixture
def world(scene, create_comune, create_user, create_plan, create_tavolo, create_organisation, create_proposal,
          create_objective, create_meeting, create_minutes, create_seat, approve_decisions):
    """One of everything a facilitator or an admin acts on, all in one plan and one tavolo, in the Ambito
    (a scene: built once through the operations, inserted again)."""

    def build():
        build_ambito(create_comune)
        admin_user = build_admin(create_user)
        facilitator = create_user(email="fabio@example.org", display_name="Fabio Facilitatore", role="facilitator")
        subject_facilitator = create_user(email="franca@example.org", display_name="Franca Facilitatrice",
                                          role="facilitator")
        plan = create_plan(status="consulting")
        tavolo = create_tavolo(plan=plan, slug="anziani", phase="discussion", moderation="pre",
                               facilitators=[facilitator, subject_facilitator])
        author = create_user(email="anna@example.org", display_name="Anna Autrice")
        pending = create_proposal(tavolo, author, title="In attesa di moderazione", state="submitted")
        published = create_proposal(tavolo, author, title="Pubblicata")
        decided = create_proposal(tavolo, author, title="Decisa in un verbale")
        objective = create_objective(tavolo)
        seat = create_seat(tavolo)
        requested = create_seat(tavolo, status="requested")
        approved = approve_decisions(tavolo, [(decided, "approved")], by=facilitator)
        meeting = create_meeting(tavolo, title="Prossimo incontro")
        held = create_meeting(tavolo, title="Incontro svolto", starts_in=-timedelta(days=1), status="held")
        minutes = create_minutes(held, seats=[seat], decisions=[(published, "approved")], by=facilitator)

        area = record_ops.create_area(plan, admin_user, title="Anziani", description="", tavoli=[tavolo])
        plan_objective = record_ops.create_objective(area, admin_user, title="Domiciliarità", description="Testo.")
        action = record_ops.create_action(plan_objective, admin_user, record_ops.ActionFields(
            title="Centro diurno", description="Un servizio.", beneficiaries="Anziani", responsible_body="Comune",
            start_date=None, end_date=None, all_comuni=True, comuni=[]), decisions=list(approved.decisions))
        indicator = record_ops.add_indicator(action, admin_user, name="Utenti", unit="persone", baseline=None,
                                             target=Decimal("20"))
        line = record_ops.add_budget_line(action, admin_user, amount=Decimal("1000.00"), funding_source="fnps",
                                          year=2025)

        pending_org = create_organisation(name="Da verificare", status="pending")
        verified_org = create_organisation(name="Verificata")
        joiner = create_user(email="socio@example.org")
        membership = org_ops.request_membership(joiner, verified_org)
        target = create_user(email="bersaglio@example.org")
        row = OutboxEmail(recipient_id=target.id, period_key="daily:2026-01-01", to_address=target.email,
                          subject="Riepilogo", body_text="Testo", body_html="<p>Testo</p>")
        db.session.add(row)
        db.session.commit()

        ids = {
            "slug": tavolo.slug, "plan_id": plan.id, "meeting_id": meeting.id, "kind": "proposte",
            "item_id": pending.id, "proposal_id": published.id, "objective_id": objective.id,
            "minutes_id": minutes.id, "decision_id": minutes.decisions[0].id,
            "attendance_id": minutes.attendance[0].id, "member_id": requested.member.id,
            "membership_id": membership.id, "organisation_id": pending_org.id, "user_id": target.id,
            "row_id": row.id, "area_id": area.id, "action_id": action.id, "indicator_id": indicator.id,
            "line_id": line.id, "input_id": action.inputs[0].id,
        }
        # The plan-record routes name the plan's objectives, not the tavolo's.
        plan_record_ids = {**ids, "objective_id": plan_objective.id}
        return {"admin": admin_user, "facilitator": subject_facilitator, "tavolo": tavolo,
                "ids": ids, "plan_record_ids": plan_record_ids}

    return scene("may-act", build)


def url_for_rule(rule, world) -> str:
    ids = world["plan_record_ids"] if rule.endpoint.startswith("plan_record.") else world["ids"]
    missing = set(rule.arguments) - set(ids)
    assert not missing, f"{rule.rule}: give the world an id for {sorted(missing)}"
    return rule.build({name: ids[name] for name in rule.arguments})[1]


def powerless(who: str, world):
    """The account of `who` made powerless through the real operations; it logs in afresh afterwards."""
    if who == "unverified admin":
        # An admin whose address was never verified (create-admin verifies; a role change does not).
        person = accounts_ops.create_user(email="nonverificata@example.org", display_name="Nora Nonverificata",
                                          password=DEFAULT_PASSWORD, role="admin", check_password=False)
    else:
        person = world["admin"] if who == "blocked admin" else world["facilitator"]
        # Another admin blocks them (nobody blocks themselves); blocking ends their open sessions.
        other_admin = accounts_ops.create_user(email="altro.admin@example.org", display_name="Altro Admin",
                                               password=DEFAULT_PASSWORD, role="admin", verified=True,
                                               check_password=False)
        admin_ops.block_user(person, other_admin, "Account compromesso.")
    db.session.commit()
    return person


@pytest.mark.parametrize("who", ["blocked admin", "blocked facilitator", "unverified admin"])
def test_a_powerless_account_is_refused_every_facilitator_and_admin_post(app, client, world, who):
    person = powerless(who, world)
    client.login(person)
    routes = power_routes(app)
    assert len(routes) > 50, [rule.rule for rule in routes]

    before = snapshot()
    answers = {}
    for rule in routes:
        response = client.post(url_for_rule(rule, world), data=PLAUSIBLE_FORM)
        answers[rule.rule] = response.status_code
    not_refused = {route: status for route, status in answers.items() if status != 403}
    assert not_refused == {}, f"{who}: {len(not_refused)} of {len(answers)} routes not refused"
    after = snapshot()
    changed = [name for name in before if before[name] != after[name]]
    assert changed == [], f"{who} changed {changed}"


def test_the_same_routes_refuse_nothing_to_an_admin_who_may_act(app, client, world):
    """The control: the same replay as an admin who may act is never refused (and changes things)."""
    client.login(world["admin"])
    before = snapshot()
    answers = {rule.rule: client.post(url_for_rule(rule, world), data=PLAUSIBLE_FORM).status_code
               for rule in power_routes(app)}
    assert {route: status for route, status in answers.items() if status == 403} == {}
    assert snapshot() != before
