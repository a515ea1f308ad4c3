"""Who may comment in which phase of the tavolo: role × phase → answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from consulta.comments.models import Comment
from consulta.extensions import db

OK, LOGIN = 302, "login"

# draft tavoli are invisible to all but their facilitators and admins (404);
# the others see a refusal that says why (403 for the person, 409 for the phase).
MATRIX = {
    #                draft  open   discussion closed
    "anonymous":      (404, LOGIN, LOGIN,     409),
    "unverified":     (404, 403,   403,       409),
    "blocked":        (404, 403,   403,       409),
    "participant":    (404, OK,    OK,        409),
    "representative": (404, OK,    OK,        409),
    "facilitator":    (409, OK,    OK,        409),
    "admin":          (409, OK,    OK,        409),
}
PHASES = ("draft", "open", "discussion", "closed")
CASES = [(role, phase, MATRIX[role][i]) for role in MATRIX for i, phase in enumerate(PHASES)]


@pytest.mark.parametrize("subject_kind", ["proposal", "objective"])
@pytest.mark.parametrize("role, phase, expected", CASES)
def test_who_may_comment(as_role, cast, create_tavolo, create_proposal, create_objective, subject_kind, role, phase,
                         expected):
    tavolo = create_tavolo(phase=phase, facilitators=[cast.facilitator])
    if subject_kind == "proposal":
        subject = create_proposal(tavolo, cast.admin)
        url, column = f"/proposte/{subject.id}/commenti", Comment.proposal_id
    else:
        subject = create_objective(tavolo)
        url, column = f"/obiettivi/{subject.id}/commenti", Comment.objective_id
    client = as_role(role)

    response = client.post(url, data={"body": "Un parere.", "stance": "neutral"})

    stored = db.session.execute(select(Comment).where(column == subject.id)).scalars().all()
    if expected == LOGIN:
        assert response.status_code == 302 and response.headers["Location"].startswith("/accedi")
    else:
        assert response.status_code == expected
    if expected == OK:
        assert len(stored) == 1 and f"#commento-{stored[0].id}" in response.headers["Location"]
    else:
        assert stored == []
    text = response.get_data(as_text=True)
    if expected == 403 and role == "unverified":
        assert "verificare il tuo indirizzo e-mail" in text
    if expected == 403 and role == "blocked":
        assert "account è sospeso" in text
    if expected == 409:
        assert "i commenti sono chiusi" in text


@pytest.mark.parametrize("role, expected", [
    ("anonymous", LOGIN), ("participant", 403), ("representative", 403), ("facilitator", 403), ("admin", 403),
])
def test_only_the_author_edits_or_deletes(as_role, cast, tavolo, create_proposal, create_comment, role, expected):
    proposal = create_proposal(tavolo, cast.admin)
    comment = create_comment(proposal, cast.member, body="Di Marco.")
    client = as_role(role)
    for response in (client.get(f"/commenti/{comment.id}/modifica"),
                     client.post(f"/commenti/{comment.id}/modifica", data={"body": "Cambiato."}),
                     client.post(f"/commenti/{comment.id}/elimina")):
        if expected == LOGIN:
            assert response.status_code == 302 and response.headers["Location"].startswith("/accedi")
        else:
            assert response.status_code == expected
    db.session.refresh(comment)
    assert comment.body == "Di Marco." and comment.deleted_at is None
