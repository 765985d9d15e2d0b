"""What every translation of a procedure must share with its English file.

A translation changes the words, never the structure: the same questions, options, rules,
risks, statements and right answers, under the same keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from .schema import Definition

if TYPE_CHECKING:  # the loader imports this module; the type is only for the signature
    from .loader import LoadedDefinition

REFERENCE_LANGUAGE = "en"


def key_paths(definition: Definition) -> set[str]:
    """What every translation of a procedure must share: its keys and the values the program
    reads (kinds, option values, rules, right answers), never its words. A rule is named by
    its place, as rules apply in order; everything else by its key."""
    paths = {f"version={definition.version}", f"screening_step={definition.screening_step}"}
    for step in definition.question_steps:
        paths.add(f"question_steps.{step.key}")
        for question in step.questions:
            base = f"question_steps.{step.key}.questions.{question.key}"
            paths |= {base, f"{base}.kind={question.kind}", f"{base}.required={question.required}",
                      f"{base}.max_length={question.max_length}"}
            paths |= {f"{base}.options.{option.value}" for option in question.options}
    for index, rule in enumerate(definition.rules):
        base = f"rules[{index}]"
        paths |= {f"{base}.question={rule.question}", f"{base}.outcome={rule.outcome}"}
        paths |= {f"{base}.answers.{answer}" for answer in rule.answers}
    paths |= {f"risks.items.{risk.key}" for risk in definition.risks.items}
    paths |= {f"consent_statements.{statement.key}" for statement in definition.consent_statements}
    for question in definition.teach_back:
        base = f"teach_back.{question.key}"
        paths |= {base, f"{base}.answer={question.answer}"}
        paths |= {f"{base}.options.{option.value}" for option in question.options}
    return paths


def translation_errors(reference: LoadedDefinition, translation: LoadedDefinition) -> list[str]:
    """How `translation` differs in structure from the reference (English) file, each
    difference naming the translation's file and the key path."""
    expected, found = key_paths(reference.definition), key_paths(translation.definition)
    name = Path(reference.path).name
    return [
        *(f"{translation.path}: missing key {key} (it is in {name})"
          for key in sorted(expected - found)),
        *(f"{translation.path}: extra key {key} (it is not in {name})"
          for key in sorted(found - expected)),
    ]
