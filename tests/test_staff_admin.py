"""Administrators: staff accounts in the web UI, the audit log and its CSV export."""

import csv
import io
import re
from datetime import datetime

from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import StaffUser
from consentapp.staff.csv_stream import neutralise

from .conftest import csrf_token, sign_in


def _user(app, email) -> StaffUser:
    with app.app_context():
        user = db.session.scalar(select(StaffUser).where(StaffUser.email == email))
        db.session.expunge(user)
        return user


def test_an_admin_adds_a_staff_member_who_must_choose_a_password(app, staff):
    admin = staff("admin")
    page = admin.get("/staff/admin/staff/new")
    response = admin.post("/staff/admin/staff/new", data={
        "email": "New.Nurse@Example.org", "full_name": "Nia Nurse", "role": "clinician",
        "csrf_token": csrf_token(page.text),
    })
    assert response.status_code == 200
    password = re.search(r'<p class="temporary-password"><code>([^<]+)</code>', response.text)[1]
    assert "shown only now" in response.text
    # Never stored in the cookie: a flashed password would travel in the signed session.
    assert password.encode() not in admin.get_cookie("session").value.encode()
    user = _user(app, "new.nurse@example.org")
    assert user.full_name == "Nia Nurse" and user.role == "clinician" and user.must_change_password

    nurse = app.test_client()
    assert sign_in(nurse, "new.nurse@example.org", password).headers["Location"] == (
        "/staff/account/password"
    )
    listing = admin.get("/staff/admin/staff").text
    assert "Nia Nurse" in listing and "Must choose a password" in listing


def test_adding_an_account_twice_or_without_data_is_explained(staff):
    admin = staff("admin")
    token = csrf_token(admin.get("/staff/admin/staff/new").text)
    page = admin.post("/staff/admin/staff/new", data={
        "email": "ADMIN@example.org", "full_name": "Dup", "role": "admin", "csrf_token": token,
    })
    assert "A staff account for admin@example.org already exists." in page.text
    assert 'value="Dup"' in page.text
    page = admin.post("/staff/admin/staff/new", data={"csrf_token": token})
    for message in ("Please enter the person", "Please enter their full name",
                    "Please choose a role"):
        assert message in page.text


def test_an_admin_deactivates_someone_who_is_signed_in_elsewhere(app, staff):
    admin = staff("admin")
    desk = staff("frontdesk")
    assert desk.get("/staff/").status_code == 200
    user = _user(app, "frontdesk@example.org")
    page = admin.get(f"/staff/admin/staff/{user.id}")
    assert "Recent sign-ins" in page.text and "still open" in page.text
    response = admin.post(f"/staff/admin/staff/{user.id}/deactivate",
                          data={"csrf_token": csrf_token(page.text)})
    assert response.status_code == 302
    assert "1 open session(s) ended" in admin.get(response.headers["Location"]).text
    thrown_out = desk.get("/staff/records/anything")
    assert thrown_out.status_code == 302 and "/staff/login" in thrown_out.headers["Location"]
    assert not _user(app, "frontdesk@example.org").active
    # ... and back: reactivated accounts sign in again (the record of them never went away).
    page = admin.get(f"/staff/admin/staff/{user.id}")
    assert "(deactivated)" in page.text
    admin.post(f"/staff/admin/staff/{user.id}/reactivate",
               data={"csrf_token": csrf_token(page.text)})
    assert sign_in(app.test_client(), "frontdesk@example.org").status_code == 302


def test_an_admin_cannot_lock_themselves_out(app, staff):
    admin = staff("admin")
    me = _user(app, "admin@example.org")
    page = admin.get(f"/staff/admin/staff/{me.id}")
    assert "another administrator can reset or deactivate it" in page.text
    response = admin.post(f"/staff/admin/staff/{me.id}/deactivate",
                          data={"csrf_token": csrf_token(page.text)}, follow_redirects=True)
    assert "You cannot deactivate your own account" in response.text
    response = admin.post(f"/staff/admin/staff/{me.id}", data={
        "full_name": "Me", "role": "frontdesk", "csrf_token": csrf_token(page.text)})
    assert "You cannot change your own role" in response.text
    me = _user(app, "admin@example.org")
    assert me.active and me.role == "admin"


def test_an_admin_resets_a_password_in_the_web_ui(app, staff):
    admin = staff("admin")
    clinician = staff("clinician")
    user = _user(app, "clinician@example.org")
    page = admin.get(f"/staff/admin/staff/{user.id}")
    response = admin.post(f"/staff/admin/staff/{user.id}/reset-password",
                          data={"csrf_token": csrf_token(page.text)})
    password = re.search(r'<p class="temporary-password"><code>([^<]+)</code>', response.text)[1]
    assert "Staff sign-in" in clinician.get("/staff/").text  # the reset signed them out
    fresh = app.test_client()
    assert sign_in(fresh, "clinician@example.org", password).status_code == 302


def test_settings_show_the_security_settings(staff):
    page = staff("admin").get("/staff/admin/settings").text
    assert "15 minutes idle" in page and "5 per 15 minutes" in page
    assert "STAFF_IDLE_MINUTES" in page and "RATELIMIT_STORAGE_URI" in page


# -- audit log ---------------------------------------------------------------------------

def _audit_setup(app, staff, make_record):
    record_id = make_record("=HYPERLINK(\"http://evil\")", "1970-01-01",
                            at=datetime(2026, 2, 1, 12))
    other_id = make_record("Plain Person", "1970-01-01", at=datetime(2026, 2, 2, 12))
    desk = staff("frontdesk")
    clinician = staff("clinician")
    desk.get(f"/staff/records/{record_id}")
    clinician.get(f"/staff/records/{other_id}")
    page = clinician.get(f"/staff/records/{other_id}")
    clinician.post(f"/staff/records/{other_id}/review", data={
        "decision": "approved", "note": "-1+1 looks fine @ today",
        "csrf_token": csrf_token(page.text)})
    return record_id, other_id


def test_the_audit_log_answers_who_saw_this_record_and_when(app, staff, make_record):
    record_id, other_id = _audit_setup(app, staff, make_record)
    admin = staff("admin")
    page = admin.get("/staff/admin/audit").text
    assert "frontdesk@example.org" in page and "clinician@example.org" in page
    assert "Approved for treatment" in page

    def rows(**filters):
        html = admin.get("/staff/admin/audit", query_string=filters).text
        return re.findall(r"<tr>\s*<td>[^<]+</td>\s*<td>([^<]+)</td>\s*<td>([^<]+)</td>", html)

    assert set(rows(who="frontdesk@example.org")) == {("frontdesk@example.org", "Viewed")}
    assert set(rows(kind="approved")) == {("clinician@example.org", "Approved for treatment")}
    assert ("clinician@example.org", "Viewed") in rows(who="clinician@example.org", kind="viewed")
    assert rows(date_to="2000-01-01") == []
    assert len(rows(date_from=datetime.now().date().isoformat())) >= 4
    assert ("patient", "Signed by the patient") in rows(who="patient")
    bad = admin.get("/staff/admin/audit", query_string={"date_from": "soon"})
    assert bad.status_code == 200 and "Not a valid date value." in bad.text


def test_the_audit_csv_neutralises_formulas(app, staff, make_record):
    _audit_setup(app, staff, make_record)
    admin = staff("admin")
    response = admin.get("/staff/admin/audit.csv", query_string={"who": "frontdesk@example.org"})
    assert response.mimetype == "text/csv"
    assert response.headers["Content-Disposition"] == 'attachment; filename="audit-log.csv"'
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert len(table) == 1
    assert table[0]["patient"] == "'=HYPERLINK(\"http://evil\")"
    assert table[0]["event"] == "viewed" and table[0]["who"] == "frontdesk@example.org"

    approvals = list(csv.DictReader(io.StringIO(
        admin.get("/staff/admin/audit.csv", query_string={"kind": "approved"}).text)))
    assert len(approvals) == 1
    assert '"note": "-1+1 looks fine @ today"' in approvals[0]["details_json"]
    for row in csv.DictReader(io.StringIO(admin.get("/staff/admin/audit.csv").text)):
        for value in row.values():
            assert not value.startswith(("=", "+", "-", "@")), value


def test_neutralise():
    assert neutralise("=1+2") == "'=1+2"
    assert neutralise("+44 20") == "'+44 20"
    assert neutralise("-3") == "'-3"
    assert neutralise("@SUM(A1)") == "'@SUM(A1)"
    assert neutralise("\t=x") == "'\t=x"
    assert neutralise("Maria") == "Maria" and neutralise(None) == ""
