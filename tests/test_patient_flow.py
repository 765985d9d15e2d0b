"""The whole consent journey through the test client, as the tablet drives it."""

import json
import re

import pytest
from sqlalchemy import func, select

from consentapp.extensions import db
from consentapp.models import ConsentRecord, PatientDraft, RecordEvent, RecordPdf

from .journey import RISK_KEYS, SHIPPED_VERSION, drawn_signature
from .pdf import page_texts

RISK_WORDS = (
    "Bruising", "Scarring", "infection", "Redness", "bleeding", "Dryness", "patches",
    "cold sore", "numbing cream", "guaranteed",
)


def _pdf_text(content: bytes) -> tuple[str, list[str]]:
    """All the text, and each page's, with line breaks folded: layout may wrap any phrase."""
    pages = page_texts(content)
    return "\n".join(pages), pages


def _only_record() -> ConsentRecord:
    records = db.session.scalars(select(ConsentRecord)).all()
    assert len(records) == 1
    return records[0]


@pytest.mark.renders_pdfs
def test_eligible_patient_signs_and_the_record_and_pdf_hold_everything(app, journey):
    page = journey.complete(name="Maria Example", dob="1971-04-09")
    assert page.request.path == "/finished"
    assert "Please hand the tablet back" in page.text

    with app.app_context():
        record = _only_record()
        assert record.patient_name == "Maria Example"
        assert record.patient_dob.isoformat() == "1971-04-09"
        assert record.outcome == "eligible"
        assert record.signer_name == "Maria Example"
        assert record.signature["strokes"] and record.signed_at is not None
        assert sorted(record.acknowledged_risks) == sorted(RISK_KEYS)
        assert record.answers["concerns"] == ["fine_lines", "scars"]
        assert record.answers["isotretinoin_use"] == "no"
        assert record.definition_version == SHIPPED_VERSION
        assert len(record.definition_sha256) == 64
        kinds = [event.kind for event in record.events]
        assert kinds[0] == "signed"
        assert "pdf_rendered" in kinds
        assert db.session.scalar(select(func.count()).select_from(PatientDraft)) == 0

        pdf = record.latest_pdf
        assert pdf.version == 1 and pdf.content.startswith(b"%PDF")
        text, pages = _pdf_text(pdf.content)

    assert "Maria Example" in text
    assert "Date of birth April 9, 1971" in text  # dates are written out in the record's language
    assert "Riverside Skin Clinic" in text
    for word in RISK_WORDS:
        assert word.lower() in text.lower(), word
    assert text.count("Acknowledged") == len(RISK_KEYS)
    assert "Form version" in text and SHIPPED_VERSION in text
    assert record.definition_sha256 in text.replace(" ", "")
    assert "Smoother skin on my cheeks" in text
    assert len(pages) >= 2
    for number, page_text in enumerate(pages, start=1):
        assert f"Page {number} of {len(pages)}" in page_text
        assert "Maria Example · DOB Apr 9, 1971 · Record" in page_text
        assert record.id in page_text


@pytest.mark.renders_pdfs
def test_not_eligible_patient_is_offered_no_signature_and_the_screening_is_stored(app, journey):
    journey.start()
    journey.about()
    journey.concerns()
    page = journey.screening(isotretinoin_use="now")

    assert "hand the tablet back" in page.text.lower()
    assert "isotretinoin" in page.text.lower()  # the reason is explained
    assert 'name="signature"' not in page.text
    assert journey.get("/step/sign").request.path == "/"  # the journey is over

    with app.app_context():
        record = _only_record()
        assert record.outcome == "not_eligible"
        assert record.signed_at is None and record.signature is None
        assert record.answers["isotretinoin_use"] == "now"
        assert [reason["rule"] for reason in record.outcome_reasons] == ["isotretinoin_now"]
        assert [event.kind for event in record.events][0] == "screened_out"
        text, _ = _pdf_text(record.latest_pdf.content)
    assert "Not eligible" in text
    assert "No consent was taken" in text


@pytest.mark.renders_pdfs
def test_needs_review_patient_is_told_and_may_continue_and_the_record_is_flagged(app, journey):
    journey.start()
    journey.about()
    journey.concerns()
    page = journey.screening("blood_thinner", "diabetes")
    assert page.request.path == "/step/outcome"
    assert "clinician" in page.text.lower()
    journey.continue_("outcome")
    journey.continue_("expect")
    journey.continue_("benefits")
    journey.risks()
    journey.after_alternatives()
    journey.sign()

    with app.app_context():
        record = _only_record()
        assert record.outcome == "needs_review"
        assert {reason["rule"] for reason in record.outcome_reasons} == {
            "blood_thinner", "diabetes"
        }
        assert record.is_signed
        text, _ = _pdf_text(record.latest_pdf.content)
    assert "Needs clinician review" in text


def test_a_missing_risk_acknowledgement_is_refused_and_the_ticks_are_kept(app, journey):
    journey.start()
    journey.about()
    journey.concerns()
    journey.screening()
    journey.continue_("outcome")
    journey.continue_("expect")
    journey.continue_("benefits")
    page = journey.risks(skip=("scarring",))

    assert page.request.path == "/step/risks"
    assert "Scarring: please tick the box to show you have read and understand this risk." in (
        page.text
    )
    assert "Bruising: please tick" not in page.text
    assert 'href="#ack_scarring"' in page.text  # the summary links to the box
    assert '<input checked id="ack_bruising"' in page.text  # what was ticked stays ticked
    assert 'id="ack_scarring" name="ack_scarring"' in page.text
    assert '<input checked id="ack_scarring"' not in page.text
    with app.app_context():
        draft = db.session.scalars(select(PatientDraft)).one()
        assert "risks" not in draft.data.get("done", [])


def test_an_empty_signature_is_refused_and_everything_typed_is_kept(app, journey):
    journey.to_signature()
    page = journey.sign(name="Maria Example", signature="")

    assert page.request.path == "/step/sign"
    assert "Please sign with your finger in the box." in page.text
    assert 'value="Maria Example"' in page.text
    assert page.text.count("checked") >= 5  # every statement still ticked
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0

    page = journey.sign(name="Maria Example")
    assert page.request.path == "/finished"


def test_a_dot_is_not_a_signature_and_an_unticked_statement_is_refused(app, journey):
    journey.to_signature()
    dot = json.dumps({"width": 700, "height": 220, "strokes": [[[100, 100], [101, 101]]]})
    page = journey.sign(signature=dot, skip_statements=("voluntary",))
    assert "That signature is too small" in page.text
    assert "Please tick “I agree to microneedling of my…” to agree" in page.text
    assert page.text.count("Please tick “") == 2  # in the summary and by the box, once each
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_a_patient_cannot_skip_ahead_to_the_signature(journey):
    journey.start()
    journey.about()
    page = journey.get("/step/sign")
    assert page.request.path == "/step/concerns"


def test_back_shows_saved_answers_and_a_change_returns_to_the_review(app, journey):
    journey.to_signature()
    page = journey.get("/step/concerns")
    assert "Smoother skin on my cheeks" in page.text
    page = journey.concerns(goals="Softer acne scars")
    assert page.request.path == "/step/review"
    assert "Softer acne scars" in page.text


def test_changing_the_screening_after_review_shows_the_new_outcome(app, journey):
    journey.to_signature()
    journey.get("/step/screening")
    page = journey.screening("diabetes")
    assert page.request.path == "/step/outcome"
    assert "clinician" in page.text.lower()
    page = journey.continue_("outcome")
    assert page.request.path == "/step/review"


def test_bad_dates_are_refused_on_the_same_screen_keeping_the_name(journey):
    journey.start()
    page = journey.about(name="Maria Example", dob="2999-01-01")
    assert page.request.path == "/step/about"
    assert "cannot be in the future" in page.text
    assert 'value="Maria Example"' in page.text
    page = journey.about(name="Maria Example", dob="")
    assert "Please enter your date of birth." in page.text


@pytest.mark.parametrize(
    ("day", "month", "year"),
    [("31", "2", "1970"), ("", "3", "1970"), ("25", "3", ""), ("x", "3", "1970"),
     ("25", "13", "1970")],
)
def test_a_date_of_birth_that_is_not_a_date_is_refused_keeping_the_boxes(journey, day, month,
                                                                         year):
    journey.start()
    page = journey.post("/step/about", {
        "full_name": "Maria Example", "date_of_birth-day": day, "date_of_birth-month": month,
        "date_of_birth-year": year, "contact": "",
    })
    assert journey.path == "/step/about"
    # US English writes the month first: the example is in the boxes' order.
    assert page.text.count("Please check the date. For example: 3 25 1970.") == 2  # summary too
    assert 'name="date_of_birth-day" type="text" inputmode="numeric"' in page.text
    for name, value in (("day", day), ("month", month), ("year", year)):
        assert re.search(rf'name="date_of_birth-{name}"[^>]*value="{re.escape(value)}"',
                         page.text), name
    assert 'href="#date_of_birth"' in page.text and 'id="date_of_birth"' in page.text


def test_the_date_of_birth_boxes_make_the_stored_date(app, journey):
    journey.complete(dob="1948-02-29")
    with app.app_context():
        assert _only_record().patient_dob.isoformat() == "1948-02-29"


def test_a_double_tapped_sign_creates_one_record(app, journey):
    journey.to_signature()
    form_page = journey.page
    journey.sign()
    journey.page = form_page  # the second tap posts the same form again
    page = journey.sign()
    assert page.request.path == "/"
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 1


@pytest.mark.renders_pdfs
def test_the_record_pins_the_definition_the_patient_started_with(app, journey, tmp_path):
    source = (app.config["FORMS_DIR"] / "microneedling" / "en.toml").read_text()
    forms = tmp_path / "forms" / "microneedling"
    forms.mkdir(parents=True)
    (forms / "en.toml").write_text(source)
    app.config["FORMS_DIR"] = tmp_path / "forms"

    journey.to_signature()
    # The clinic edits the risks text while this patient is mid-journey.
    (forms / "en.toml").write_text(
        source.replace(f'version = "{SHIPPED_VERSION}"', 'version = "99.0.0"')
        .replace("Bruising", "Bruises")
    )
    journey.sign()

    with app.app_context():
        record = _only_record()
        assert record.definition_version == SHIPPED_VERSION
        text, _ = _pdf_text(record.latest_pdf.content)
    assert "Bruising" in text and "Bruises" not in text


@pytest.mark.renders_pdfs
def test_a_finished_journey_leaves_nothing_for_the_next_patient(app, journey, client):
    journey.complete()
    page = journey.get("/step/review")
    assert page.request.path == "/"
    assert "Maria Example" not in page.text
    assert "already started" not in page.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecordEvent)) >= 2
        assert db.session.scalar(select(func.count()).select_from(RecordPdf)) == 1


def test_start_over_discards_the_draft(app, journey):
    journey.start()
    journey.about()
    page = journey.get("/")
    assert "already started" in page.text
    journey.post("/start-over", {})
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(PatientDraft)) == 0


def test_the_signature_helper_draws_enough_ink():
    assert json.loads(drawn_signature())["strokes"][0]
