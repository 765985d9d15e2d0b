"""Who signs and how: a guardian for a minor (checked on the server), an interpreter and a
witness on the record, a typed signature recorded as typed, and teach-back before signing."""

from datetime import date

import pytest
from sqlalchemy import func, select

from consentapp.extensions import db
from consentapp.models import ConsentRecord, PatientDraft
from consentapp.records.commit import age_on, is_minor

from .journey import RIGHT_ANSWERS, WRONG_ANSWERS
from .pdf import pdf_fonts, pdf_text


def _years_ago(years: int, days_later: int = 0) -> str:
    today = date.today()
    born = today.replace(year=today.year - years) if (today.month, today.day) != (2, 29) \
        else today.replace(year=today.year - years, day=28)
    return date.fromordinal(born.toordinal() + days_later).isoformat()


def _only_record() -> ConsentRecord:
    return db.session.scalars(select(ConsentRecord)).one()


def _to_signer_step(journey, dob: str, name="Lily Young"):
    journey.start()
    journey.about(name=name, dob=dob)
    journey.concerns()
    journey.screening()
    for step in ("outcome", "expect", "benefits"):
        journey.continue_(step)
    journey.risks()
    journey.continue_("alternatives")
    journey.care()
    journey.understanding()
    assert journey.path == "/step/signer", journey.path


@pytest.mark.parametrize(
    ("born", "on", "age"),
    [
        (date(2008, 6, 15), date(2026, 6, 14), 17),
        (date(2008, 6, 15), date(2026, 6, 15), 18),
        (date(2008, 2, 29), date(2026, 2, 28), 17),
        (date(2008, 2, 29), date(2026, 3, 1), 18),
    ],
)
def test_age_turns_on_the_birthday(born, on, age):
    assert age_on(born, on) == age
    assert is_minor(born, on) == (age < 18)


def test_a_minor_cannot_sign_alone_the_server_refuses_it(app, journey):
    _to_signer_step(journey, _years_ago(17, days_later=-300))
    assert "is under 18" in journey.page.text
    assert 'value="self"' not in journey.page.text  # no "I will sign for myself" to choose

    # Even a forged "self" is no way round it.
    page = journey.signer(signer="self")
    assert journey.path == "/step/signer"
    assert "Please type the full name of the parent, guardian or legal representative." in (
        page.text)
    assert "Please choose if they are a parent, guardian or legal representative." in page.text
    assert journey.get("/step/sign").request.path == "/step/signer"


@pytest.mark.renders_pdfs
def test_a_guardian_signs_for_a_minor_and_everyone_is_on_the_record_and_the_pdf(app, journey):
    _to_signer_step(journey, _years_ago(12), name="Lily Young")
    journey.signer(
        signer="", representative_name="Ana Guardian", representative_relationship="guardian",
        interpreter_name="Luis Ortega", interpreter_language="Spanish",
        witness_name="Nurse Kim",
    )
    page = journey.after_signer()
    assert journey.path == "/step/sign"
    assert "Ana Guardian, you are signing for Lily Young as their guardian." in page.text
    assert 'value="Ana Guardian"' in page.text  # the signer's name is ready to check
    journey.sign(name="Ana Guardian")
    assert journey.path == "/finished"

    with app.app_context():
        record = _only_record()
        assert record.patient_name == "Lily Young" and record.signer_name == "Ana Guardian"
        assert record.representative == {"name": "Ana Guardian", "relationship": "guardian"}
        assert record.interpreter == {"name": "Luis Ortega", "language": "Spanish"}
        assert record.witness == {"name": "Nurse Kim"}
        text = pdf_text(record.latest_pdf.content)
    assert "Signed by Ana Guardian, guardian, on behalf of the patient Lily Young" in text
    assert "Parent, guardian or legal representative Ana Guardian (Guardian)" in text
    assert "Interpreter Luis Ortega, interpreting in Spanish" in text
    assert "Witness Nurse Kim" in text


def test_an_adult_may_have_a_representative_sign_for_them(app, journey):
    _to_signer_step(journey, "1940-01-01", name="Walter Elder")
    page = journey.signer(signer="representative")  # but forgot the name
    assert "Please type the full name of the parent" in page.text
    journey.signer(signer="representative", representative_name="Greta Elder",
                   representative_relationship="legal_representative")
    journey.after_signer()
    journey.sign(name="Greta Elder")
    with app.app_context():
        record = _only_record()
        assert record.representative == {
            "name": "Greta Elder", "relationship": "legal_representative"}
        assert record.interpreter is None and record.witness is None


@pytest.mark.renders_pdfs
def test_an_adult_signing_for_themself_leaves_no_representative_even_if_typed(app, journey):
    _to_signer_step(journey, "1980-01-01", name="Sam Self")
    journey.signer(signer="self", representative_name="Typed By Mistake")
    journey.after_signer()
    journey.sign(name="Sam Self")
    with app.app_context():
        record = _only_record()
        assert record.representative is None
        text = pdf_text(record.latest_pdf.content)
    assert "Signed by The patient, Sam Self" in text
    assert "Interpreter None" in text and "Witness None" in text


def test_an_interpreter_needs_a_name_and_a_language(journey):
    _to_signer_step(journey, "1980-01-01")
    page = journey.signer(interpreter_name="Luis Ortega")
    assert "Please type the language the interpreter used." in page.text
    assert 'value="Luis Ortega"' in page.text  # what was typed stays
    page = journey.signer(interpreter_language="Spanish")
    assert "Please type the interpreter's name." in page.text


def test_a_birth_date_changed_to_a_minor_sends_the_patient_back_to_who_signs(app, journey):
    journey.to_signature(dob="1980-01-01")
    journey.get("/step/about")
    page = journey.about(name="Maria Example", dob=_years_ago(16))
    # The age is screened too (authorized from 22): the new outcome first, then who signs.
    assert journey.path == "/step/outcome", journey.path
    assert "22 and older" in page.text
    page = journey.continue_("outcome")
    assert journey.path == "/step/signer", journey.path
    assert "is under 18" in page.text


@pytest.mark.renders_pdfs
def test_a_typed_signature_is_recorded_as_typed_and_shown_so_in_the_pdf(app, journey):
    journey.to_signature(name="Tina Typed")
    journey.sign(name="Tina Typed", method="typed", signature="")
    assert journey.path == "/finished"
    with app.app_context():
        record = _only_record()
        assert record.signature_method == "typed"
        assert record.signature is None and record.signed_at is not None
        assert record.signer_name == "Tina Typed"
        text = pdf_text(record.latest_pdf.content)
        fonts = pdf_fonts(record.latest_pdf.content)
    assert "Signature of Tina Typed · Signed by typing their name" in text
    # The script-like style: the packaged serif italic, embedded under our @font-face name.
    assert any("Consent-Serif" in font for font in fonts)


@pytest.mark.renders_pdfs
def test_a_drawn_signature_is_recorded_as_drawn(app, journey):
    journey.complete()
    with app.app_context():
        record = _only_record()
        assert record.signature_method == "drawn" and record.signature["strokes"]
        text = pdf_text(record.latest_pdf.content)
    assert "drawn by hand on the tablet" in text
    assert "Signed by typing" not in text


def test_an_unknown_signature_method_is_refused_on_the_same_screen(app, journey):
    journey.to_signature()
    page = journey.sign(method="stamped")
    assert journey.path == "/step/sign"
    assert "Not a valid choice" in page.text or "Please choose how you would like to sign" in (
        page.text)
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


def test_a_typed_signature_still_needs_the_name(app, journey):
    journey.to_signature()
    page = journey.sign(name="", method="typed")
    assert "Please type your full name." in page.text
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0


@pytest.mark.renders_pdfs
def test_a_wrong_teach_back_answer_is_explained_and_asked_again(app, journey):
    journey.start()
    journey.about()
    journey.concerns()
    journey.screening()
    for step in ("outcome", "expect", "benefits"):
        journey.continue_(step)
    journey.risks()
    journey.continue_("alternatives")
    journey.care()

    page = journey.understanding(infection_signs=WRONG_ANSWERS["infection_signs"])
    assert journey.path == "/step/understanding"
    assert "Question 2: not quite." in page.text
    assert "Hot, painful skin or pus can be a sign of infection." in page.text
    assert "Results build slowly." not in page.text  # only the wrong one is explained
    assert 'href="#infection_signs"' in page.text
    assert 'checked id="infection_signs' not in page.text  # asked again, afresh
    assert journey.get("/step/signer").request.path == "/step/understanding"  # no way past

    page = journey.understanding(infection_signs=WRONG_ANSWERS["infection_signs"])
    page = journey.understanding()
    assert journey.path == "/step/signer"
    journey.signer()
    journey.after_signer()
    journey.sign()

    with app.app_context():
        results = {item["key"]: item for item in _only_record().teach_back}
        text = pdf_text(_only_record().latest_pdf.content)
    wrong = WRONG_ANSWERS["infection_signs"]
    assert results["infection_signs"] == {
        "key": "infection_signs", "attempts": [wrong, wrong, "call_us"], "correct": True}
    # A question answered right the first time is not counted again on the later tries.
    assert results["results_time"]["attempts"] == [RIGHT_ANSWERS["results_time"]]
    assert "1. Wait for it to go away – not correct 2. Wait for it to go away – not correct " \
           "3. Call the clinic right away – correct" in text
    assert "Understood (3 attempts)" in text and "Understood (1 attempt)" in text


def test_a_teach_back_question_left_unanswered_is_not_an_attempt(app, journey):
    journey.start()
    journey.about()
    journey.concerns()
    journey.screening()
    for step in ("outcome", "expect", "benefits"):
        journey.continue_(step)
    journey.risks()
    journey.continue_("alternatives")
    journey.care()
    page = journey.post("/step/understanding", {"results_time": "months"})
    assert "Please choose an answer." in page.text
    with app.app_context():
        draft = db.session.scalars(select(PatientDraft)).one()
        assert "teach_back" not in draft.data


def test_names_are_shown_as_text_never_as_markup(journey):
    _to_signer_step(journey, _years_ago(10), name="<b>Bold</b> Kid")
    assert "&lt;b&gt;Bold&lt;/b&gt; Kid is under 18." in journey.page.text
    journey.signer(representative_name="<i>Mum</i>", representative_relationship="parent")
    page = journey.after_signer()
    assert "&lt;i&gt;Mum&lt;/i&gt;, you are signing for &lt;b&gt;Bold&lt;/b&gt; Kid" in page.text
    assert "<b>" not in page.text and "<i>" not in page.text


def test_teach_back_opened_again_after_passing_keeps_the_right_answers(app, journey):
    journey.to_signature()
    page = journey.get("/step/understanding")
    for chosen in ("results_time-2", "infection_signs-1", "change_mind-0"):
        assert f'checked id="{chosen}"' in page.text
    journey.understanding()  # sent again unchanged: nothing new to record
    with app.app_context():
        draft = db.session.scalars(select(PatientDraft)).one()
        assert draft.data["teach_back"] == {key: [value] for key, value in RIGHT_ANSWERS.items()}
