"""The screening as a patient meets it, each kind of rule deciding (issue 17): single answers,
answers with the treatment areas, the age, "not sure", flags that hold nobody, and follow-up
questions asked only when an earlier answer calls for them.

These journeys leave the PDF to the worker (none is needed to see what the rules decided),
except the one that reads the clinician's flag in the PDF.
"""

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import ConsentRecord, PatientDraft
from consentapp.records.jobs import process_pending

from .journey import FOLLOW_UP_TEXT, SHIPPED_DEFINITION, screening_answers
from .pdf import pdf_text

RULES = {rule.key: rule for rule in SHIPPED_DEFINITION.rules}


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PDF_RENDER_MODE": "worker"}


def _record() -> ConsentRecord:
    return db.session.scalars(select(ConsentRecord)).one()


def _draft_answers(app) -> dict:
    with app.app_context():
        return db.session.scalars(select(PatientDraft)).one().data.get("answers", {})


def _screen(journey, *yes, dob="1971-04-09", areas=("face",), **chosen):
    journey.start()
    journey.about(dob=dob)
    journey.concerns(areas=list(areas))
    return journey.screening(*yes, **chosen)


def _sign_from_the_outcome(journey):
    for step in ("outcome", "expect", "benefits"):
        journey.continue_(step)
    journey.risks()
    journey.after_alternatives()
    journey.sign()
    assert journey.path == "/finished", journey.path


def _years_ago(years: int) -> str:
    today = datetime.now(UTC).date()
    return date(today.year - years, 1, 1).isoformat()  # the birthday has passed this year


@pytest.mark.parametrize(
    ("yes", "rule"),
    [(("pregnant_now",), "pregnant"), (("bleeding_disorder",), "bleeding_disorder")],
)
def test_a_labeling_contraindication_ends_the_journey(app, journey, yes, rule):
    page = _screen(journey, *yes)
    assert journey.path == "/step/screening"  # the finish screen, shown in this response
    assert "Microneedling is not safe for you today" in page.text
    assert RULES[rule].reason in page.text
    assert 'name="signature"' not in page.text
    with app.app_context():
        record = _record()
        assert record.outcome == "not_eligible" and not record.is_signed
        assert [reason["rule"] for reason in record.outcome_reasons] == [rule]
        assert record.screened_on is not None


def test_breastfeeding_decides_what_the_definition_says(app, journey):
    """The medical director may make it a review (content-review: "by clinic choice"); the
    journey must follow whatever the definition says."""
    expected = RULES["breastfeeding"].effect.outcome
    page = _screen(journey, "breastfeeding")
    with app.app_context():
        assert _record().outcome == expected == "not_eligible"
    assert RULES["breastfeeding"].reason in page.text


def test_a_prescribed_blood_thinner_needs_review_and_the_patient_signs(app, journey, staff):
    page = _screen(journey, "blood_thinner")
    assert journey.path == "/step/outcome"
    assert "A clinician will talk with you first" in page.text
    assert RULES["blood_thinner"].reason in page.text
    _sign_from_the_outcome(journey)
    with app.app_context():
        record = _record()
        assert record.outcome == "needs_review" and record.is_signed
        assert [reason["rule"] for reason in record.outcome_reasons] == ["blood_thinner"]
    # The review queue tells the clinician why, before they open the record.
    queue = staff("clinician").get("/staff/").text
    assert "Waiting for clinician review" in queue
    assert RULES["blood_thinner"].note in queue


def test_cold_sores_with_the_legs_only_are_no_reason_to_stop_or_flag(app, journey):
    page = _screen(journey, "cold_sore_history", areas=("legs",))
    assert journey.path == "/step/outcome"
    assert "Your answers show no reason to stop today" in page.text
    assert "Notes for your clinician" not in page.text
    assert _draft_answers(app)["active_cold_sore"] == "no"  # the follow-up was asked
    _sign_from_the_outcome(journey)
    with app.app_context():
        record = _record()
        assert record.outcome == "eligible" and record.outcome_reasons == []


def test_cold_sores_with_the_face_flag_the_record_for_the_clinician(app, journey, staff):
    flag = RULES["cold_sores_face"]
    page = _screen(journey, "cold_sore_history", areas=("face", "legs"))
    assert "Your answers show no reason to stop today" in page.text  # a flag holds nobody
    assert "Notes for your clinician" in page.text and flag.reason in page.text
    _sign_from_the_outcome(journey)
    with app.app_context():
        record = _record()
        assert record.outcome == "eligible"
        assert record.outcome_reasons == [{
            "rule": "cold_sores_face", "effect": "flag", "reason": flag.reason,
            "note": flag.note, "questions": ["cold_sore_history", "areas"],
        }]
        record_id = record.id
        process_pending()
        text = pdf_text(_record().latest_pdf.content)

    page = staff("clinician").get(f"/staff/records/{record_id}").text
    assert "Flag (does not hold the patient)" in page and flag.note in page
    assert "Have you ever had a cold sore? <strong>Yes</strong>" in page
    assert "For the clinician" in text and flag.note in text
    assert "flag: does not hold the patient; rule cold_sores_face" in text
    assert "Have you ever had a cold sore? Yes" in text


def test_a_patient_of_19_needs_review_for_the_fda_age(app, journey):
    page = _screen(journey, dob=_years_ago(19))
    assert journey.path == "/step/outcome"
    assert RULES["age_under_22"].reason in page.text
    # 19 is an adult: no representative is asked for.
    _sign_from_the_outcome(journey)
    with app.app_context():
        record = _record()
        assert record.outcome == "needs_review" and record.representative is None
        assert [reason["rule"] for reason in record.outcome_reasons] == ["age_under_22"]


def test_not_sure_needs_review_and_names_the_question_once(app, journey):
    page = _screen(journey, diabetes="not_sure", keloids="not_sure")
    assert journey.path == "/step/outcome"
    assert "A clinician will talk with you first" in page.text
    assert page.text.count(SHIPPED_DEFINITION.not_sure.reason) == 1
    for key in ("diabetes", "keloids"):
        assert SHIPPED_DEFINITION.questions[key].label in page.text
    _sign_from_the_outcome(journey)
    with app.app_context():
        record = _record()
        assert record.outcome == "needs_review"
        assert [r["rule"] for r in record.outcome_reasons] == ["not_sure.diabetes",
                                                               "not_sure.keloids"]
        assert record.answers["diabetes"] == "not_sure"


def test_a_follow_up_appears_only_when_called_for_and_only_then_is_stored(app, journey):
    journey.start()
    journey.about()
    journey.concerns()
    page = journey.get("/step/medicines")
    # On the page, hidden and disabled (nothing is sent) until "Yes" calls for it.
    assert re.search(r'<fieldset class="follow-up" data-show-if="[^"]*" '
                     r'data-question="medicines_list" hidden disabled>', page.text)
    answers = screening_answers()["medicines"]

    # Without JavaScript, "Yes" brings the same page back with the question shown.
    page = journey.post("/step/medicines", {**answers, "medicines": "yes", "shown": ""})
    assert journey.path == "/step/medicines" and page.status_code == 200
    assert "We added a question based on your answer." in page.text
    assert 'data-question="medicines_list">' in page.text  # no longer hidden
    assert "Please answer this question." not in page.text  # no error on a new question
    assert 'checked id="medicines-0"' in page.text  # what was chosen stays chosen
    assert "medicines" not in _draft_answers(app)  # nothing saved yet

    # Shown and left blank: it is required now.
    page = journey.post("/step/medicines", {**answers, "medicines": "yes",
                                            "shown": "medicines_list"})
    assert journey.path == "/step/medicines" and "Please answer this question." in page.text

    journey.post("/step/medicines", {**answers, "medicines": "yes", "medicines_list": "Metformin",
                                     "shown": "medicines_list"})
    assert journey.path == "/step/health"
    assert _draft_answers(app)["medicines_list"] == "Metformin"

    # Back, and "No": the list is dropped, even if the page still sends it.
    journey.get("/step/medicines")
    journey.post("/step/medicines", {**answers, "medicines": "no",
                                     "medicines_list": "Metformin", "shown": "medicines_list"})
    assert journey.path == "/step/health"
    saved = _draft_answers(app)
    assert saved["medicines"] == "no" and "medicines_list" not in saved


def test_the_record_keeps_a_follow_up_answer_only_when_it_was_asked(app, journey):
    journey.complete(medicines="yes")
    journey.complete(name="Other Patient")
    with app.app_context():
        records = {r.patient_name: r for r in db.session.scalars(select(ConsentRecord))}
    assert records["Maria Example"].answers["medicines_list"] == FOLLOW_UP_TEXT
    assert "medicines_list" not in records["Other Patient"].answers
    assert "concerns_other" not in records["Other Patient"].answers  # "Something else" unasked


def test_changing_an_earlier_answer_after_the_review_shows_the_new_outcome(app, journey):
    journey.to_signature()
    journey.get("/step/health")
    page = journey.post("/step/health", {**screening_answers()["health"], "diabetes": "yes"})
    assert journey.path == "/step/outcome"  # not the review: the outcome changed
    assert RULES["diabetes"].reason in page.text
    # An answer that now ends the journey ends it, as at the screening step.
    journey.get("/step/health")
    page = journey.post("/step/health", {**screening_answers()["health"], "pregnant_now": "yes"})
    assert "Microneedling is not safe for you today" in page.text
    with app.app_context():
        assert _record().outcome == "not_eligible"
