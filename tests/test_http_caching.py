"""HTTP-level savings (issue 13): conditional GET on public pages and exports, compressed responses.
(Versioned static assets cached for a year as immutable: tests/test_app.py.)"""

import gzip

import pytest


def _proposal_with_comments(tavolo, cast, create_proposal, create_comment, n=30):
    proposal = create_proposal(tavolo, cast.representative)
    for i in range(n):
        create_comment(proposal, cast.participant, body=f"Commento numero {i}: servono **più** corse.", commit=False)
    return proposal


def test_an_unchanged_public_page_is_answered_304_and_a_changed_one_in_full(client, cast, tavolo, create_proposal,
                                                                             create_comment):
    proposal = _proposal_with_comments(tavolo, cast, create_proposal, create_comment, 2)
    url = f"/proposte/{proposal.id}/"
    first = client.get(url)
    etag = first.headers["ETag"]
    assert first.status_code == 200 and etag.startswith('"')

    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert "Set-Cookie" not in again.headers  # the reader's session (a CSRF token) is left as it is
    assert client.head(url, headers={"If-None-Match": etag}).status_code == 304

    create_comment(proposal, cast.member, body="Un commento nuovo.")
    changed = client.get(url, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and "Un commento nuovo." in changed.get_data(as_text=True)
    assert changed.headers["ETag"] != etag


def test_the_etag_follows_the_language(client, cast, tavolo, create_proposal, create_comment):
    proposal = _proposal_with_comments(tavolo, cast, create_proposal, create_comment, 1)
    url = f"/proposte/{proposal.id}/"
    italian = client.get(url).headers["ETag"]
    client.get("/lingua/en?next=/")
    english = client.get(url, headers={"If-None-Match": italian})
    assert english.status_code == 200 and '<html lang="en">' in english.get_data(as_text=True)
    assert english.headers["ETag"] != italian


def test_pages_of_signed_in_people_and_responses_setting_a_cookie_have_no_etag(client, cast, tavolo,
                                                                                create_proposal, create_comment):
    proposal = _proposal_with_comments(tavolo, cast, create_proposal, create_comment, 1)
    url = f"/proposte/{proposal.id}/"
    etag = client.get(url).headers["ETag"]
    # The login form puts a CSRF token in a new session: the response sets the cookie, no ETag.
    login_form = client.get("/accedi")
    assert "Set-Cookie" in login_form.headers and "ETag" not in login_form.headers
    client.login(cast.participant)
    signed_in = client.get(url, headers={"If-None-Match": etag})
    assert signed_in.status_code == 200 and "ETag" not in signed_in.headers
    assert 'action="/proposte/' in signed_in.get_data(as_text=True)  # the comment form, with its token


def test_an_unchanged_export_is_answered_304(client, create_plan):
    # (The JSON, PDF and ODT exports and the calendar say when they were generated: each second is a new body.)
    plan = create_plan()
    url = f"/dati/piano/{plan.id}/azioni.csv"
    first = client.get(url)
    assert first.status_code == 200 and first.mimetype == "text/csv"
    again = client.get(url, headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.data == b""


def test_a_large_page_is_sent_gzipped_to_a_client_that_accepts_it(client, cast, tavolo, create_proposal,
                                                                   create_comment):
    proposal = _proposal_with_comments(tavolo, cast, create_proposal, create_comment)
    url = f"/proposte/{proposal.id}/"
    plain = client.get(url)
    assert "Content-Encoding" not in plain.headers

    packed = client.get(url, headers={"Accept-Encoding": "gzip"})

    assert packed.headers["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed.headers["Vary"]
    assert gzip.decompress(packed.data) == plain.data
    assert len(packed.data) < len(plain.data) / 4
    # The compressed body has its own validator, and answers conditional requests too.
    assert packed.headers["ETag"] == plain.headers["ETag"][:-1] + ':gzip"'
    assert client.get(url, headers={"Accept-Encoding": "gzip", "If-None-Match": packed.headers["ETag"]}
                      ).status_code == 304
    # A tiny response is not worth compressing; static files, served by the proxy in production, go as they are.
    assert "Content-Encoding" not in client.get("/healthz", headers={"Accept-Encoding": "gzip"}).headers
    stylesheet = client.get("/static/css/comments.css", headers={"Accept-Encoding": "gzip"})
    assert stylesheet.status_code == 200 and "Content-Encoding" not in stylesheet.headers
    stylesheet.close()


@pytest.mark.parametrize("backend", ["sqlite"], indirect=True)  # a setting, not the database
def test_compression_is_off_when_the_proxy_compresses(make_app, cast, tavolo, create_proposal, create_comment):
    proposal = _proposal_with_comments(tavolo, cast, create_proposal, create_comment)
    behind_nginx = make_app(COMPRESS_REGISTER=False).test_client()
    response = behind_nginx.get(f"/proposte/{proposal.id}/", headers={"Accept-Encoding": "gzip"})
    assert response.status_code == 200 and "Content-Encoding" not in response.headers
