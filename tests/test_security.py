"""Headers, CSRF and request limits, as a browser would meet them."""

import pytest

from .conftest import csrf_token


@pytest.mark.parametrize("url", ["/", "/staff/", "/staff/login"])
def test_every_page_sends_the_security_headers(client, url):
    response = client.get(url)
    csp = response.headers["Content-Security-Policy"]
    assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
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
