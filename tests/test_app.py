"""The application shell: home page, health check, errors, headers, configuration."""

import pytest

from config import load_config
from consulta import create_app


def test_healthz_reports_the_database(client, backend):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json == {"status": "ok", "database": "ok", "backend": backend}


def test_home_shows_the_ambito_and_its_comuni(client, ambito, tavolo):
    html = client.get("/").get_data(as_text=True)
    assert "Ambito Territoriale Sociale n. 11" in html
    assert "Narni" in html and "(capofila)" in html
    assert "Anziani" in html
    assert '<html lang="it">' in html


def test_draft_tavoli_are_not_on_the_home_page(client, ambito, create_tavolo):
    create_tavolo(title="Tavolo segreto in bozza", phase="draft")
    assert "Tavolo segreto in bozza" not in client.get("/").get_data(as_text=True)


def test_unknown_page_is_an_italian_404(client):
    response = client.get("/non-esiste")
    assert response.status_code == 404
    assert "Pagina non trovata" in response.get_data(as_text=True)


def test_wrong_method_is_an_italian_405(client):
    response = client.post("/healthz")
    assert response.status_code == 405
    assert "Metodo non consentito" in response.get_data(as_text=True)


def test_post_without_csrf_token_is_refused(client):
    response = client.post("/esci", csrf=False)
    assert response.status_code == 400
    assert "Il modulo è scaduto o non è valido" in response.get_data(as_text=True)


def test_security_headers(client):
    response = client.get("/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"


def test_language_switch_to_english_and_back(client, ambito):
    client.get("/lingua/en?next=/")
    assert '<html lang="en">' in client.get("/").get_data(as_text=True)
    client.get("/lingua/it")
    assert '<html lang="it">' in client.get("/").get_data(as_text=True)


def test_language_switch_refuses_offsite_next(client):
    response = client.get("/lingua/en?next=https://evil.example/")
    assert response.status_code == 302
    assert response.headers["Location"] == "/"


def test_production_refuses_to_start_without_secret_key(monkeypatch):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    with pytest.raises(RuntimeError, match="SECRET_KEY"):
        load_config("production")


def test_production_refuses_debug(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DEBUG", "1")
    with pytest.raises(RuntimeError, match="DEBUG"):
        load_config("production")


def test_production_cookies_are_secure(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.delenv("DEBUG", raising=False)
    cfg = load_config("production")
    assert cfg.SESSION_COOKIE_SECURE and cfg.SESSION_COOKIE_HTTPONLY and cfg.SESSION_COOKIE_SAMESITE == "Lax"
    assert cfg.REMEMBER_COOKIE_SECURE


def test_environment_overrides_settings(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgres://u@db/consulta")
    monkeypatch.setenv("EDIT_GRACE_MINUTES", "45")
    cfg = load_config("development")
    assert cfg.SQLALCHEMY_DATABASE_URI == "postgresql+psycopg://u@db/consulta"
    assert cfg.EDIT_GRACE_MINUTES == 45


def test_too_large_request_is_an_italian_413(make_app):
    small = make_app(MAX_CONTENT_LENGTH=1024)
    response = small.test_client().post("/esci", data={"x": "a" * 5000}, csrf=False)
    assert response.status_code == 413
    assert "Contenuto troppo grande" in response.get_data(as_text=True)


def test_unexpected_error_is_an_italian_500_and_rolls_back(make_app):
    fragile = make_app(PROPAGATE_TEST_ERRORS=False)

    @fragile.get("/rompi")
    def broken():
        raise RuntimeError("boom")

    response = fragile.test_client().get("/rompi")
    assert response.status_code == 500
    body = response.get_data(as_text=True)
    assert "Errore del sistema" in body and "boom" not in body


def test_api_errors_are_json(client):
    response = client.get("/api/v1/non-esiste")
    assert response.status_code == 404
    assert response.json["status"] == 404 and response.json["error"] == "Pagina non trovata"


def test_static_assets_are_versioned_and_cached_for_a_year_as_immutable(client, ambito):
    import re

    html = client.get("/").get_data(as_text=True)
    stylesheet = re.search(r'href="(/static/vendor/bootstrap-italia/css/bootstrap-italia\.min\.css\?v=([0-9a-f]{12}))"',
                           html)
    assert stylesheet, "the stylesheet link carries its content version"
    versioned = client.get(stylesheet.group(1))
    assert versioned.status_code == 200
    assert set(versioned.headers["Cache-Control"].split(", ")) == {"public", "max-age=31536000", "immutable"}
    # Without the version (e.g. a font named by a stylesheet), or with a stale one: a short cache only.
    for url in ("/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css",
                "/static/vendor/bootstrap-italia/css/bootstrap-italia.min.css?v=000000000000"):
        cache_control = client.get(url).headers["Cache-Control"]
        assert "max-age=3600" in cache_control and "immutable" not in cache_control
    # A version asked for a name outside the static folder reads nothing and finds nothing.
    for url in ("/static/..%2F..%2Fconfig.py?v=1", "/static/css?v=1", "/static/nessuno.css?v=1"):
        assert client.get(url).status_code == 404


def test_favicon_answers_at_the_root_and_is_linked(client):
    with client.get("/favicon.ico") as response:
        assert response.status_code == 200 and response.mimetype in ("image/vnd.microsoft.icon", "image/x-icon")
        assert response.data[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon" href="/static/img/favicon.svg?v=' in client.get("/").get_data(as_text=True)


def test_time_elements_carry_whole_seconds(app):
    from datetime import UTC, date, datetime

    iso = app.jinja_env.filters["iso"]
    assert iso(datetime(2026, 12, 7, 5, 30, 15, 123456, tzinfo=UTC)) == "2026-12-07T05:30:15+00:00"
    assert iso(date(2026, 12, 7)) == "2026-12-07" and iso(None) == ""

# The limiter is one shared object: an app made here must not switch it on for the other tests.
QUIET = {"SQLALCHEMY_DATABASE_URI": "sqlite://", "RATELIMIT_ENABLED": False}
GOOD_KEY = "3f0c9b1e5a7d2c4e8b6a9f1d3c5e7a9b0d2f4a6c8e0b2d4f6a8c0e2b4d6f8a0c"  # 64 hex characters, 32 bytes


@pytest.mark.parametrize("key, problem", [
    ("dev-only-not-secret", "public development key"),
    ("test-only-not-secret", "public development key"),
    ("abcde", "too short"),
    ("x" * 31, "too short"),
])
def test_production_refuses_a_public_or_short_secret_key(monkeypatch, key, problem):
    monkeypatch.setenv("SECRET_KEY", key)
    monkeypatch.delenv("DEBUG", raising=False)
    with pytest.raises(RuntimeError, match=problem) as refusal:
        load_config("production")
    assert 'python -c "import secrets; print(secrets.token_hex(32))"' in str(refusal.value)


def test_production_refuses_a_weak_key_given_to_create_app(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.delenv("DEBUG", raising=False)
    with pytest.raises(RuntimeError, match="too short"):
        create_app("production", SECRET_KEY="abcde", **QUIET)


def test_production_starts_with_a_good_key(monkeypatch):
    monkeypatch.setenv("SECRET_KEY", GOOD_KEY)
    monkeypatch.delenv("DEBUG", raising=False)
    app = create_app("production", **QUIET)
    assert app.secret_key == GOOD_KEY and not app.debug


@pytest.mark.parametrize("name", ["development", "testing"])
def test_development_and_testing_still_start_with_their_own_keys(monkeypatch, name):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    app = create_app(name, **QUIET)
    assert app.secret_key in ("dev-only-not-secret", "test-only-not-secret")


@pytest.mark.parametrize(("status", "words"), [
    ("consulting", "Partecipa alla costruzione del Piano 2025–2027"),
    ("monitoring", "Il Piano 2025–2027 è adottato: segui come vengono attuate le sue azioni"),
    ("closed", "Il Piano 2025–2027 è concluso"),
])
def test_the_home_page_speaks_of_the_plan_as_it_stands(client, ambito, create_plan, status, words):
    from datetime import date

    kwargs = {} if status == "consulting" else {"adoption_reference": "Delibera n. 7",
                                                 "adoption_date": date(2025, 4, 1)}
    create_plan(title="Piano 2025–2027", status=status, **kwargs)
    assert words in client.get("/").get_data(as_text=True)
