"""Small helpers of the meetings tests."""

from __future__ import annotations

import html


def page_text(response) -> str:
    """The response body with HTML entities decoded, so messages read as the user reads them."""
    return html.unescape(response.get_data(as_text=True))


def sign_in(pg, user, password: str | None = None) -> None:
    """Log a browser page in through the login form (whatever element its submit is)."""
    from tests.conftest import DEFAULT_PASSWORD

    pg.goto("/accedi")
    pg.locator("#email").fill(user.email)
    pg.locator("#password").fill(password or DEFAULT_PASSWORD)
    with pg.expect_navigation():
        pg.locator("main form.account-form [type=submit]").click()
    assert "/accedi" not in pg.url, f"login failed for {user.email}"
