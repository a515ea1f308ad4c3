"""The weekly digest, as a participant following a tavolo receives it."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from consulta.core.notify import Notification
from consulta.extensions import db
from consulta.proposals.operations import answer_proposal
from tests.digests.conftest import digests_to, outbox_rows, pending_count, site_path


def _facilitated_tavolo(create_tavolo, create_user, **kwargs):
    facilitator = create_user(email="facilitatrice@example.org", display_name="Fabia Facilitatrice",
                              role="facilitator")
    tavolo = create_tavolo(slug="anziani", title="Anziani e non autosufficienza", facilitators=[facilitator],
                           **kwargs)
    return tavolo, facilitator


def test_a_follower_receives_one_weekly_digest_with_working_links(
        app, client, smtp_sink, create_user, create_tavolo, create_follow, create_proposal, create_comment,
        approve_decisions, send_digests):
    tavolo, facilitator = _facilitated_tavolo(create_tavolo, create_user)
    anna = create_user(email="anna@example.org", display_name="Anna Rossi")
    bruno = create_user(email="bruno@example.org", display_name="Bruno Bianchi")
    create_follow(anna, tavolo=tavolo)

    proposal = create_proposal(tavolo, bruno, title="Trasporto sociale nelle frazioni")
    create_follow(anna, proposal=proposal)  # comments reach the followers of the proposal
    create_comment(proposal, facilitator, body="Ottima idea, ne parliamo al prossimo incontro.")
    from consulta.tavoli.operations import change_phase
    change_phase(tavolo, "discussion", facilitator)
    db.session.commit()
    answer_proposal(proposal, facilitator, outcome="approved", motivation="Accolta: entra nell'azione 2.1 del piano.")
    db.session.commit()
    approve_decisions(tavolo, [(proposal, "approved")], by=facilitator)
    # Published, commented, phase changed, answered, the meeting convened, its minutes approved.
    assert pending_count(anna) == 6

    result = send_digests("--frequency", "weekly")
    assert result.exit_code == 0, result.output
    # Anna, and Bruno (a comment on and an answer to his proposal).
    assert "Riepiloghi inviati: 2 · saltati: 0 · non riusciti: 0" in result.output

    messages = digests_to(smtp_sink, "anna@example.org")
    assert len(messages) == 1
    message = messages[0]
    assert "riepilogo settimanale" in message["Subject"]
    text = smtp_sink.text_of(message)
    assert "Anziani e non autosufficienza" in text
    assert "Decisioni dall'ultimo riepilogo" in text
    assert "Nuova proposta: «Trasporto sociale nelle frazioni»" in text
    assert "Un nuovo commento su «Trasporto sociale nelle frazioni»" in text
    assert "Il tavolo è passato alla fase «In discussione»" in text
    assert "Risposta alla proposta «Trasporto sociale nelle frazioni»: accolta" in text
    assert "Accolta: entra nell'azione 2.1 del piano." in text
    assert "«Trasporto sociale nelle frazioni»: approvata" in text

    # A real multipart message, with an accessible HTML part and the RFC 8058 headers.
    assert message.get_content_type() == "multipart/alternative"
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="it">' in html and "<h1" in html and "Trasporto sociale nelle frazioni" in html
    unsubscribe = message["List-Unsubscribe"]
    assert unsubscribe.startswith("<http://localhost/disiscrizione/") and "<mailto:" in unsubscribe
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert message["Message-ID"].startswith("<digest.")

    # Every link in the e-mail opens (as Anna, logged in).
    client.login(anna)
    links = set(smtp_sink.links_in(message))
    assert any("/proposte/" in link for link in links)
    assert any("/commenti/" in link for link in links)  # a comment's permalink
    assert any(link.endswith("/notifiche/preferenze") for link in links)
    for link in links:
        if "/disiscrizione/" in link:
            continue  # opened by the unsubscribe test: a GET here changes nothing anyway
        response = client.get(site_path(link.split("#")[0]), follow_redirects=True)
        assert response.status_code == 200, link

    # Stored: one sent outbox row for this week, the notifications marked digested.
    (row,) = outbox_rows(to_address="anna@example.org")
    assert row.status == "sent" and row.sent_at is not None and row.attempts == 0
    assert row.period_key.startswith("weekly:") and row.notification_count == 6
    assert pending_count(anna) == 0

    # Running again in the same week sends nothing more.
    smtp_sink.clear()
    again = send_digests("--frequency", "weekly")
    assert again.exit_code == 0
    assert "Riepiloghi inviati: 0" in again.output
    assert smtp_sink.messages == []


def _raw_headers(raw: bytes) -> dict[bytes, bytes]:
    """The header block of a message as it crossed the wire, unfolded (RFC 5322 2.2.3), not decoded."""
    block = raw.split(b"\r\n\r\n", 1)[0]
    unfolded = block.replace(b"\r\n ", b" ").replace(b"\r\n\t", b" ")
    headers = {}
    for line in unfolded.split(b"\r\n"):
        name, _colon, value = line.partition(b":")
        headers[name.lower()] = value.strip()
    return headers


def test_list_unsubscribe_leaves_as_plain_ascii_on_the_wire(app, smtp_sink, create_user, create_tavolo,
                                                            create_follow, create_proposal, send_digests):
    """RFC 2369/8058: List-Unsubscribe is a structured header of <URL>s; an RFC 2047 encoded-word
    (=?utf-8?q?=3Chttp…) there is not allowed and mail clients offer no unsubscribe button. Read the
    bytes the SMTP server received, not a decoded header."""
    tavolo, _facilitator = _facilitated_tavolo(create_tavolo, create_user)
    anna = create_user(email="anna@example.org")
    create_follow(anna, tavolo=tavolo)
    create_proposal(tavolo, create_user(email="bruno@example.org"), title="Centro diurno aperto il sabato")
    send_digests()
    [raw] = [raw for raw in smtp_sink.raw if b"\r\nTo: anna@example.org\r\n" in raw]
    headers = _raw_headers(raw)
    value = headers[b"list-unsubscribe"]
    assert b"=?" not in value and value.isascii(), value
    assert re.fullmatch(rb"<http://localhost/disiscrizione/[A-Za-z0-9_.\-]+>, "
                        rb"<mailto:[^<>\s]+@[^<>\s]+\?subject=unsubscribe>", value), value
    assert headers[b"list-unsubscribe-post"] == b"List-Unsubscribe=One-Click"
    assert all(len(line) <= 998 for line in raw.split(b"\r\n"))
    # The URL on the wire is the one that unsubscribes.
    (message,) = digests_to(smtp_sink, "anna@example.org")
    assert value.decode().split(",")[0].strip("<> ") == message["List-Unsubscribe"].split(",")[0].strip("<> ")


def test_the_one_click_unsubscribe_stops_the_next_digest(app, client, smtp_sink, create_user, create_tavolo,
                                                         create_follow, create_proposal, send_digests):
    tavolo, _facilitator = _facilitated_tavolo(create_tavolo, create_user)
    anna = create_user(email="anna@example.org")
    bruno = create_user(email="bruno@example.org")
    create_follow(anna, tavolo=tavolo)
    create_proposal(tavolo, bruno, title="Centro diurno aperto il sabato")
    send_digests()
    (message,) = digests_to(smtp_sink, "anna@example.org")
    url = message["List-Unsubscribe"].split(",")[0].strip("<> ")

    # What a mail client does (RFC 8058): one POST, no cookies, no CSRF token.
    response = client.post(site_path(url), data={"List-Unsubscribe": "One-Click"}, csrf=False)
    assert response.status_code == 200
    assert "Non riceverai più i riepiloghi" in response.get_data(as_text=True)
    db.session.refresh(anna)
    assert anna.digest_frequency == "off"

    smtp_sink.clear()
    create_proposal(tavolo, bruno, title="Sportello unico per il caregiver")
    result = send_digests()
    assert result.exit_code == 0
    assert smtp_sink.messages == []
    assert pending_count(anna) == 1  # still listed on the notifications page


def test_the_unsubscribe_page_asks_then_confirms_without_login(app, client, smtp_sink, create_user, create_tavolo,
                                                               create_follow, create_proposal, send_digests):
    tavolo, _ = _facilitated_tavolo(create_tavolo, create_user)
    anna = create_user(email="anna@example.org")
    create_follow(anna, tavolo=tavolo)
    create_proposal(tavolo, create_user(), title="Orti sociali")
    send_digests()
    (message,) = digests_to(smtp_sink, "anna@example.org")
    (url,) = [link for link in smtp_sink.links_in(message) if "/disiscrizione/" in link]

    page = client.get(site_path(url))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "Sì, non inviarmi più i riepiloghi" in html and "anna@example.org" in html
    db.session.refresh(anna)
    assert anna.digest_frequency == "weekly"  # a GET (link preview, scanner) changes nothing

    confirmed = client.post(site_path(url), csrf=False)
    assert confirmed.status_code == 303
    after = client.get(confirmed.headers["Location"])
    assert "Fatto: non riceverai più i riepiloghi via e-mail." in after.get_data(as_text=True)
    assert "/notifiche/preferenze" in after.get_data(as_text=True)
    db.session.refresh(anna)
    assert anna.digest_frequency == "off"


def test_forged_or_expired_unsubscribe_tokens_change_nothing(app, client, create_user):
    from consulta.accounts.tokens import make_verify_email_token
    from consulta.digests.tokens import make_unsubscribe_token

    anna = create_user(email="anna@example.org", digest_frequency="daily")
    good = make_unsubscribe_token(anna)
    forged = good[:-4] + ("AAAA" if not good.endswith("AAAA") else "BBBB")
    other_purpose = make_verify_email_token(anna)
    for token in (forged, other_purpose, "nonsense", "x" * 600):
        for method in ("get", "post"):
            response = getattr(client, method)(f"/disiscrizione/{token}", **({"csrf": False} if method == "post" else {}))
            assert response.status_code == 400, (token, method)
            assert "Link di disiscrizione non valido" in response.get_data(as_text=True)
    app.config["UNSUBSCRIBE_MAX_AGE"] = -1
    try:
        expired = client.post(f"/disiscrizione/{good}", data={"List-Unsubscribe": "One-Click"}, csrf=False)
    finally:
        app.config["UNSUBSCRIBE_MAX_AGE"] = 365 * 24 * 3600
    assert expired.status_code == 400
    assert "Questo link è scaduto" in expired.get_data(as_text=True)

    # A link sent to an old address stops working once the address changes.
    anna.email = "anna.nuova@example.org"
    db.session.commit()
    assert client.post(f"/disiscrizione/{good}", csrf=False).status_code == 400
    db.session.refresh(anna)
    assert anna.digest_frequency == "daily"


def test_repeated_events_fold_into_one_line(app, smtp_sink, create_user, create_tavolo, create_follow, create_proposal,
                                            create_comment, create_objective, send_digests):
    from consulta.tavoli.operations import update_objective

    tavolo, facilitator = _facilitated_tavolo(create_tavolo, create_user)
    anna = create_user(email="anna@example.org")
    create_follow(anna, tavolo=tavolo)
    proposal = create_proposal(tavolo, create_user(), title="Educativa di strada")
    create_follow(anna, proposal=proposal)
    commenters = [create_user() for _ in range(4)]
    for n in range(12):
        create_comment(proposal, commenters[n % 4], body=f"Commento numero {n}")
    objective = create_objective(tavolo, author=facilitator, title="Prevenire la dispersione scolastica")
    for n in range(3):
        update_objective(objective, facilitator, title=objective.title, body=f"Testo rivisto {n}")
        db.session.commit()

    send_digests()
    (message,) = digests_to(smtp_sink, "anna@example.org")
    text = smtp_sink.text_of(message)
    assert "12 nuovi commenti su «Educativa di strada»" in text
    assert text.count("Educativa di strada") == 2  # the new proposal and the folded comments
    assert "L'obiettivo «Prevenire la dispersione scolastica» è stato modificato 3 volte" in text
    assert "Nuovo obiettivo da discutere: «Prevenire la dispersione scolastica»" in text
    assert "17 aggiornamenti" in message["Subject"]  # 1 proposal + 12 comments + 1 objective + 3 revisions


def test_comments_on_your_own_proposal_and_replies_go_under_your_proposals(
        app, smtp_sink, create_user, create_tavolo, create_proposal, create_comment, send_digests):
    tavolo, facilitator = _facilitated_tavolo(create_tavolo, create_user)
    bruno = create_user(email="bruno@example.org", display_name="Bruno Bianchi")
    proposal = create_proposal(tavolo, bruno, title="Biblioteca dei giochi")  # the author follows it
    carla = create_user(display_name="Carla Verdi")
    create_comment(proposal, carla, body="Bella idea")
    create_comment(proposal, carla, body="Anche per i nonni?")
    top = create_comment(proposal, bruno, body="Grazie a tutti")
    create_comment(proposal, carla, body="Prego!", parent=top)

    send_digests()
    (message,) = digests_to(smtp_sink, "bruno@example.org")
    text = smtp_sink.text_of(message)
    assert "Le tue proposte" in text
    assert "2 nuovi commenti sulla tua proposta «Biblioteca dei giochi»" in text
    assert "Carla Verdi ha risposto al tuo commento su «Biblioteca dei giochi»" in text


def test_nothing_new_means_no_email(app, smtp_sink, create_user, create_tavolo, create_follow, send_digests):
    tavolo, _ = _facilitated_tavolo(create_tavolo, create_user)
    anna = create_user(email="anna@example.org")
    create_follow(anna, tavolo=tavolo)
    result = send_digests()
    assert result.exit_code == 0
    assert "Riepiloghi inviati: 0 · saltati: 0 · non riusciti: 0" in result.output
    assert smtp_sink.messages == [] and outbox_rows() == []


def test_news_that_is_no_longer_visible_is_consumed_without_an_email(
        app, smtp_sink, create_user, create_tavolo, create_follow, create_proposal, send_digests):
    tavolo, _ = _facilitated_tavolo(create_tavolo, create_user)
    anna = create_user(email="anna@example.org")
    create_follow(anna, tavolo=tavolo)
    proposal = create_proposal(tavolo, create_user(), title="Testo offensivo")
    # Moderation hides it before the digest goes out: its title must not travel by e-mail.
    proposal.visibility = "hidden"
    proposal.hidden_reason = "Linguaggio offensivo"
    db.session.commit()

    result = send_digests()
    assert "saltati: 1" in result.output
    assert smtp_sink.messages == [] and outbox_rows() == []
    assert pending_count(anna) == 0


def test_blocked_unverified_and_unsubscribed_people_get_nothing(
        app, smtp_sink, create_user, create_tavolo, create_follow, create_proposal, send_digests):
    tavolo, _ = _facilitated_tavolo(create_tavolo, create_user)
    people = {
        "blocked": create_user(email="bloccato@example.org", blocked_reason="Messaggi offensivi"),
        "unverified": create_user(email="nonverificato@example.org", verified=False),
        "off": create_user(email="spento@example.org", digest_frequency="off"),
        "ok": create_user(email="ok@example.org"),
    }
    for person in people.values():
        create_follow(person, tavolo=tavolo)
    create_proposal(tavolo, create_user(), title="Casa di quartiere")

    send_digests()
    assert [str(m["To"]) for m in smtp_sink.messages] == ["ok@example.org"]
    assert [row.to_address for row in outbox_rows()] == ["ok@example.org"]


def test_a_deleted_account_is_skipped_even_with_a_digest_already_written(
        app, smtp_sink, create_user, create_tavolo, create_follow, create_proposal):
    from consulta.accounts.models import User
    from consulta.digests.builder import build_digest, pending_notifications, period_key
    from consulta.digests.operations import store_digest

    tavolo, _ = _facilitated_tavolo(create_tavolo, create_user)
    anna = create_user(email="anna@example.org")
    create_follow(anna, tavolo=tavolo)
    create_proposal(tavolo, create_user(), title="Pedibus")
    key = period_key("weekly")
    store_digest(build_digest(anna, "weekly", key, pending_notifications(anna.id)))
    db.session.commit()
    assert len(outbox_rows()) == 1

    db.session.delete(db.session.get(User, anna.id))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["send-digests"])
    assert result.exit_code == 0
    assert smtp_sink.messages == [] and outbox_rows() == []


def test_dry_run_sends_nothing_and_writes_nothing(app, smtp_sink, create_user, create_tavolo, create_follow,
                                                  create_proposal, send_digests):
    tavolo, _ = _facilitated_tavolo(create_tavolo, create_user, deadline_days=2)
    people = [create_user(email=f"p{n}@example.org") for n in range(3)]
    for person in people:
        create_follow(person, tavolo=tavolo)
    create_proposal(tavolo, create_user(), title="Spesa a domicilio")
    notifications_before = db.session.execute(select(func.count()).select_from(Notification)).scalar_one()

    result = send_digests("--dry-run")
    assert result.exit_code == 0, result.output
    assert "Prova (--dry-run): 3 riepiloghi da inviare" in result.output
    assert "nulla è stato scritto né inviato" in result.output
    assert "p0@example.org: Consulta, il tuo riepilogo settimanale" in result.output
    assert smtp_sink.messages == [] and outbox_rows() == []
    assert db.session.execute(select(func.count()).select_from(Notification)).scalar_one() == notifications_before
    assert all(pending_count(person) == 1 for person in people)


def test_limit_sends_at_most_n_and_the_next_run_does_the_rest(app, smtp_sink, create_user, create_tavolo, create_follow,
                                                              create_proposal, send_digests):
    tavolo, _ = _facilitated_tavolo(create_tavolo, create_user)
    people = [create_user(email=f"p{n}@example.org") for n in range(5)]
    for person in people:
        create_follow(person, tavolo=tavolo)
    create_proposal(tavolo, create_user(), title="Banco alimentare")

    first = send_digests("--limit", "2")
    assert "Riepiloghi inviati: 2" in first.output
    assert "Limite raggiunto (--limit): 3 destinatari rinviati" in first.output
    assert len(smtp_sink.messages) == 2
    second = send_digests()
    assert "Riepiloghi inviati: 3" in second.output
    assert sorted(str(m["To"]) for m in smtp_sink.messages) == [f"p{n}@example.org" for n in range(5)]
    bad = send_digests("--limit", "0")
    assert bad.exit_code == 2 and "--limit" in bad.output


def test_frequency_option_and_daily_period(app, smtp_sink, create_user, create_tavolo, create_follow, create_proposal,
                                           send_digests):
    tavolo, _ = _facilitated_tavolo(create_tavolo, create_user)
    daily = create_user(email="ogni-giorno@example.org", digest_frequency="daily")
    weekly = create_user(email="ogni-settimana@example.org")
    create_follow(daily, tavolo=tavolo)
    create_follow(weekly, tavolo=tavolo)
    create_proposal(tavolo, create_user(), title="Doposcuola")

    send_digests("--frequency", "daily")
    assert [str(m["To"]) for m in smtp_sink.messages] == ["ogni-giorno@example.org"]
    assert "riepilogo giornaliero" in smtp_sink.messages[0]["Subject"]
    (row,) = outbox_rows()
    assert row.period_key.startswith("daily:")
    send_digests("--frequency", "weekly")
    assert sorted(str(m["To"]) for m in smtp_sink.messages) == ["ogni-giorno@example.org",
                                                                 "ogni-settimana@example.org"]
    assert send_digests("--frequency", "monthly").exit_code == 2


def test_period_keys_follow_the_calendar_in_rome():
    from consulta.digests.builder import period_key

    late_sunday_utc = datetime(2026, 11, 22, 23, 30, tzinfo=UTC)  # already Monday 00:30 in Rome
    assert period_key("daily", late_sunday_utc) == "daily:2026-11-23"
    assert period_key("weekly", late_sunday_utc) == "weekly:2026-W48"
    assert period_key("weekly", late_sunday_utc - timedelta(hours=1)) == "weekly:2026-W47"
    assert period_key("weekly", datetime(2027, 1, 1, 12, tzinfo=UTC)) == "weekly:2026-W53"


def test_deadline_warnings_are_emitted_once_per_tavolo_and_person(app, smtp_sink, create_user, create_tavolo,
                                                                  create_follow, send_digests):
    soon, _ = _facilitated_tavolo(create_tavolo, create_user, deadline_days=2)
    later = create_tavolo(slug="giovani", title="Giovani", deadline_days=10)
    closed = create_tavolo(slug="casa", title="Casa", deadline_days=1, phase="discussion")
    anna = create_user(email="anna@example.org")
    for tavolo in (soon, later, closed):
        create_follow(anna, tavolo=tavolo)

    result = send_digests()
    assert "1 avvisi di scadenza creati" in result.output
    (message,) = digests_to(smtp_sink, "anna@example.org")
    text = smtp_sink.text_of(message)
    assert "Ultimi giorni per presentare proposte: il termine scade il" in text
    assert "Giovani" not in text and "Casa" not in text

    send_digests("--frequency", "daily")
    warnings = db.session.execute(select(func.count()).select_from(Notification).where(
        Notification.event == "tavolo.deadline_soon")).scalar_one()
    assert warnings == 1


def test_facilitators_get_their_moderation_queue_even_without_notifications(
        app, smtp_sink, create_user, create_tavolo, create_proposal, send_digests):
    facilitator = create_user(email="fabia@example.org", role="facilitator")
    admin = create_user(email="admin@example.org", role="admin")  # facilitates nothing explicitly
    tavolo = create_tavolo(slug="disabilita", title="Disabilità", moderation="pre", facilitators=[facilitator])
    author = create_user(email="autore@example.org")
    create_proposal(tavolo, author, title="Assistenza scolastica", state="submitted")
    create_proposal(tavolo, author, title="Trasporto disabili", state="submitted")

    send_digests()
    assert [str(m["To"]) for m in smtp_sink.messages] == ["fabia@example.org"]
    message = smtp_sink.messages[0]
    text = smtp_sink.text_of(message)
    assert "Da moderare" in text and "Disabilità: 2 proposte, 0 commenti in attesa" in text
    assert "2 contributi da moderare" in message["Subject"]
    assert "Assistenza scolastica" not in text  # pending titles stay on the site
    assert admin.email not in {str(m["To"]) for m in smtp_sink.messages}


def test_english_speakers_get_the_digest_in_english_formatting(app, smtp_sink, create_user, create_tavolo, create_follow,
                                                               create_proposal, send_digests):
    tavolo, _ = _facilitated_tavolo(create_tavolo, create_user, deadline_days=2)
    john = create_user(email="john@example.org", locale="en")
    create_follow(john, tavolo=tavolo)
    send_digests()
    (message,) = smtp_sink.to("john@example.org")
    html = message.get_body(preferencelist=("html",)).get_content()
    assert '<html lang="en">' in html
    month = tavolo.proposal_deadline.astimezone().strftime("%B")
    assert month in smtp_sink.text_of(message)  # the date is written the English way


def test_a_digest_written_but_never_sent_goes_out_on_the_next_run(app, smtp_sink, create_user, create_tavolo,
                                                                  create_follow, create_proposal, send_digests):
    from consulta.digests.builder import build_digest, pending_notifications, period_key
    from consulta.digests.operations import store_digest

    tavolo, _ = _facilitated_tavolo(create_tavolo, create_user)
    anna = create_user(email="anna@example.org")
    create_follow(anna, tavolo=tavolo)
    create_proposal(tavolo, create_user(), title="Mensa solidale")
    # A worker wrote the row (and consumed the notifications), then crashed before sending.
    store_digest(build_digest(anna, "weekly", period_key("weekly"), pending_notifications(anna.id)))
    db.session.commit()

    result = send_digests()
    assert "Riepiloghi inviati: 1" in result.output
    (message,) = smtp_sink.messages
    assert "Mensa solidale" in smtp_sink.text_of(message)
    assert outbox_rows()[0].status == "sent"
    send_digests()
    assert len(smtp_sink.messages) == 1
