"""A treatment course: one signed consent, then a short check-in at each later visit.

Driven as people use it: the patient signs on the tablet, front desk presses "Start a visit
check-in on this tablet" on the record page, the patient confirms their date of birth,
answers the check-in questions, signs, and hands the tablet back. The record's chain, its
PDF versions, `verify` and `audit check` are then read as staff and auditors would.
"""

import hashlib
import re
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from consentapp.extensions import db
from consentapp.models import (
    ConsentRecord,
    DefinitionSnapshot,
    EventKind,
    PatientDraft,
    RecordEvent,
    RecordListing,
    RecordPdf,
)
from consentapp.procedures import catalog
from consentapp.procedures.loader import DefinitionError, parse_definition
from consentapp.records import commit, course
from consentapp.records.content import content_sha256

from .conftest import csrf_token
from .journey import all_screening_answers, drawn_signature
from .pdf import pdf_text

FORMS = Path(__file__).resolve().parent.parent / "forms" / "microneedling"
DOB = "1971-04-09"
COURSE_HEADING = "\n# " + "-" * 75 + "\n# The course."


ORDINARY = {"isotretinoin_use": "no", "pregnant_now": "no", "cold_sore_history": "no",
            "skin_infection": "no", "active_acne": "no", "sunburn": "no",
            "recent_treatments": "no", "new_medicines": "no", "health_changed": "no"}


def _session(client) -> dict:
    with client.session_transaction() as data:
        return dict(data)


class Tablet:
    """A staff member's browser that becomes the patient's for a check-in."""

    def __init__(self, client):
        self.client = client
        self.page = None

    def get(self, url):
        self.page = self.client.get(url, follow_redirects=True)
        return self.page

    def post(self, url, data, follow_redirects=True):
        self.page = self.client.post(url, data={**data, "csrf_token": csrf_token(self.page.text)},
                                     follow_redirects=follow_redirects)
        return self.page

    def start_check_in(self, record_id):
        self.get(f"/staff/records/{record_id}")
        session = re.search(r'name="session" value="(\d+)"', self.page.text).group(1)
        return self.post(f"/staff/records/{record_id}/check-in", {"session": session})

    def date_of_birth(self, dob=DOB):
        year, month, day = dob.split("-")
        return self.post("/check-in", {"date_of_birth-day": day, "date_of_birth-month": month,
                                       "date_of_birth-year": year})

    def answers(self, **chosen):
        data = {**ORDINARY, **chosen}
        shown = " ".join(key for key in ("active_cold_sore", "new_medicines_list",
                                         "health_changed_details") if key in data)
        return self.post("/check-in/questions", {**data, "shown": shown})

    def sign(self, name="Maria Example", method="drawn", agree=True):
        data = {"signer_name": name, "signature_method": method}
        if agree:
            data["agree_no_change"] = "y"
        if method == "drawn":
            data["signature"] = drawn_signature()
        return self.post("/check-in/sign", data)


def _signed_record(app, journey) -> str:
    journey.complete()
    assert "Thank you. You are all done." in journey.page.text
    with app.app_context():
        return db.session.scalars(select(ConsentRecord.id)).one()


def _events(app, record_id, kind=None) -> list[RecordEvent]:
    with app.app_context():
        query = select(RecordEvent).where(RecordEvent.record_id == record_id)
        if kind:
            query = query.where(RecordEvent.kind == kind)
        events = list(db.session.scalars(query.order_by(RecordEvent.id)))
        db.session.expunge_all()
        return events


def _latest_pdf(app, record_id) -> RecordPdf:
    with app.app_context():
        pdf = db.session.scalars(select(RecordPdf).where(RecordPdf.record_id == record_id)
                                 .order_by(RecordPdf.version.desc())).first()
        db.session.expunge_all()
        return pdf


# -- the definition ---------------------------------------------------------------------------


def test_the_shipped_definition_has_a_course():
    definition = parse_definition((FORMS / "en.toml").read_text(), "en.toml")
    assert definition.course.max_sessions == 6 and definition.course.within_months == 12
    asked = [question.key for question in definition.check_in_questions()]
    for key in ("sunburn", "active_cold_sore", "active_acne", "isotretinoin_use",
                "pregnant_now", "recent_treatments", "new_medicines", "health_changed"):
        assert key in asked
    assert definition.major_version == 2


@pytest.mark.parametrize(("change", "problem"), [
    ('ask_again = ["isotretinoin_use"', "course.ask_again: no question 'isotretinoin_usex'"),
    ("max_sessions = 6", "course.max_sessions"),
    ('key = "health_changed"\nkind = "yesno"', "course.questions[sunburn]: a question of the "
                                               "definition has this key"),
    ('when = { question = "health_changed", answers = ["yes"] }',
     "course.rules[health_changed].when.question: no question 'health_changd'"),
])
def test_forms_check_names_what_is_wrong_with_a_course(change, problem):
    source = (FORMS / "en.toml").read_text()
    broken = {
        'ask_again = ["isotretinoin_use"': 'ask_again = ["isotretinoin_usex"',
        "max_sessions = 6": "max_sessions = 1",
        'key = "health_changed"\nkind = "yesno"': 'key = "sunburn"\nkind = "yesno"',
        'when = { question = "health_changed", answers = ["yes"] }':
            'when = { question = "health_changd", answers = ["yes"] }',
    }[change]
    assert change in source
    with pytest.raises(DefinitionError) as raised:
        parse_definition(source.replace(change, broken, 1), "en.toml")
    assert any(problem in line for line in raised.value.problems), raised.value.problems


def test_forms_check_accepts_the_shipped_course(runner):
    result = runner.invoke(args=["forms", "check"])
    assert result.exit_code == 0, result.output
    assert "0 errors" in result.output


# -- two visits, then the record ---------------------------------------------------------------


@pytest.mark.renders_pdfs
def test_a_consent_then_two_check_ins_make_pdf_version_3(app, journey, staff, runner, tmp_path):
    record_id = _signed_record(app, journey)
    assert _latest_pdf(app, record_id).version == 1

    desk = staff("frontdesk")
    record_page = desk.get(f"/staff/records/{record_id}").text
    assert "session 1 of 6" in record_page
    assert "Start a visit check-in on this tablet" in record_page

    # Visit 2: eligible.
    tablet = Tablet(desk)
    tablet.start_check_in(record_id)
    assert tablet.page.request.path == "/check-in"
    assert "Welcome back, Maria" in tablet.page.text
    assert "Example" not in tablet.page.text  # the first name only
    assert _session(desk).get("patient_mode") is True
    assert "_user_id" not in _session(desk)
    tablet.date_of_birth()
    assert tablet.page.request.path == "/check-in/questions"
    # Asked fresh: nothing is chosen already.
    assert "checked" not in tablet.page.text
    tablet.answers()
    assert tablet.page.request.path == "/check-in/sign"
    assert "Nothing else about my health has changed since my last visit." in tablet.page.text
    tablet.sign()
    assert tablet.page.request.path == "/finished"
    assert "Your check-in has been saved" in tablet.page.text
    assert "Please hand the tablet back" in tablet.page.text
    with app.app_context():
        assert db.session.scalars(select(PatientDraft)).all() == []

    # Visit 3: a change in health (review) and a new medicine (a flag for the clinician).
    clinician = staff("clinician")
    tablet = Tablet(clinician)
    tablet.start_check_in(record_id)
    tablet.date_of_birth()
    tablet.answers(health_changed="yes", health_changed_details="A new thyroid pill",
                   new_medicines="yes", new_medicines_list="Levothyroxine")
    assert tablet.page.request.path == "/check-in/sign", tablet.page.text
    assert "A clinician will talk with you first" in tablet.page.text
    tablet.sign(method="typed")
    assert tablet.page.request.path == "/finished"

    visits = _events(app, record_id, EventKind.VISIT_CHECKED_IN)
    assert [v.details["session"] for v in visits] == [2, 3]
    assert [v.details["outcome"] for v in visits] == ["eligible", "needs_review"]
    assert visits[0].details["started_by"] == "frontdesk@example.org"
    assert visits[1].details["started_by"] == "clinician@example.org"
    assert visits[0].details["signature_method"] == "drawn"
    assert visits[1].details["signature_method"] == "typed"
    rules = {r["rule"]: r["effect"] for r in visits[1].details["outcome_reasons"]}
    assert rules["health_changed"] == "needs_review" and rules["new_medicines"] == "flag"
    assert visits[1].details["answers"]["new_medicines_list"] == "Levothyroxine"

    pdf = _latest_pdf(app, record_id)
    assert pdf.version == 3
    text = pdf_text(pdf.content)
    assert "Visits" in text
    assert "Session 2 of 6" in text and "Session 3 of 6" in text
    assert "Check-in outcome: Eligible" in text
    assert "Check-in outcome: Needs clinician review" in text
    assert "Levothyroxine" in text and "A new thyroid pill" in text
    assert "New medicine, vitamin or supplement since the last visit" in text
    assert "drawn by hand on the tablet" in text and "Signed by typing their name" in text
    assert "clinician@example.org" in text

    path = tmp_path / "v3.pdf"
    path.write_bytes(pdf.content)
    assert runner.invoke(args=["verify", str(path)]).exit_code == 0
    audit = runner.invoke(args=["audit", "check"])
    assert audit.exit_code == 0, audit.output

    desk = staff("frontdesk")  # the staff member signs in again
    dashboard = desk.get("/staff/").text
    assert "session 3 of 6" in dashboard
    assert re.search(r"last visit:</span> <span class=\"badge badge--needs_review\">", dashboard)
    page = desk.get(f"/staff/records/{record_id}").text
    assert "session 3 of 6" in page
    assert "Patient reports another change in their health" in page
    fhir = desk.get(f"/staff/records/{record_id}/fhir").get_json()
    responses = [e["resource"] for e in fhir["entry"]
                 if e["resource"]["resourceType"] == "QuestionnaireResponse"]
    assert len(responses) == 3  # the consent and each visit


def test_a_changed_record_breaks_the_check_ins_hash(app, journey, staff, runner):
    record_id = _signed_record(app, journey)
    tablet = Tablet(staff("frontdesk"))
    tablet.start_check_in(record_id)
    tablet.date_of_birth()
    tablet.answers()
    tablet.sign()
    with app.app_context():
        details = db.session.scalars(select(RecordEvent.details).where(
            RecordEvent.kind == EventKind.VISIT_CHECKED_IN)).one()
        record = db.session.get(ConsentRecord, record_id)
        assert details["record_content_sha256"] == content_sha256(record)
    assert runner.invoke(args=["audit", "check"]).exit_code == 0
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(update(ConsentRecord).values(patient_contact="555-0100"))
    result = runner.invoke(args=["audit", "check"])
    assert result.exit_code == 1
    assert "the record was changed after it was written" in result.output
    # Nothing more is recorded on it: staff cannot start another check-in.
    page = staff("frontdesk").get(f"/staff/records/{record_id}")
    desk = staff("frontdesk")
    page = desk.get(f"/staff/records/{record_id}")
    refused = desk.post(f"/staff/records/{record_id}/check-in",
                        data={"csrf_token": csrf_token(page.text), "session": "3"})
    assert refused.status_code == 409


def test_not_eligible_today_is_kept_and_uses_no_session(app, journey, staff):
    record_id = _signed_record(app, journey)
    tablet = Tablet(staff("frontdesk"))
    tablet.start_check_in(record_id)
    tablet.date_of_birth()
    tablet.answers(sunburn="yes")
    assert "We cannot treat you today" in tablet.page.text
    assert "Your consent still counts for your next visit" in tablet.page.text
    visit = _events(app, record_id, EventKind.VISIT_CHECKED_IN)[0]
    assert visit.details["outcome"] == "not_eligible"
    assert visit.details["signature_method"] is None
    with app.app_context():
        assert db.session.get(RecordListing, record_id).course_sessions_used == 1
    page = staff("frontdesk").get(f"/staff/records/{record_id}").text
    assert "Not treated (not eligible today)" in page
    assert "Start a visit check-in on this tablet" in page  # the consent goes on


def test_three_wrong_dates_of_birth_end_the_check_in(app, journey, staff):
    record_id = _signed_record(app, journey)
    tablet = Tablet(staff("frontdesk"))
    tablet.start_check_in(record_id)
    before = len(_events(app, record_id))  # the record page's "viewed" included
    tablet.date_of_birth("1980-01-01")
    assert "does not match" in tablet.page.text and "2 more times" in tablet.page.text
    assert "1980" not in tablet.page.text  # the boxes are emptied
    tablet.date_of_birth("1971-09-04")
    assert "1 more time" in tablet.page.text
    tablet.date_of_birth("1970-04-09")
    assert "Please hand the tablet back" in tablet.page.text
    assert tablet.page.headers.get("Clear-Site-Data")
    after = _events(app, record_id)
    assert len(after) == before + 1  # one event, and nothing else
    assert after[-1].kind == EventKind.VISIT_IDENTITY_NOT_CONFIRMED
    assert set(after[-1].details) == {"attempts", "started_by", "address", "user_agent"}
    with app.app_context():
        assert db.session.scalars(select(PatientDraft)).all() == []
    # The tablet cannot go on to the questions.
    assert tablet.get("/check-in/questions").request.path == "/"


# -- when the consent no longer covers a visit --------------------------------------------------


def _refusal(desk, record_id) -> str:
    page = desk.get(f"/staff/records/{record_id}")
    response = desk.post(f"/staff/records/{record_id}/check-in",
                         data={"csrf_token": csrf_token(page.text), "session": "2"})
    assert response.status_code == 409
    assert "No check-in was started" in response.text
    return response.text


def test_a_withdrawn_consent_refuses_a_check_in(app, make_record, staff):
    record_id = make_record()
    desk = staff("frontdesk")
    page = desk.get(f"/staff/records/{record_id}")
    desk.post(f"/staff/records/{record_id}/withdraw",
              data={"reason": "Patient changed their mind", "csrf_token": csrf_token(page.text)})
    text = _refusal(desk, record_id)
    assert "The patient withdrew this consent" in text
    assert "Start a new consent" in text and "Start a visit check-in" not in text
    assert _session(desk).get("patient_mode") is None


def test_used_up_sessions_refuse_a_check_in(app, make_record, staff):
    record_id = make_record()
    # Four later visits through the records service, the fifth on the tablet: six in all.
    with app.app_context():
        record = db.session.get(ConsentRecord, record_id)
        definition = catalog.definition_for(record.definition_sha256)
        for number in range(4):
            course.record_check_in(record, definition, course.CheckIn(
                submission_key=f"visit-{number}", answers=ORDINARY, language="en",
                started_by="frontdesk@example.org", started_by_role="frontdesk",
                signer_name="Maria Example", signature_method="typed",
                statement_accepted=True,
            ))
    tablet = Tablet(staff("frontdesk"))
    tablet.start_check_in(record_id)
    tablet.date_of_birth()
    tablet.answers()
    tablet.sign()
    assert tablet.page.request.path == "/finished"
    with app.app_context():
        assert db.session.get(RecordListing, record_id).course_sessions_used == 6
    desk = staff("frontdesk")
    text = _refusal(desk, record_id)
    assert "All 6 sessions this consent covers have been used" in text
    assert "Start a new consent" in text and "Start a visit check-in" not in text
    due = desk.get("/staff/?course=due").text
    assert "Maria Example" in due and "Sessions used up" in due and "session 6 of 6" in due


def test_a_course_period_that_is_over_refuses_a_check_in(app, make_record, staff, monkeypatch):
    record_id = make_record()
    later = date.today() + timedelta(days=400)
    monkeypatch.setattr(course, "clinic_today", lambda: later)
    text = _refusal(staff("frontdesk"), record_id)
    assert "This consent covered visits until" in text
    assert "Start a new consent" in text and "Start a visit check-in" not in text


def test_a_raised_major_version_refuses_a_check_in(app, make_record, staff, tmp_path):
    record_id = make_record()
    forms = tmp_path / "forms" / "microneedling"
    forms.mkdir(parents=True)
    for name in ("en.toml", "es.toml"):
        (forms / name).write_text((FORMS / name).read_text().replace(
            'version = "2.1.0"', 'version = "3.0.0"', 1))
    app.config["FORMS_DIR"] = str(tmp_path / "forms")
    text = _refusal(staff("frontdesk"), record_id)
    assert "The form changed since this consent was signed" in text
    assert "Start a new consent" in text and "Start a visit check-in" not in text
    due = staff("frontdesk").get("/staff/?course=due").text
    assert "Maria Example" in due and "Form changed" in due
    assert "3" in re.search(r"new major version (\d+)", text).group(1)


def test_the_dashboard_finds_consents_due_for_a_new_consent(app, make_record, staff):
    fresh = make_record("Fresh Course")
    over = make_record("Old Course")
    with app.app_context():
        db.session.execute(update(RecordListing).where(RecordListing.record_id == over)
                           .values(course_ends_on=date.today() - timedelta(days=1)))
        db.session.commit()
    desk = staff("frontdesk")
    page = desk.get("/staff/?course=due").text
    assert "Old Course" in page and "Fresh Course" not in page
    assert "Needs a new consent" in page and "Period over" in page
    everyone = desk.get("/staff/").text
    assert "session 1 of 6" in everyone
    assert fresh


@pytest.mark.renders_pdfs
def test_the_check_in_gives_a_fresh_copy_link_to_the_new_version(app, journey, staff):
    from .test_patient_copy import qr_text

    app.config["TRUSTED_HOSTS"] = ["localhost"]
    record_id = _signed_record(app, journey)
    first = qr_text(journey.page.text)
    tablet = Tablet(staff("frontdesk"))
    tablet.start_check_in(record_id)
    tablet.date_of_birth()
    tablet.answers()
    tablet.sign()
    assert "Get your own copy" in tablet.page.text
    url = qr_text(tablet.page.text)
    assert url != first  # a link of its own, single use
    phone = app.test_client()
    path = url.removeprefix("http://localhost")
    page = phone.get(path)
    assert page.status_code == 200
    download = phone.post(path, data={"csrf_token": csrf_token(page.text)})
    assert download.status_code == 200 and download.data.startswith(b"%PDF")
    assert "Session 2 of 6" in pdf_text(download.data)
    again = phone.get(path)
    assert again.status_code == 410


@pytest.mark.renders_pdfs
def test_a_check_in_in_spanish(app, journey, staff):
    journey.complete(language="es")
    with app.app_context():
        record_id = db.session.scalars(select(ConsentRecord.id)).one()
    tablet = Tablet(staff("frontdesk"))
    tablet.start_check_in(record_id)
    assert "Hola de nuevo, Maria" in tablet.page.text
    assert 'lang="es"' in tablet.page.text
    tablet.date_of_birth("1980-01-01")
    assert "no coincide" in tablet.page.text and "2 veces más" in tablet.page.text
    tablet.date_of_birth()
    assert "Su registro de hoy" in tablet.page.text
    assert "¿Ha cambiado algo más en su salud desde su última visita?" in tablet.page.text
    tablet.answers(health_changed="yes", health_changed_details="Tengo una alergia nueva")
    assert "Nada más ha cambiado en mi salud desde mi última visita." in tablet.page.text
    assert "Un clínico hablará con usted antes del tratamiento de hoy." in tablet.page.text
    tablet.sign(method="typed")
    assert "Su registro está guardado" in tablet.page.text
    text = pdf_text(_latest_pdf(app, record_id).content)
    assert "Visitas" in text and "Sesión 2 de 6" in text
    assert "Resultado del registro: Necesita la revisión de un profesional" in text
    assert "Tengo una alergia nueva" in text
    # Staff notes stay in English in a Spanish record.
    assert "Patient reports another change in their health" in text


def test_a_page_left_open_starts_no_second_check_in_for_the_same_session(app, make_record, staff):
    record_id = make_record()
    desk = staff("frontdesk")
    page = desk.get(f"/staff/records/{record_id}")  # offers session 2
    other = Tablet(staff("clinician"))
    other.start_check_in(record_id)
    other.date_of_birth()
    other.answers()
    other.sign()
    refused = desk.post(f"/staff/records/{record_id}/check-in",
                        data={"csrf_token": csrf_token(page.text), "session": "2"})
    assert refused.status_code == 409
    assert "Session 2 was checked in meanwhile" in refused.text
    assert _session(desk).get("patient_mode") is None


def test_the_consent_withdrawn_while_the_patient_answers_keeps_nothing(app, make_record, staff):
    record_id = make_record()
    tablet = Tablet(staff("frontdesk"))
    tablet.start_check_in(record_id)
    tablet.date_of_birth()
    tablet.answers()
    clinician = staff("clinician")
    page = clinician.get(f"/staff/records/{record_id}")
    clinician.post(f"/staff/records/{record_id}/withdraw",
                   data={"reason": "Called to stop", "csrf_token": csrf_token(page.text)})
    tablet.sign()
    assert "We could not save your check-in" in tablet.page.text
    assert _events(app, record_id, EventKind.VISIT_CHECKED_IN) == []
    with app.app_context():
        assert db.session.scalars(select(PatientDraft)).all() == []
    due = staff("frontdesk").get("/staff/?course=due").text
    assert "Maria Example" in due and "Withdrawn" in due


def test_a_record_without_a_course_needs_a_new_consent_for_every_visit(app, staff):
    """A consent signed with 2.0.0 (no course) covers the visit it was signed at only."""
    source = (FORMS / "en.toml").read_text()
    old = source[:source.index(COURSE_HEADING)].replace('version = "2.1.0"',
                                                        'version = "2.0.0"', 1)
    definition = parse_definition(old, "2.0.0")
    assert definition.course is None
    sha = hashlib.sha256(old.encode()).hexdigest()
    with app.app_context():
        db.session.add(DefinitionSnapshot(sha256=sha, slug="microneedling", version="2.0.0",
                                          language="en", source=old))
        db.session.commit()
        record_id = commit.commit_record(definition, commit.Submission(
            submission_key="old-one", definition_sha256=sha, language="en",
            patient_name="Old Form", patient_dob=date(1971, 4, 9), patient_contact=None,
            answers=all_screening_answers(), signer_name="Old Form", signature_method="typed",
            teach_back=[{"key": q.key, "attempts": [q.answer], "correct": True}
                        for q in definition.teach_back],
            photo_consent=commit.photo_consent("en", {}),
            esign_agreement=commit.esign_agreement("en", datetime(2026, 1, 5, 10, 0)),
        )).id
    desk = staff("frontdesk")
    text = _refusal(desk, record_id)
    assert "which covers one visit only" in text
    assert "Start a new consent" in text
    page = desk.get(f"/staff/records/{record_id}")
    started = desk.post(f"/staff/records/{record_id}/new-consent",
                        data={"csrf_token": csrf_token(page.text), "procedure": "microneedling"})
    assert started.status_code == 302 and started.headers["Location"] == "/step/about"
    assert _session(desk).get("patient_mode") is True


def test_a_check_in_left_alone_is_wiped_like_a_first_consent(app, make_record, staff):
    record_id = make_record()
    tablet = Tablet(staff("frontdesk"))
    tablet.start_check_in(record_id)
    tablet.date_of_birth()
    tablet.answers(health_changed="yes", health_changed_details="Private words")
    assert tablet.page.request.path == "/check-in/sign"
    # The inactivity script's reset, as idle.js posts it.
    reset = tablet.post("/timed-out", {}, follow_redirects=False)
    assert reset.status_code == 302 and reset.headers.get("Clear-Site-Data")
    with app.app_context():
        assert db.session.scalars(select(PatientDraft)).all() == []
    assert _events(app, record_id, EventKind.VISIT_CHECKED_IN) == []
    assert tablet.get("/check-in/sign").request.path == "/"
    assert "Private words" not in tablet.page.text
    assert _session(tablet.client).get("patient_mode") is True  # only a staff sign-in ends it


def test_a_lost_answer_after_signing_a_check_in_shows_the_finish_screen(app, make_record, staff):
    record_id = make_record()
    tablet = Tablet(staff("frontdesk"))
    tablet.start_check_in(record_id)
    tablet.date_of_birth()
    tablet.answers()
    before = _session(tablet.client)
    tablet.sign()
    assert tablet.page.request.path == "/finished"
    # The answer never reached the tablet: its cookie still names the draft, now gone.
    with tablet.client.session_transaction() as data:
        data.clear()
        data.update(before)
    page = tablet.get("/check-in/sign")
    assert page.request.path == "/finished"
    assert "Your check-in has been saved" in page.text
    assert len(_events(app, record_id, EventKind.VISIT_CHECKED_IN)) == 1
