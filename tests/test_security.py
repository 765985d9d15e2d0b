"""Headers, CSRF and request limits, as a browser would meet them."""

import re

import pytest

from .conftest import csrf_token


@pytest.mark.parametrize("url", ["/", "/staff/", "/staff/login"])
def test_every_page_sends_the_security_headers(client, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert "camera=()" in response.headers["Permissions-Policy"]
    assert response.headers["Cache-Control"] == "no-store"


def test_patient_pages_are_never_cached(journey):
    journey.start()
    page = journey.about()
    assert page.headers["Cache-Control"] == "no-store"


def test_static_files_may_be_cached(client):
    with client.get("/static/css/app.css") as response:
        assert response.status_code == 200
        assert response.headers.get("Cache-Control") != "no-store"


def test_the_session_cookie_is_strict_and_http_only(journey):
    response = journey.start()
    cookie = journey.client.get_cookie("session")
    assert cookie is not None and cookie.http_only and cookie.same_site == "Strict"
    assert response.status_code == 200


def test_no_patient_data_in_the_session_cookie(journey):
    journey.start()
    journey.about(name="Secretive Person", dob="1955-05-05")
    raw = journey.client.get_cookie("session").value
    import base64
    import zlib

    payload = raw.lstrip(".").split(".")[0]
    data = base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))
    if raw.startswith("."):
        data = zlib.decompress(data)
    assert b"Secretive" not in data and b"1955" not in data
    assert b"draft_id" in data


def test_a_post_without_a_csrf_token_gets_a_friendly_page(client):
    client.get("/")
    response = client.post("/start", data={"procedure": "microneedling"})
    assert response.status_code == 400
    assert "This page had expired" in response.text


def test_a_post_with_a_forged_csrf_token_is_refused(client):
    page = client.get("/")
    token = csrf_token(page.text)
    response = client.post("/start", data={"procedure": "microneedling", "csrf_token": token[::-1]})
    assert response.status_code == 400


def test_an_oversized_request_gets_a_friendly_413(client):
    response = client.post("/start", data={"procedure": "x" * (3 * 1024 * 1024)})
    assert response.status_code == 413
    assert "too large" in response.text


def test_an_unknown_procedure_is_a_404(client):
    page = client.get("/")
    response = client.post(
        "/start", data={"procedure": "tattoo-removal", "csrf_token": csrf_token(page.text)}
    )
    assert response.status_code == 404


def test_every_input_has_a_visible_label(journey):
    import re

    journey.start()
    pages = [journey.page.text]
    journey.about()
    pages.append(journey.page.text)
    for html in pages:
        for input_id in re.findall(r'<(?:input|textarea|select)[^>]*\bid="([^"]+)"', html):
            if input_id == "csrf_token":
                continue
            pattern = rf'<(?:input|textarea|select)[^>]*\bid="{input_id}"[^>]*>'
            tag = re.search(pattern, html).group(0)
            if 'type="hidden"' in tag:
                continue
            assert f'for="{input_id}"' in html, input_id


def test_markup_typed_by_a_patient_is_shown_as_text_everywhere(journey, auth, client):
    script = "<script>alert('x')</script>"
    journey.to_signature(name=f"Eve {script}")
    assert script not in journey.get("/step/review").text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;" in journey.page.text
    journey.get("/step/sign")
    assert journey.sign(name=f"Eve {script}").request.path == "/finished"
    auth.create()
    auth.login()
    listing = client.get("/staff/").text
    assert script not in listing and "&lt;script&gt;" in listing
    record_url = re.search(r'href="(/staff/records/[^"]+)"', listing).group(1)
    record_page = client.get(record_url).text
    assert script not in record_page and "&lt;script&gt;" in record_page


def test_overlong_text_gets_a_clear_limit_message_and_is_kept(journey):
    journey.start()
    page = journey.about(name="N" * 250)
    assert "Please keep this to 200 characters or fewer." in page.text
    assert 'value="' + "N" * 250 + '"' in page.text


def test_a_signature_with_too_many_points_is_refused_clearly(app, journey):
    import json

    journey.to_signature()
    too_many = app.config["SIGNATURE_MAX_POINTS"] + 1
    points = [[10 + (i % 600), 20 + (i % 150)] for i in range(too_many)]
    page = journey.sign(signature=json.dumps({"width": 700, "height": 220, "strokes": [points]}))
    assert "That signature is too long. Please press Clear and sign again." in page.text


def test_hsts_is_sent_only_when_configured_and_over_https(database_url):
    from consentapp import create_app

    from .conftest import _test_config

    plain = create_app(_test_config(database_url)).test_client()
    assert "Strict-Transport-Security" not in plain.get("/", base_url="https://kiosk").headers
    app = create_app(_test_config(database_url, HSTS_SECONDS=31536000))
    secure = app.test_client().get("/", base_url="https://kiosk")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Strict-Transport-Security" not in app.test_client().get("/").headers


def test_proxy_fix_trusts_the_configured_proxy_for_the_scheme(database_url):
    from consentapp import create_app

    from .conftest import _test_config

    app = create_app(_test_config(database_url, HSTS_SECONDS=60, PROXY_FIX_X_PROTO=1))
    response = app.test_client().get("/", headers={"X-Forwarded-Proto": "https"})
    assert response.headers["Strict-Transport-Security"] == "max-age=60"


def test_every_post_route_without_a_csrf_token_gets_the_friendly_400(app, client, auth):
    auth.create()
    auth.login()
    posts = [
        rule for rule in app.url_map.iter_rules()
        if "POST" in rule.methods and rule.endpoint != "static"
    ]
    assert len(posts) >= 5
    from werkzeug.routing import IntegerConverter

    for rule in posts:
        values = {
            name: 1 if isinstance(converter, IntegerConverter) else "about"
            for name, converter in rule._converters.items()
        }
        with app.test_request_context():
            from flask import url_for

            url = url_for(rule.endpoint, **values)
        response = client.post(url, data={"procedure": "microneedling"})
        assert response.status_code == 400, url
        assert "This page had expired" in response.text, url


def test_an_https_public_address_turns_on_secure_cookies_hsts_and_https_links(database_url):
    from flask import url_for

    from consentapp import create_app

    from .conftest import _test_config

    app = create_app(_test_config(database_url, PUBLIC_BASE_URL="https://consent.clinic.lan/"))
    assert app.config["PUBLIC_BASE_URL"] == "https://consent.clinic.lan"
    assert app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["HSTS_SECONDS"] == 365 * 24 * 3600
    assert app.config["PREFERRED_URL_SCHEME"] == "https"
    response = app.test_client().get("/", base_url="https://consent.clinic.lan")
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert "Secure" in response.headers["Set-Cookie"]
    app.config["SERVER_NAME"] = "consent.clinic.lan"  # links made outside a request
    with app.app_context():
        assert url_for("patient.welcome", _external=True) == "https://consent.clinic.lan/"


def test_each_of_the_three_can_still_be_set_on_its_own(database_url, monkeypatch):
    from consentapp import create_app

    from .conftest import _test_config

    app = create_app(_test_config(database_url, PUBLIC_BASE_URL="https://consent.clinic.lan",
                                  SESSION_COOKIE_SECURE=False, HSTS_SECONDS=300,
                                  PREFERRED_URL_SCHEME="http"))
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["HSTS_SECONDS"] == 300
    assert app.config["PREFERRED_URL_SCHEME"] == "http"
    # From the environment too, as a clinic's settings file gives them.
    monkeypatch.setenv("SECRET_KEY", "x" * 40)
    monkeypatch.setenv("DATABASE_URL", database_url)
    monkeypatch.setenv("PUBLIC_BASE_URL", "https://consent.clinic.lan")
    monkeypatch.setenv("HSTS_SECONDS", "0")
    app = create_app()
    assert app.config["HSTS_SECONDS"] == 0 and app.config["SESSION_COOKIE_SECURE"] is True


@pytest.mark.parametrize("address", [None, "http://192.168.1.20:8000"])
def test_without_an_https_address_none_of_the_three_is_on(database_url, address):
    from consentapp import create_app

    from .conftest import _test_config

    app = create_app(_test_config(database_url, PUBLIC_BASE_URL=address))
    assert app.config["SESSION_COOKIE_SECURE"] is False
    assert app.config["HSTS_SECONDS"] == 0
    assert app.config["PREFERRED_URL_SCHEME"] == "http"


def test_a_public_address_without_a_scheme_is_refused(database_url):
    from consentapp import create_app
    from consentapp.settings import ConfigurationError

    from .conftest import _test_config

    with pytest.raises(ConfigurationError, match="PUBLIC_BASE_URL 'consent.clinic.lan' is not "
                                                 "an address: give https://"):
        create_app(_test_config(database_url, PUBLIC_BASE_URL="consent.clinic.lan"))
