"""Who may vote in which phase of the tavolo and vote mode: role × phase → answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.extensions import db
from consulta.votes.models import Vote

OK, LOGIN = 302, "login"
PHASES = ("draft", "open", "discussion", "closed")

PERSON_MODE = {
    #                draft  open   discussion closed
    "anonymous":      (404, LOGIN, LOGIN,     409),
    "unverified":     (404, 403,   403,       409),
    "blocked":        (404, 403,   403,       409),
    "participant":    (404, OK,    OK,        409),
    "member":         (404, OK,    OK,        409),
    "representative": (404, OK,    OK,        409),
    "facilitator":    (409, OK,    OK,        409),
    "admin":          (409, OK,    OK,        409),
}
# Only an organisation's representative votes; everyone else is told why.
ORGANISATION_MODE = {
    "anonymous":      (404, LOGIN, LOGIN,     409),
    "unverified":     (404, 403,   403,       409),
    "blocked":        (404, 403,   403,       409),
    "participant":    (404, 403,   403,       409),
    "member":         (404, 403,   403,       409),
    "representative": (404, OK,    OK,        409),
    "facilitator":    (409, 403,   403,       409),
    "admin":          (409, 403,   403,       409),
}
CASES = [("person", role, phase, PERSON_MODE[role][i]) for role in PERSON_MODE for i, phase in enumerate(PHASES)]
CASES += [("organisation", role, phase, ORGANISATION_MODE[role][i])
          for role in ORGANISATION_MODE for i, phase in enumerate(PHASES)]


@pytest.mark.parametrize("subject_kind", ["proposal", "objective"])
@pytest.mark.parametrize("vote_mode, role, phase, expected", CASES)
def test_who_may_vote(as_role, cast, create_tavolo, create_proposal, create_objective, subject_kind, vote_mode,
                      role, phase, expected):
    tavolo = create_tavolo(phase=phase, vote_mode=vote_mode, facilitators=[cast.facilitator])
    if subject_kind == "proposal":
        subject = create_proposal(tavolo, cast.admin)
        url, column = f"/proposte/{subject.id}/voto", Vote.proposal_id
    else:
        subject = create_objective(tavolo)
        url, column = f"/obiettivi/{subject.id}/voto", Vote.objective_id
    client = as_role(role)

    response = client.post(url, data={"value": "for"})

    stored = db.session.execute(select(Vote).where(column == subject.id)).scalars().all()
    if expected == LOGIN:
        assert response.status_code == 302 and response.headers["Location"].startswith("/accedi")
    else:
        assert response.status_code == expected
    assert len(stored) == (1 if expected == OK else 0)
    if expected == OK:
        assert response.headers["Location"].endswith("#voti")
    if expected == 409:
        assert "le votazioni sono chiuse" in response.get_data(as_text=True)
