"""`flask demo` loads a living consultation, once."""

from sqlalchemy import func, select

from consulta.accounts.models import User
from consulta.ambito.models import Ambito, Comune
from consulta.comments.models import Comment
from consulta.extensions import db
from consulta.organisations.models import Organisation
from consulta.proposals.models import Proposal
from consulta.tavoli.models import Objective, Tavolo
from consulta.votes.models import Vote


def _count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def test_demo_loads_the_ambito_and_a_living_consultation(runner):
    result = runner.invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "admin@consulta.example" in result.output and "consulta-demo-2025" in result.output

    ambito = Ambito.current()
    assert ambito.name == "Ambito Territoriale Sociale n. 11"
    assert ambito.lead_comune.name == "Narni"
    assert _count(Comune) == 12
    assert _count(Tavolo) == 6
    assert {o.type for o in db.session.scalars(select(Organisation))} >= {
        "union", "social_coop", "volunteer", "aps", "third_sector_other", "public_body"}
    assert _count(Objective) >= 6 and _count(Proposal) >= 8 and _count(Comment) >= 6
    categories = set(db.session.scalars(select(Vote.category).distinct()))
    assert len(categories) >= 5 and "citizen" in categories
    # Every demo account can log in with the printed password.
    assert db.session.scalar(select(User).where(User.email == "coop@consulta.example")).check_password(
        "consulta-demo-2025")


def test_demo_is_idempotent(runner):
    runner.invoke(args=["demo"])
    before = (_count(User), _count(Proposal), _count(Vote))
    result = runner.invoke(args=["demo", "--quiet"])
    assert result.exit_code == 0
    assert "già presente" in result.output
    assert (_count(User), _count(Proposal), _count(Vote)) == before
