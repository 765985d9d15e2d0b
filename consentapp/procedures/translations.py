"""What every translation of a procedure must share with its English file.

A translation changes the words, never the structure: the same steps and questions in the
same order, the same kinds, options, follow-up conditions and rules (named by key, with the
same condition, effect and clinician note), the same number of points in every section, the
same risks, statements and right answers. Words are never compared, except the staff-facing
`note`s, which are written once, in the staff's language.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .conditions import canonical
from .schema import Definition, InfoPage

if TYPE_CHECKING:  # the loader imports this module; the type is only for the signature
    from .loader import LoadedDefinition

REFERENCE_LANGUAGE = "en"


def _counts(page: InfoPage | None) -> str:
    return ",".join(str(len(section.points)) for section in page.sections) if page else "none"


def key_paths(definition: Definition) -> set[str]:
    """What every translation of a procedure must share: its keys and the values the program
    reads, never its words. Each path is "name" or "name=value"."""
    paths = {
        f"format={definition.format}",
        f"version={definition.version}",
        f"screening_step={definition.screening_step}",
        f"areas_question={definition.areas_question or 'none'}",
        f"question_steps.order={','.join(step.key for step in definition.question_steps)}",
    }
    for step in definition.question_steps:
        step_path = f"question_steps[{step.key}]"
        paths.add(step_path)
        paths.add(f"{step_path}.questions.order={','.join(q.key for q in step.questions)}")
        for question in step.questions:
            base = f"{step_path}.questions[{question.key}]"
            paths |= {base, f"{base}.kind={question.kind}", f"{base}.required={question.required}",
                      f"{base}.max_length={question.max_length}"}
            if question.options:
                paths.add(f"{base}.options={','.join(o.value for o in question.options)}")
            if question.show_if is not None:
                paths.add(f"{base}.show_if={canonical(question.show_if)}")
    paths.add(f"rules.order={','.join(rule.key for rule in definition.rules)}")
    for rule in definition.rules:
        base = f"rules[{rule.key}]"
        paths |= {base, f"{base}.effect={rule.effect}", f"{base}.when={canonical(rule.when)}",
                  f"{base}.note={rule.note}"}
    if definition.not_sure is not None:
        paths.add(f"not_sure.note={definition.not_sure.note}")
    for name in ("what_to_expect", "benefits", "alternatives", "before_your_visit", "aftercare"):
        paths.add(f"{name}.sections={_counts(getattr(definition, name))}")
    call = definition.when_to_call
    if call is not None:
        paths |= {f"when_to_call.points={len(call.points)}",
                  f"when_to_call.call_after_hours={bool(call.call_after_hours)}",
                  f"when_to_call.emergency={bool(call.emergency)}"}
    paths |= {f"risks.items[{risk.key}]" for risk in definition.risks.items}
    paths |= {f"consent_statements[{statement.key}]"
              for statement in definition.consent_statements}
    course = definition.course
    paths.add(f"course={'yes' if course else 'none'}")
    if course is not None:
        paths |= {f"course.max_sessions={course.max_sessions}",
                  f"course.within_months={course.within_months}",
                  f"course.ask_again={','.join(course.ask_again)}",
                  f"course.questions.order={','.join(q.key for q in course.questions)}",
                  f"course.rules.order={','.join(rule.key for rule in course.rules)}"}
        for question in course.questions:
            base = f"course.questions[{question.key}]"
            paths |= {base, f"{base}.kind={question.kind}", f"{base}.required={question.required}"}
            if question.options:
                paths.add(f"{base}.options={','.join(o.value for o in question.options)}")
            if question.show_if is not None:
                paths.add(f"{base}.show_if={canonical(question.show_if)}")
        for rule in course.rules:
            base = f"course.rules[{rule.key}]"
            paths |= {base, f"{base}.effect={rule.effect}",
                      f"{base}.when={canonical(rule.when)}", f"{base}.note={rule.note}"}
    paths.add(f"teach_back.order={','.join(q.key for q in definition.teach_back)}")
    for question in definition.teach_back:
        base = f"teach_back[{question.key}]"
        paths |= {base, f"{base}.answer={question.answer}",
                  f"{base}.options={','.join(o.value for o in question.options)}"}
    return paths


def _split(path: str) -> tuple[str, str | None]:
    name, equals, value = path.partition("=")
    return name, (value if equals else None)


def translation_errors(reference: LoadedDefinition, translation: LoadedDefinition) -> list[str]:
    """How `translation` differs in structure from the reference (English) file, each
    difference naming the translation's file and the key path."""
    expected, found = key_paths(reference.definition), key_paths(translation.definition)
    name = Path(reference.path).name
    values_expected = dict(_split(path) for path in expected if "=" in path)
    values_found = dict(_split(path) for path in found if "=" in path)
    errors = []
    for key in sorted(set(values_expected) & set(values_found)):
        here, there = values_found[key], values_expected[key]
        if here != there:
            if key.endswith(".note"):
                errors.append(f"{translation.path}: {key}: differs from {name} (notes are for "
                              "staff and are the same in every language)")
            else:
                errors.append(f"{translation.path}: {key}: {here} here, {there} in {name}")
    compared = set(values_expected) & set(values_found)
    errors += [f"{translation.path}: missing key {path} (it is in {name})"
               for path in _outermost(expected - found, compared)]
    errors += [f"{translation.path}: extra key {path} (it is not in {name})"
               for path in _outermost(found - expected, compared)]
    return errors


def _outermost(paths: set[str], compared: set[str]) -> list[str]:
    """The paths to report: not those whose value was reported as different already, nor
    the parts of something missing as a whole (a missing question, not also its kind)."""
    wholes = {path for path in paths if "=" not in path}
    return [
        path for path in sorted(paths)
        if _split(path)[0] not in compared
        and not any(path.startswith(f"{whole}.") for whole in wholes)
    ]
