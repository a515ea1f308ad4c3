"""Static assets: every url_for("static", ...) carries a content version (`?v=`), and a versioned
request is cached by browsers for a year, immutable (no revalidation, not even on reload); an
upgrade changes the version, hence the URL."""

from __future__ import annotations

import hashlib
from pathlib import Path

from flask import Flask, Response, has_request_context, request, url_for
from werkzeug.security import safe_join

VERSIONED_MAX_AGE = 365 * 24 * 3600
SPRITES = "vendor/bootstrap-italia/svg/sprites.svg"
# Files a stylesheet names by a relative URL (fonts, images) cannot carry a version: a short cache.
UNVERSIONED_MAX_AGE = 3600


class ConsultaFlask(Flask):
    def get_send_file_max_age(self, filename: str | None) -> int | None:
        return VERSIONED_MAX_AGE if self._asked_current_version(filename) else UNVERSIONED_MAX_AGE

    def send_static_file(self, filename: str) -> Response:
        response = super().send_static_file(filename)
        if self._asked_current_version(filename):
            response.cache_control.immutable = True
        return response

    def _asked_current_version(self, filename: str | None) -> bool:
        asked = request.args.get("v")
        return bool(asked) and filename is not None and asked == version_of(self, filename)


def version_of(app: Flask, filename: str) -> str | None:
    """The first 12 hex digits of the file's SHA-256; None for anything that is not a regular file inside
    the static folder (the name may come from a request). Memoised by path, and in debug mode (where
    stylesheets are edited while the server runs) by modification time too; outside it a deployment
    changes the files only with a restart, so a page's dozen static URLs cost no system call."""
    cache: dict[str, tuple[int, str]] = app.extensions.setdefault("consulta_asset_versions", {})
    if not app.debug and filename in cache:
        return cache[filename][1]
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

    @app.template_global()
    def sprites_url() -> str:
        """The icon sprite's versioned URL, built once per mount point (outside debug): a page draws dozens
        of icons, and each url_for costs what the rest of the icon costs."""
        built: dict[str, str] = app.extensions.setdefault("consulta_sprites_url", {})
        root = request.script_root if has_request_context() else ""
        url = None if app.debug else built.get(root)
        if url is None:
            url = built[root] = url_for("static", filename=SPRITES)
        return url
