"""Helpers shared by the tavoli and plan tests (imported by both conftests)."""

from __future__ import annotations

from flask_login.utils import _create_identifier

from tests.conftest import DEFAULT_PASSWORD


def session_values(app, user, environ_base: dict) -> dict:
    """What Flask-Login keeps in the session for a logged-in user seen from `environ_base`."""
    with app.test_request_context(environ_base=environ_base):
        identifier = _create_identifier()
    return {"_user_id": user.get_id(), "_fresh": True, "_id": identifier}


def sign_in(client, user) -> None:
    """Log in through /accedi; while the accounts pages are still a stub, put the user
    in the session exactly as Flask-Login would."""
    response = client.post("/accedi", data={"email": user.email, "password": DEFAULT_PASSWORD})
    if response.status_code == 302:
        return
    values = session_values(client.application, user, client.environ_base)
    with client.session_transaction() as sess:
        sess.update(values)


def browser_sign_in(pg, app, user, base_url: str) -> None:
    """Log a browser page in: through the form when it exists, else with a signed session cookie."""
    pg.goto("/accedi")
    form = pg.locator("main form").filter(has=pg.locator("#password"))
    if form.count():
        pg.locator("#email").fill(user.email)
        pg.locator("#password").fill(DEFAULT_PASSWORD)
        with pg.expect_navigation():
            form.get_by_role("button", name="Accedi", exact=True).click()
        assert "/accedi" not in pg.url, f"login failed for {user.email}"
        return
    user_agent = pg.evaluate("navigator.userAgent")
    values = session_values(app, user, {"REMOTE_ADDR": "127.0.0.1", "HTTP_USER_AGENT": user_agent})
    cookie = app.session_interface.get_signing_serializer(app).dumps(values)
    pg.context.add_cookies([{"name": app.config["SESSION_COOKIE_NAME"], "value": cookie, "url": base_url}])
