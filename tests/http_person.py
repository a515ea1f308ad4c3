"""A person without a browser, for races against the live server: keeps its cookies, speaks HTTP through
http.client (one connection per request), so that many of its requests can leave at the same moment."""

from __future__ import annotations

import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

from tests.conftest import DEFAULT_PASSWORD


class Person:
    """A browser without a browser: keeps its cookies, speaks HTTP through http.client."""

    def __init__(self, port: int):
        self.port = port
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, form: dict | None = None, keep: bool = True) -> tuple[int, dict, str]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        headers = {"User-Agent": "consulta-race-test"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        html = response.read().decode("utf-8", "replace")
        if keep:  # concurrent requests share the cookies as they were
            for header in response.headers.get_all("Set-Cookie") or []:
                for key, morsel in SimpleCookie(header).items():
                    self.cookies[key] = morsel.value
        connection.close()
        return response.status, dict(response.headers), html

    def race(self, path: str, form: dict):
        """A POST to fire at the same time as others: it leaves the cookies alone."""
        return lambda: self.request("POST", path, form, keep=False)

    def form_page(self, path: str) -> dict[str, str]:
        """GET a page with a form; the hidden fields it carries (CSRF, one-time submission token)."""
        status, _, html = self.request("GET", path)
        assert status == 200, (path, status)
        return {name: value for name, value in re.findall(
            r'<input[^>]*name="(csrf_token|submission_token)"[^>]*value="([^"]*)"', html)}


def signed_in(live_server, user) -> Person:
    person = Person(live_server.port)
    fields = person.form_page("/accedi")
    status, _, _ = person.request("POST", "/accedi", {"email": user.email, "password": DEFAULT_PASSWORD, **fields})
    assert status == 302, "login failed"
    return person
