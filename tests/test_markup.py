"""Clean markup (issue 12): every page of the demo, as each role sees it, has no Nu Html Checker error.

The Nu Html Checker (vnu.jar, from npm's vnu-jar, run by Java) reads the HTML the server sends; the
browser suite checks the same pages with axe-core (tests/test_demo_browser.py)."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import IN_CI, ROOT

VNU = ROOT / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"
ROLES = ["anonymous", "cittadino@consulta.example", "coop@consulta.example", "facilitatrice@consulta.example",
         "admin@consulta.example"]


def _require_checker() -> str:
    java = shutil.which("java")
    if java is None or not VNU.exists():
        message = f"Nu Html Checker not available (java: {java}, {VNU}: run `make assets`)"
        if IN_CI:
            pytest.fail(message + " (CI=true: it is required)")
        pytest.skip(message)
    return java


def demo_pages() -> list[str]:
    """The pages of the demo: public ones, a participant's, a facilitator's and the admin's."""
    from consulta.extensions import db
    from consulta.meetings.models import Meeting, Minutes
    from consulta.organisations.models import Organisation
    from consulta.plan.models import Plan
    from consulta.plan.record import PlanAction
    from consulta.proposals.models import Proposal
    from consulta.tavoli.models import Objective, Tavolo

    def first(statement):
        return db.session.execute(statement.limit(1)).scalar_one()

    plan = first(select(Plan).order_by(Plan.id))
    tavolo = first(select(Tavolo).where(Tavolo.slug == "anziani"))
    pre = first(select(Tavolo).where(Tavolo.moderation == "pre").order_by(Tavolo.id))
    objective = first(select(Objective).where(Objective.tavolo_id == tavolo.id).order_by(Objective.id))
    proposal = first(select(Proposal).where(Proposal.tavolo_id == tavolo.id, Proposal.answer.is_not(None)))
    minutes = first(select(Minutes).where(Minutes.status == "approved").order_by(Minutes.id))
    meeting = first(select(Meeting).order_by(Meeting.starts_at.desc()))
    organisation = first(select(Organisation).order_by(Organisation.id))
    action = first(select(PlanAction).order_by(PlanAction.id))
    return [
        "/", "/tavoli/", f"/tavoli/{tavolo.slug}/", f"/tavoli/{pre.slug}/", f"/tavoli/{tavolo.slug}/incontri/",
        f"/tavoli/{tavolo.slug}/membri/", f"/tavoli/{tavolo.slug}/registro-moderazione",
        f"/tavoli/{tavolo.slug}/obiettivi/{objective.id}/", f"/tavoli/{tavolo.slug}/obiettivi/{objective.id}/revisioni",
        f"/proposte/{proposal.id}/", f"/incontri/{meeting.id}/", f"/verbali/{minutes.id}/",
        f"/piano/{plan.id}/", f"/piano/{plan.id}/modifiche", "/organizzazioni/", f"/organizzazioni/{organisation.id}/",
        "/accessibilita", "/privacy", "/accedi", "/registrati", "/password/dimenticata",
        "/profilo/", "/notifiche/", "/notifiche/preferenze", f"/tavoli/{tavolo.slug}/proposte/nuova",
        "/facilitazione/", "/facilitazione/moderazione/", f"/facilitazione/tavoli/{tavolo.slug}/incontri/",
        f"/facilitazione/tavoli/{tavolo.slug}/incontri/nuovo", f"/facilitazione/tavoli/{tavolo.slug}/incontri/svolto",
        f"/facilitazione/verbali/{minutes.id}/", f"/facilitazione/piano/{plan.id}/",
        f"/facilitazione/piano/{plan.id}/azioni/{action.id}/",
        "/gestione/", "/gestione/ambito", "/gestione/piani/", "/gestione/utenti/", "/gestione/registro/",
        "/gestione/posta/", "/gestione/organizzazioni/",
    ]


@pytest.mark.parametrize("backend", ["postgresql"], indirect=True)  # markup does not depend on the database
def test_every_demo_page_passes_the_nu_html_checker(app, demo, tmp_path):
    java = _require_checker()
    from consulta.accounts.models import User
    from consulta.demo import DEMO_PASSWORD
    from consulta.extensions import db

    pages = demo_pages()
    files: dict[str, str] = {}
    for role in ROLES:
        client = app.test_client()
        if role != "anonymous":
            client.login(db.session.execute(select(User).where(User.email == role)).scalar_one(), DEMO_PASSWORD)
        for path in pages:
            response = client.get(path)
            if response.status_code != 200 or response.mimetype != "text/html":
                continue  # refused to this role, or not a page
            name = f"{len(files):03d}.html"
            (tmp_path / name).write_bytes(response.data)
            files[name] = f"{role} {path}"
    assert len(files) > 80, "too few pages were checked"

    result = subprocess.run([java, "-jar", str(VNU), "--errors-only", "--format", "json", *sorted(
        str(tmp_path / n) for n in files)], capture_output=True, text=True, timeout=300)
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    errors = [f"{files[Path(m['url']).name]}: {m['message']} ({m.get('extract', '').strip()[:80]})"
              for m in messages if m["type"] == "error"]
    assert errors == [], f"{len(errors)} Nu Html Checker errors:\n" + "\n".join(errors[:40])
