"""Every staff page: a visible label for every input, a button or link with text for every
action, a CSRF token in every form that posts, and no inline script or style."""

import re

import pytest
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import StaffUser


@pytest.fixture
def pages(app, staff, make_record):
    record_id = make_record("Label Check", "1970-01-01", "diabetes")
    admin, clinician, desk = staff("admin"), staff("clinician"), staff("frontdesk")
    with app.app_context():
        user_id = db.session.scalar(select(StaffUser.id).where(StaffUser.role == "frontdesk"))
    return [
        clinician.get("/staff/").text,
        clinician.get(f"/staff/records/{record_id}").text,
        desk.get("/staff/").text,
        desk.get(f"/staff/records/{record_id}").text,
        desk.get("/staff/account/password").text,
        admin.get("/staff/admin/staff").text,
        admin.get("/staff/admin/staff/new").text,
        admin.get(f"/staff/admin/staff/{user_id}").text,
        admin.get("/staff/admin/audit").text,
        admin.get("/staff/admin/settings").text,
        app.test_client().get("/staff/login").text,
    ]


def test_every_input_has_a_visible_label(pages):
    checked = 0
    for html in pages:
        for tag in re.findall(r"<(?:input|textarea|select)\b[^>]*>", html):
            if 'type="hidden"' in tag:
                continue
            input_id = re.search(r'\bid="([^"]+)"', tag).group(1)
            assert f'for="{input_id}"' in html, tag
            checked += 1
    assert checked >= 30


def test_every_action_has_text_and_every_post_has_a_csrf_token(pages):
    for html in pages:
        for button in re.findall(r"<button\b[^>]*>(.*?)</button>", html, re.S):
            assert button.strip(), html
        for form in re.findall(r'<form\b[^>]*method="post"[^>]*>(.*?)</form>', html, re.S):
            assert 'name="csrf_token"' in form
        assert "<script>" not in html and " style=" not in html and "<style" not in html
