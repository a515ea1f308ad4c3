"""Static assets: every url_for("static", ...) carries a content version (`?v=`), and a versioned
request is cached by browsers for a year; an upgrade changes the version, hence the URL."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, request
from werkzeug.security import safe_join

VERSIONED_MAX_AGE = 365 * 24 * 3600
# Files a stylesheet names by a relative URL (fonts, images) cannot carry a version: a short cache.
UNVERSIONED_MAX_AGE = 3600


class ConsultaFlask(Flask):
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        asked = request.args.get("v")
        if asked and filename is not None and asked == version_of(self, filename):
            return VERSIONED_MAX_AGE
        return UNVERSIONED_MAX_AGE


def version_of(app: Flask, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256, memoised by path and modification time; None for
    anything that is not a regular file inside the static folder (the name may come from a request)."""
    joined = safe_join(app.static_folder or "", filename)
    if joined is None:
        return None
    path = Path(joined)
    try:
        if not path.is_file():
            return None
        stamp = path.stat().st_mtime_ns
    except OSError:
        return None
    cache: dict[str, tuple[int, str]] = app.extensions.setdefault("consulta_asset_versions", {})
    known = cache.get(filename)
    if known is None or known[0] != stamp:
        known = (stamp, hashlib.sha256(path.read_bytes()).hexdigest()[:12])
        cache[filename] = known
    return known[1]


def register(app: Flask) -> None:
    @app.url_defaults
    def _version_static_urls(endpoint: str, values: dict) -> None:
        if endpoint == "static" and "v" not in values and "filename" in values:
            version = version_of(app, values["filename"])
            if version is not None:
                values["v"] = version
