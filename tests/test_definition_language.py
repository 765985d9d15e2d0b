"""Format 2 of the definition language (docs/definition-language.md): conditions over several
answers, the age and the areas; flags; follow-ups; "not sure"; what `forms check` says about
each mistake; and format 1, which every stored record of 1.x still needs."""

import shutil
from datetime import date
from pathlib import Path

import pytest

from consentapp.procedures.conditions import Condition, Facts, canonical, holds
from consentapp.procedures.eligibility import (
    age_on,
    evaluate,
    shown_questions,
    stored_reasons,
    visible_answers,
)
from consentapp.procedures.loader import DefinitionError, load_file
from consentapp.procedures.schema import definition_warnings

from .journey import SHIPPED_DEFINITION, all_screening_answers

FORMS = Path(__file__).resolve().parent.parent / "forms"
FORMAT_1 = Path(__file__).resolve().parent / "fixtures" / "forms-1.1.0"


@pytest.fixture
def forms_copy(tmp_path) -> Path:
    target = tmp_path / "forms"
    shutil.copytree(FORMS, target)
    return target


def _condition(**data) -> Condition:
    return Condition.model_validate(data)


@pytest.mark.parametrize(
    ("condition", "answers", "age", "expected"),
    [
        ({"question": "q", "answers": ["yes"]}, {"q": "yes"}, None, True),
        ({"question": "q", "answers": ["yes"]}, {"q": "no"}, None, False),
        ({"question": "q", "answers": ["yes"]}, {}, None, False),  # hidden or unanswered
        ({"not": {"question": "q", "answers": ["yes"]}}, {}, None, True),
        ({"question": "m", "answers": ["b"]}, {"m": ["a", "b"]}, None, True),  # multi: any
        ({"age_under": 22}, {}, 21, True),
        ({"age_under": 22}, {}, 22, False),
        ({"age_under": 22}, {}, None, False),  # no date of birth yet
        ({"areas_include": ["face"]}, {"areas": ["legs", "face"]}, None, True),
        ({"all": [{"question": "q", "answers": ["yes"]}, {"areas_include": ["face"]}]},
         {"q": "yes", "areas": ["legs"]}, None, False),
        ({"any": [{"question": "q", "answers": ["yes"]}, {"age_under": 22}]},
         {"q": "no"}, 19, True),
    ],
)
def test_a_condition_holds_as_the_language_says(condition, answers, age, expected):
    facts = Facts(answers=answers, age=age, areas_question="areas")
    assert holds(_condition(**condition), facts) is expected


def test_the_canonical_form_does_not_depend_on_the_order_of_lists():
    one = _condition(all=[{"areas_include": ["neck", "face"]},
                          {"question": "q", "answers": ["yes", "not_sure"]}])
    two = _condition(all=[{"question": "q", "answers": ["not_sure", "yes"]},
                          {"areas_include": ["face", "neck"]}])
    assert canonical(one) == canonical(two) == "all(answer(q:not_sure,yes),areas(face,neck))"


@pytest.mark.parametrize(
    ("born", "today", "age"),
    [(date(2000, 2, 29), date(2021, 2, 28), 20), (date(2000, 2, 29), date(2021, 3, 1), 21),
     (date(2004, 6, 15), date(2026, 6, 14), 21), (date(2004, 6, 15), date(2026, 6, 15), 22)],
)
def test_the_age_is_in_whole_years_on_the_clinics_day(born, today, age):
    assert age_on(born, today) == age


def test_every_rule_kind_decides_in_the_shipped_definition():
    definition = SHIPPED_DEFINITION

    def outcome(age=40, *yes, **chosen):
        answers = {"areas": ["face"], **all_screening_answers(*yes, **chosen)}
        return evaluate(definition, answers, age=age)

    assert outcome().outcome == "eligible" and outcome().reasons == ()
    assert outcome(40, "pregnant_now").outcome == "not_eligible"
    # Might be pregnant: not eligible too, by the rule that names it (no implicit review).
    assert [r.rule for r in outcome(40, pregnant_now="not_sure").reasons] == ["pregnant"]
    assert outcome(40, "blood_thinner").outcome == "needs_review"
    assert outcome(19).outcome == "needs_review"
    assert [reason.rule for reason in outcome(19).reasons] == ["age_under_22"]
    # "Not sure" leads to review through the implicit rule, unless a rule names it.
    assert [reason.rule for reason in outcome(40, diabetes="not_sure").reasons] == [
        "not_sure.diabetes"
    ]
    latex = outcome(40, allergy_latex="not_sure")
    assert latex.outcome == "eligible" and [r.rule for r in latex.flags] == ["allergy_latex"]
    # Most serious first; a flag never changes the outcome.
    mixed = outcome(40, "sunburn", "blood_thinner", "cold_sore_history")
    assert mixed.outcome == "not_eligible"
    assert [reason.effect for reason in mixed.reasons] == [
        "not_eligible", "needs_review", "flag"
    ]


def test_an_answer_to_a_hidden_question_counts_for_nothing():
    answers = {"medicines": "no", "medicines_list": "Warfarin", "cold_sore_history": "no",
               "active_cold_sore": "yes", "areas": ["face"]}
    assert "medicines_list" not in shown_questions(SHIPPED_DEFINITION, answers, 40)
    assert visible_answers(SHIPPED_DEFINITION, answers, 40) == {
        "medicines": "no", "cold_sore_history": "no", "areas": ["face"],
    }
    # The active cold sore was never asked, so the rule on it cannot hold.
    assert evaluate(SHIPPED_DEFINITION, answers, age=40).reasons == ()


def test_stored_reasons_of_both_shapes_read_alike():
    old, new = stored_reasons([
        {"question": "pregnant", "outcome": "needs_review", "text": "We take extra care."},
        {"rule": "cold_sores_face", "effect": "flag", "reason": "You have had cold sores.",
         "note": "Consider antiviral prophylaxis.", "questions": ["cold_sore_history", "areas"]},
    ])
    assert (old.rule, old.effect, old.text, old.questions) == (
        "pregnant", "needs_review", "We take extra care.", ("pregnant",)
    )
    assert new.is_flag and new.note == "Consider antiviral prophylaxis."


PREGNANT = 'when = { question = "pregnant_now", answers = ["yes", "not_sure"] }'
# Each mistake, as a clinic might make it in en.toml, and the line `forms check` must print.
MISTAKES = [
    (PREGNANT,
     'when = { question = "pregnant", answers = ["yes"] }',
     "rules[pregnant].when.question: no question 'pregnant' (did you mean 'pregnant_now'?)"),
    (PREGNANT,
     'when = { question = "pregnant_now", answers = ["maybe"] }',
     "rules[pregnant].when.answers: 'maybe' is not an answer of 'pregnant_now' "
     "(yes, no, not_sure)"),
    ('  { areas_include = ["face"] },\n]\neffect = "flag"\nreason = "You have had',
     '  { areas_include = ["lips"] },\n]\neffect = "flag"\nreason = "You have had',
     "rules[cold_sores_face].when.all[1].areas_include: 'lips' is not an option of the "
     "areas question 'areas' (face, neck, back, abdomen, legs, other)"),
    ('show_if = { question = "medicines", answers = ["yes"] }',
     'show_if = { question = "medicine", answers = ["yes"] }',
     "question_steps[medicines].questions[medicines_list].show_if.question: no question "
     "'medicine' (did you mean 'medicines'?)"),
    ('show_if = { question = "autoimmune", answers = ["yes", "not_sure"] }',
     'show_if = { question = "dark_marks", answers = ["yes"] }',
     "question_steps[health].questions[scleroderma_area].show_if.question: 'dark_marks' "
     "comes after 'scleroderma_area'; a follow-up can only depend on questions before it"),
    ('when = { question = "tattoo", answers = ["yes"] }',
     'when = { question = "tattoo", answers = ["yes"], age_under = 30 }',
     "rules[tattoo].when: give exactly one of question, age_under, areas_include, all, any, "
     "not (found question and age_under)"),
    ('when = { question = "tattoo", answers = ["yes"] }\neffect = "needs_review"',
     'when = { question = "tattoo", answers = ["yes"] }\neffect = "hold"',
     "rules[tattoo].effect: 'hold' is not one of needs_review, not_eligible or flag"),
    ('when = { age_under = 22 }', 'when = { age_under = "22" }',
     'rules[age_under_22].when.age_under: must be a whole number of years from 1 to 120 '
     '(found "22")'),
    ('when = { question = "sunburn", answers = ["yes"] }',
     'when = { question = "goals", answers = ["yes"] }',
     "rules[sunburn].when.question: 'goals' is a textarea question"),
    ('when = { question = "tanning", answers = ["yes"] }',
     'when = { question = "sunburn", answers = ["yes"] }',
     "rules[tanning].when: same condition as rules[sunburn]"),
    ('note = "Tattoo or permanent makeup in a treatment area."\n', "",
     "rules[tattoo].note: a needs_review rule needs a note for the clinician"),
    ('call = "Call the clinic at {clinic_phone}."', 'call = "Call the clinic."',
     "when_to_call.call: must contain {clinic_phone} exactly once"),
    ('"Do not swim for 4 to 5 days.",', '"Do not swim for {days} days.",',
     "aftercare.sections[1].points[2]: braces are only for {clinic_phone} in "
     "when_to_call.call and {after_hours_phone} in when_to_call.call_after_hours"),
    ('format = 2', 'format = "2"', "format: must be the number 2, without quotes"),
    ('kind = "multi"', 'kind = "several"',
     "question_steps[concerns].questions[concerns].kind: 'several' is not one of"),
]


@pytest.mark.parametrize(("replace", "by", "expected"), MISTAKES,
                         ids=[line.split(":")[0] for _, _, line in MISTAKES])
def test_forms_check_names_the_file_and_the_key_of_each_mistake(
    runner, forms_copy, replace, by, expected
):
    path = forms_copy / "microneedling" / "en.toml"
    source = path.read_text()
    assert replace in source
    path.write_text(source.replace(replace, by, 1))

    result = runner.invoke(args=["forms", "check", "--dir", str(forms_copy)])

    assert result.exit_code == 1
    assert f"error {path}: {expected}" in result.output


def test_forms_check_lists_every_mistake_at_once(runner, forms_copy):
    path = forms_copy / "microneedling" / "en.toml"
    source = path.read_text()
    for replace, by, _ in (MISTAKES[0], MISTAKES[8], MISTAKES[11]):
        source = source.replace(replace, by, 1)
    path.write_text(source)

    result = runner.invoke(args=["forms", "check", "--dir", str(forms_copy)])

    assert result.exit_code == 1
    assert result.output.count(f"error {path}: ") == 3
    assert "forms check: 2 files, 3 errors" in result.output


def test_a_translation_whose_rule_means_something_else_is_named_by_its_key(runner, forms_copy):
    path = forms_copy / "microneedling" / "es.toml"
    source = path.read_text()
    replace = 'when = { question = "blood_thinner", answers = ["yes"] }'
    assert replace in source
    path.write_text(source.replace(
        replace, 'when = { question = "blood_thinner", answers = ["yes", "not_sure"] }', 1))

    result = runner.invoke(args=["forms", "check", "--dir", str(forms_copy)])

    assert result.exit_code == 1
    assert (f"error {path}: rules[blood_thinner].when: answer(blood_thinner:not_sure,yes) "
            "here, answer(blood_thinner:yes) in en.toml") in result.output


def test_forms_check_warns_without_failing_when_no_phone_is_set(runner, app):
    app.config["CLINIC_PHONE"] = None
    result = runner.invoke(args=["forms", "check"])
    assert result.exit_code == 0, result.output
    assert ("when_to_call.call: CLINIC_PHONE is not set, so patients are told to ask the "
            "staff for the number") in result.output

    app.config.update(CLINIC_PHONE="(555) 010-0100", CLINIC_AFTER_HOURS_PHONE="555-0199")
    result = runner.invoke(args=["forms", "check"])
    assert result.exit_code == 0 and "warning " not in result.output
    assert "forms check: 2 files, 0 errors, 0 warnings" in result.output


def test_format_1_still_parses_and_decides_as_it_did():
    """Stored snapshots of 1.1.0 point at these exact bytes: they must load forever."""
    for language in ("en", "es"):
        loaded = load_file(FORMAT_1 / "microneedling" / f"{language}.toml")
        definition = loaded.definition
        assert definition.format == 1 and definition.version == "1.1.0"
        assert definition.aftercare is None and definition.when_to_call is None
        assert [rule.key for rule in definition.rules][:2] == ["isotretinoin",
                                                                "active_skin_problem"]
        assert definition_warnings(definition)[0].startswith("format: format 1: still read")
    answers = {key: "no" for key in definition.questions}
    answers.update(isotretinoin="yes", pregnant="yes")
    result = evaluate(definition, answers, age=None)
    assert result.outcome == "not_eligible"
    assert [(reason.rule, reason.effect) for reason in result.reasons] == [
        ("isotretinoin", "not_eligible"), ("pregnant", "needs_review"),
    ]


def test_format_2_keys_in_a_file_without_format_are_refused(forms_copy):
    path = forms_copy / "microneedling" / "en.toml"
    path.write_text(path.read_text().replace("format = 2\n", "", 1))
    with pytest.raises(DefinitionError, match=r"areas_question: needs format = 2"):
        load_file(path)


def test_the_shipped_definition_has_its_implicit_not_sure_rules():
    implicit = [rule.key for rule in SHIPPED_DEFINITION.all_rules if rule.implicit]
    unsure = [q.key for q in SHIPPED_DEFINITION.questions.values() if q.kind == "yesno_unsure"]
    # Every yesno_unsure question but those whose "not sure" a rule names.
    named = {"not_sure.allergy_latex", "not_sure.dark_marks", "not_sure.pregnant_now"}
    assert set(implicit) == {f"not_sure.{key}" for key in unsure} - named
    assert len(implicit) == 17
    assert definition_warnings(SHIPPED_DEFINITION) == []


def test_a_record_kept_under_1_1_0_still_shows_and_renders(app, staff):
    """A record written before format 2, as the database holds it: the 1.1.0 snapshot, reasons
    in the old shape, no screening date or phone numbers."""
    from datetime import datetime

    from consentapp.extensions import db
    from consentapp.models import ConsentRecord, EventKind
    from consentapp.procedures import catalog
    from consentapp.records.content import content_sha256
    from consentapp.records.events import append_event
    from consentapp.records.jobs import render_and_store
    from consentapp.records.status import add_listing

    from .pdf import pdf_text

    loaded = load_file(FORMAT_1 / "microneedling" / "en.toml")
    reason = ("Isotretinoin can slow healing, so microneedling is not safe within 6 months of "
              "taking it.")
    answers = {key: "no" for key in loaded.definition.questions}
    answers.update(concerns=["scars"], areas=["face"], goals="Smoother", expectations="",
                   concerns_other="", isotretinoin="yes")
    with app.app_context():
        catalog.snapshot(loaded)
        db.session.flush()
        record = ConsentRecord(
            submission_key="kept-under-1.1.0", procedure_slug="microneedling",
            procedure_title="Microneedling", definition_version="1.1.0",
            definition_sha256=loaded.sha256, language="en", patient_name="Olga Older",
            patient_name_search="olga older", patient_dob=date(1960, 5, 5),
            patient_contact=None, answers=answers, outcome="not_eligible",
            outcome_reasons=[{"question": "isotretinoin", "outcome": "not_eligible",
                              "text": reason}],
            acknowledged_risks=[], accepted_statements=[], completed_at=datetime(2026, 3, 1, 9),
        )
        db.session.add(record)
        db.session.flush()
        append_event(record.id, EventKind.SCREENED_OUT, "patient", {"outcome": "not_eligible"})
        # What the content-hash migration added to every record kept before it.
        append_event(record.id, EventKind.CONTENT_HASH_RECORDED, "system",
                     {"content_sha256": content_sha256(record, 1), "content_version": 1})
        add_listing(record)
        db.session.commit()
        record_id = record.id
        text = pdf_text(render_and_store(record).content)
    assert reason in text and "No consent was taken" in text
    assert "For the clinician" not in text  # 1.1.0 rules had no notes
    assert "After your treatment" not in text  # nor care sections
    page = staff("clinician").get(f"/staff/records/{record_id}").text
    assert "Not eligible" in page and reason in page
    assert "in the last 6 months? <strong>Yes</strong>" in page
