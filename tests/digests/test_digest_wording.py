"""Digests that read well: every line says what happened and to what (issue 12)."""

from __future__ import annotations

from datetime import timedelta

from consulta.digests.builder import build_digest, pending_notifications, period_key
from consulta.extensions import db
from consulta.meetings import operations as meetings_ops


def digest_text(user) -> str:
    return build_digest(user, "weekly", period_key("weekly"), pending_notifications(user.id)).text


def sections(text: str) -> dict[str, str]:
    """The digest's text cut at its section titles."""
    titles = ["Decisioni dall'ultimo riepilogo", "Le tue proposte", "In attesa del tuo contributo",
              "Prossimi incontri", "Incontri svolti", "Nella discussione", "Altri aggiornamenti"]
    found = sorted((text.index(t), t) for t in titles if t in text)
    return {t: text[i:(found[n + 1][0] if n + 1 < len(found) else len(text))] for n, (i, t) in enumerate(found)}


def test_held_and_upcoming_meetings_and_minutes_are_named(
        create_user, create_tavolo, create_follow, create_meeting, create_minutes, approve_minutes,
        create_proposal, approve_decisions):
    facilitator = create_user(email="facilitatrice@example.org", role="facilitator")
    tavolo = create_tavolo(title="Anziani", facilitators=[facilitator])
    anna = create_user(email="anna@example.org")
    create_follow(anna, tavolo=tavolo)
    proposal = create_proposal(tavolo, create_user(email="bruno@example.org"), title="Trasporto sociale")
    original = approve_decisions(tavolo, [(proposal, "approved")], by=facilitator).minutes
    create_follow(anna, proposal=proposal)  # the rettifica reaches the followers of the proposal
    rettifica = meetings_ops.create_rettifica(original, facilitator)
    db.session.commit()
    approve_minutes(rettifica, by=facilitator)
    upcoming = create_meeting(tavolo, title="Terzo incontro", starts_in=timedelta(days=5), by=facilitator)
    meetings_ops.cancel_meeting(create_meeting(tavolo, title="Incontro saltato", starts_in=timedelta(days=9),
                                               by=facilitator), facilitator, "Sala non disponibile")
    db.session.commit()

    text = digest_text(anna)
    parts = sections(text)

    held = parts["Incontri svolti"]
    assert f"Si è svolto l'incontro «{original.meeting.title}»" in held and "il verbale è approvato" in held
    assert f"/verbali/{rettifica.id}/" in held  # the minutes in force: the rettifica supersedes the original
    upcoming_part = parts["Prossimi incontri"]
    assert "Incontro «Terzo incontro»:" in upcoming_part and f"/incontri/{upcoming.id}/" in upcoming_part
    assert "Annullato l'incontro «Incontro saltato»" in upcoming_part and "Sala non disponibile" in upcoming_part
    decisions = parts["Decisioni dall'ultimo riepilogo"]
    assert f"Approvato il verbale n. {original.id} («{original.meeting.title}» del" in decisions
    assert f"Approvata la rettifica del verbale n. {original.id}" in decisions
    assert f"/verbali/{original.id}/" in decisions
    assert "Un nuovo aggiornamento" not in text and "aggiornamenti su" not in text


def test_awaiting_lists_only_what_still_awaits_the_reader(
        create_user, create_tavolo, create_follow, create_proposal, create_vote, create_comment):
    from consulta.proposals.operations import merge_proposal

    facilitator = create_user(email="facilitatrice@example.org", role="facilitator")
    tavolo = create_tavolo(title="Anziani", facilitators=[facilitator])
    anna = create_user(email="anna@example.org")
    create_follow(anna, tavolo=tavolo)
    author = create_user(email="bruno@example.org")
    untouched = create_proposal(tavolo, author, title="Ancora da votare")
    voted = create_proposal(tavolo, author, title="Già votata")
    commented = create_proposal(tavolo, author, title="Già commentata")
    merged = create_proposal(tavolo, author, title="Unita ad altra")
    create_vote(voted, anna, "for")
    create_comment(commented, anna, body="Sono d'accordo.")
    merge_proposal(merged, untouched, facilitator, motivation="Stesso tema.")
    db.session.commit()

    parts = sections(digest_text(anna))

    awaiting = parts["In attesa del tuo contributo"]
    assert "«Ancora da votare»" in awaiting
    for title in ("Già votata", "Già commentata", "Unita ad altra"):
        assert f"«{title}»" not in awaiting
    assert "Nuova proposta: «Già votata»" in parts["Nella discussione"]
