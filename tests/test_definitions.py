"""Procedure definitions: the shipped one is valid, and bad ones fail naming file and key."""

import re
import shutil
from pathlib import Path

import pytest

from consentapp.procedures.eligibility import evaluate
from consentapp.procedures.loader import DefinitionError, load_file
from consentapp.procedures.translations import key_paths, translation_errors

from .journey import all_screening_answers

FORMS = Path(__file__).resolve().parent.parent / "forms"
SHIPPED = FORMS / "microneedling" / "en.toml"


@pytest.fixture
def shipped():
    return load_file(SHIPPED)


@pytest.fixture
def forms_copy(tmp_path) -> Path:
    target = tmp_path / "forms"
    shutil.copytree(FORMS, target)
    return target


def test_the_shipped_definition_has_what_the_guide_requires(shipped):
    definition = shipped.definition
    concerns = {value for value, _ in definition.questions["concerns"].choices}
    assert {"pores", "fine_lines", "loose_skin", "scars", "uneven_tone", "stretch_marks",
            "other"} <= concerns
    areas = {value for value, _ in definition.questions["areas"].choices}
    assert {"face", "neck", "back", "legs", "other"} <= areas
    risk_names = " ".join(risk.name for risk in definition.risks.items).lower()
    for word in ("bruising", "scarring", "infection"):
        assert word in risk_names
    assert len(definition.risks.items) >= 10
    assert definition.screening_step == "screening"
    # Health questions on three pages (medicines, health, the skin to be treated).
    assert [step.key for step in definition.screening_steps] == [
        "concerns", "medicines", "health", "screening"]
    assert sum(len(step.questions) for step in definition.screening_steps[1:]) >= 13


def test_the_hash_is_of_the_exact_bytes(shipped):
    import hashlib

    assert shipped.sha256 == hashlib.sha256(SHIPPED.read_bytes()).hexdigest()


@pytest.mark.parametrize(
    ("yes", "chosen", "outcome", "rules"),
    [
        ((), {}, "eligible", []),
        ((), {"isotretinoin_use": "now"}, "not_eligible", ["isotretinoin_now"]),
        (("sunburn",), {}, "not_eligible", ["sunburn"]),
        # Pregnancy is a labeling contraindication: not eligible since 2.0.0 (was a review).
        (("pregnant_now",), {}, "not_eligible", ["pregnant"]),
        (("keloids", "allergy_numbing"), {}, "needs_review", ["allergy_numbing", "keloids"]),
        (("blood_thinner", "skin_cancer"), {}, "not_eligible", ["skin_cancer", "blood_thinner"]),
    ],
)
def test_eligibility_follows_the_rules_in_the_definition(shipped, yes, chosen, outcome, rules):
    answers = {"areas": ["face"], **all_screening_answers(*yes, **chosen)}
    result = evaluate(shipped.definition, answers, age=40)
    assert result.outcome == outcome
    assert [reason.rule for reason in result.reasons] == rules
    # The most serious reasons come first, and each is written for the patient.
    severities = [reason.effect for reason in result.reasons]
    assert severities == sorted(severities, key=lambda o: o != "not_eligible")
    assert all(len(reason.text) > 20 for reason in result.reasons)


def test_forms_check_passes_on_the_shipped_forms(runner, shipped):
    result = runner.invoke(args=["forms", "check"])
    assert result.exit_code == 0, result.output
    assert f"ok    microneedling (en) version {shipped.definition.version}" in result.output
    assert f"ok    microneedling (es) version {shipped.definition.version}" in result.output



def test_the_spanish_definition_has_the_same_keys_as_the_english(shipped):
    spanish = load_file(FORMS / "microneedling" / "es.toml")
    assert key_paths(spanish.definition) == key_paths(shipped.definition)
    assert translation_errors(shipped, spanish) == []
    risk_names = " ".join(risk.name for risk in spanish.definition.risks.items).lower()
    for word in ("moretones", "cicatrices", "infección"):
        assert word in risk_names


# A translation that drifts from en.toml: each change, and the key path it must be named by.
@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        # A risk left out: a Spanish patient would never acknowledge it.
        ('[[risks.items]]\nkey = "infection"', '[[risks.items]]\nkey = "infeccion"',
         "missing key risks.items[infection] (it is in en.toml)"),
        ('key = "expectations"\nkind = "textarea"', 'key = "expectations"\nkind = "text"',
         "question_steps[concerns].questions[expectations].kind: text here, textarea in en.toml"),
        ('{ value = "legs", label = "Piernas" },',
         '{ value = "legs", label = "Piernas" },\n  { value = "arms", label = "Brazos" },',
         "question_steps[concerns].questions[areas].options: "
         "face,neck,back,abdomen,legs,arms,other here, face,neck,back,abdomen,legs,other"),
        ('answer = "call_us"', 'answer = "wait"',
         "teach_back[infection_signs].answer: wait here, call_us in en.toml"),
        ('effect = "needs_review"', 'effect = "not_eligible"',
         "rules[age_under_22].effect: not_eligible here, needs_review in en.toml"),
        ('version = "2.1.0"', 'version = "1.0.0"', "version: 1.0.0 here, 2.1.0 in en.toml"),
    ],
)
def test_forms_check_fails_on_a_translation_whose_keys_differ(
    runner, forms_copy, replace, by, expected
):
    path = forms_copy / "microneedling" / "es.toml"
    source = path.read_text()
    assert replace in source
    path.write_text(source.replace(replace, by, 1))

    result = runner.invoke(args=["forms", "check", "--dir", str(forms_copy)])

    assert result.exit_code == 1
    assert f"error {path}: {expected}" in result.output
    assert "ok    microneedling (en)" in result.output  # the English file itself is fine


def test_a_translation_missing_a_whole_question_names_it(runner, forms_copy):
    path = forms_copy / "microneedling" / "es.toml"
    source = path.read_text()
    start = source.index('[[question_steps.questions]]\nkey = "goals"')
    end = source.index("[[question_steps.questions]]", start + 1)
    path.write_text(source[:start] + source[end:])

    result = runner.invoke(args=["forms", "check", "--dir", str(forms_copy)])

    assert result.exit_code == 1
    assert f"{path}: missing key question_steps[concerns].questions[goals] (it is" in (
        result.output
    )
    assert "ok    microneedling (es)" not in result.output


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ('title = "Microneedling"', 'titel = "Microneedling"', "titel: unknown key"),
        ('kind = "multi"', 'kind = "several"', "question_steps[concerns].questions[concerns].kind"),
        ('screening_step = "screening"', 'screening_step = "treated"',
         "screening_step: 'treated' is not a question step"),
    ],
)
def test_forms_check_names_the_file_and_the_bad_key(runner, forms_copy, replace, by, expected):
    path = forms_copy / "microneedling" / "en.toml"
    source = path.read_text()
    assert replace in source
    path.write_text(source.replace(replace, by, 1))

    result = runner.invoke(args=["forms", "check", "--dir", str(forms_copy)])

    assert result.exit_code == 1
    assert str(path) in result.output
    assert expected in result.output


# Every step the journey adds itself. A question step under one of these keys would hide the
# built-in step (no patient could reach the signature), so forms check must refuse it.
BUILT_IN_STEP_KEYS = ("about", "outcome", "expect", "benefits", "risks", "alternatives",
                      "before_visit", "aftercare", "understanding", "signer", "photos",
                      "review", "esign", "sign")


@pytest.mark.parametrize("key", BUILT_IN_STEP_KEYS)
def test_a_question_step_keyed_like_a_built_in_step_fails_forms_check(runner, forms_copy, key):
    path = forms_copy / "microneedling" / "en.toml"
    source = path.read_text()
    path.write_text(source.replace('key = "concerns"', f'key = "{key}"', 1))

    result = runner.invoke(args=["forms", "check", "--dir", str(forms_copy)])

    assert result.exit_code == 1
    assert f"error {path}: " in result.output
    assert f"question_steps: '{key}' is reserved for a built-in step" in result.output


def test_every_built_in_step_of_the_journey_is_reserved_and_has_a_handler(shipped):
    from consentapp.patient.steps import HANDLERS
    from consentapp.procedures.steps import (
        CHECK_IN_STEP,
        HANDLER_KINDS,
        QUESTION,
        RESERVED_STEP_KEYS,
        steps_for,
    )

    journey = steps_for(shipped.definition)
    built_in = {step.key for step in journey if step.handler != QUESTION}
    # The check-in's question step is reserved too (a visit's, not the first consent's).
    assert built_in == set(BUILT_IN_STEP_KEYS) == RESERVED_STEP_KEYS - {CHECK_IN_STEP}
    assert {step.handler for step in journey} <= set(HANDLERS) == HANDLER_KINDS


def test_a_rule_pointing_at_a_missing_question_is_refused(forms_copy):
    path = forms_copy / "microneedling" / "en.toml"
    path.write_text(path.read_text().replace('question = "sunburn"', 'question = "sunburns"', 1))
    expected = r"en\.toml: rules\[sunburn\]\.when\.question: no question 'sunburns'"
    with pytest.raises(DefinitionError, match=expected):
        load_file(path)


def test_broken_toml_is_reported_with_its_file(forms_copy):
    path = forms_copy / "microneedling" / "en.toml"
    path.write_text(path.read_text() + "\n[[[broken\n")
    with pytest.raises(DefinitionError, match="en.toml: not valid TOML"):
        load_file(path)


def test_a_slug_must_match_its_folder(forms_copy):
    moved = forms_copy / "microneedle"
    (forms_copy / "microneedling").rename(moved)
    with pytest.raises(DefinitionError, match="slug: 'microneedling' must match its folder"):
        load_file(moved / "en.toml")


def test_the_shipped_definition_checks_understanding_with_four_questions(shipped):
    teach_back = shipped.definition.teach_back
    # Since 2.0.0 one of them asks about aftercare.
    assert [question.key for question in teach_back] == [
        "results_time", "infection_signs", "aftercare_first_day", "change_mind"]
    assert teach_back[0].question == "How long until results show?"
    for question in teach_back:
        assert question.answer in {option.value for option in question.options}
        assert len(question.explanation) > 20


@pytest.mark.parametrize(
    ("replace", "by", "expected"),
    [
        ('answer = "months"', 'answer = "years"', "teach_back 'results_time': answer 'years'"),
        ('key = "infection_signs"', 'key = "results_time"', "teach_back: two entries share"),
        ('explanation = "Results build slowly.', 'explanatoin = "Results build slowly.',
         "teach_back[results_time].explanatoin: unknown key"),
    ],
)
def test_a_bad_teach_back_question_is_refused_naming_it(forms_copy, replace, by, expected):
    path = forms_copy / "microneedling" / "en.toml"
    source = path.read_text()
    assert replace in source
    path.write_text(source.replace(replace, by, 1))
    with pytest.raises(DefinitionError, match=re.escape(expected)):
        load_file(path)


def test_a_definition_without_teach_back_skips_the_step(app, forms_copy, journey):
    for path in (forms_copy / "microneedling").glob("*.toml"):  # each language alike
        source = path.read_text()
        path.write_text(source[: source.index("[[teach_back]]")].rstrip() + "\n")
    app.config["FORMS_DIR"] = forms_copy
    journey.start()
    journey.about()
    journey.concerns()
    journey.screening()
    for step in ("outcome", "expect", "benefits"):
        journey.continue_(step)
    journey.risks()
    journey.continue_("alternatives")
    page = journey.care()
    assert journey.path == "/step/signer"
    assert "Step 13 of 17" in page.text
