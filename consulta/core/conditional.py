"""Conditional GET: a public page or export sent to an anonymous reader carries an ETag (a hash of
its body), and a request that names that ETag in If-None-Match gets 304 Not Modified, without the
body. The hash covers everything on the page (language, dates, counts), so a changed page has a new
ETag. Pages of signed-in people and responses that set a cookie get none: their bodies are personal."""

from __future__ import annotations

from flask import Flask, Response, request, session
from flask_login import current_user


def register(app: Flask) -> None:
    # Registered after Flask-Compress, so it runs before it: the ETag is the hash of the identity body,
    # and Flask-Compress suffixes it (`"…:gzip"`) and answers conditional requests for compressed ones.
    @app.after_request
    def _etag(response: Response) -> Response:
        if (request.method in ("GET", "HEAD") and response.status_code == 200
                and not response.direct_passthrough and not response.is_streamed
                and "ETag" not in response.headers and "Set-Cookie" not in response.headers
                and not app.session_interface.should_set_cookie(app, session)
                and not current_user.is_authenticated):
            response.add_etag()
            response.make_conditional(request)
        return response
