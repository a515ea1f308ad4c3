"""The meetings pages cost a fixed number of SQL queries whatever the amount of data."""

from __future__ import annotations

from datetime import timedelta

from consulta.meetings.models import Attendance, Decision


def test_the_meetings_list_and_the_members_page_do_not_grow_with_the_data(client, table, create_meeting,
                                                                          create_seat, count_queries):
    create_meeting(table, starts_in=timedelta(days=1))
    create_seat(table)
    with count_queries() as few:
        assert client.get(f"/tavoli/{table.slug}/incontri/").status_code == 200
        assert client.get(f"/tavoli/{table.slug}/membri/").status_code == 200
        assert client.get(f"/tavoli/{table.slug}/incontri.ics").status_code == 200

    for n in range(15):
        create_meeting(table, title=f"Incontro {n}", starts_in=timedelta(days=n + 2))
        create_seat(table, type=("union", "aps", "social_coop")[n % 3], with_substitute=n % 2 == 0)
    with count_queries() as many:
        assert client.get(f"/tavoli/{table.slug}/incontri/").status_code == 200
        assert client.get(f"/tavoli/{table.slug}/membri/").status_code == 200
        assert client.get(f"/tavoli/{table.slug}/incontri.ics").status_code == 200

    assert many.count == few.count


def test_the_public_minutes_page_does_not_grow_with_attendance_and_decisions(
        client, table, facilitator, create_meeting, create_minutes, create_seat, create_proposal, citizen,
        approve, count_queries, count_rows):
    def approved_minutes(people: int, subjects: int):
        meeting = create_meeting(table, starts_in=timedelta(hours=-1))
        seats = [create_seat(table) for _ in range(people)]
        proposals = [create_proposal(table, citizen, title=f"Proposta {people}-{i}") for i in range(subjects)]
        minutes = create_minutes(meeting, seats=seats, decisions=[(p, "deferred") for p in proposals])
        assert approve(minutes, facilitator).status_code == 302
        return minutes

    small = approved_minutes(1, 1)
    large = approved_minutes(12, 12)
    assert count_rows(Attendance, Attendance.minutes_id == large.id) == 12
    assert count_rows(Decision, Decision.minutes_id == large.id) == 12

    with count_queries() as few:
        assert client.get(f"/verbali/{small.id}/").status_code == 200
    with count_queries() as many:
        assert client.get(f"/verbali/{large.id}/").status_code == 200

    assert many.count == few.count
