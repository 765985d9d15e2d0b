"""A sample record for a procedure definition, rendered and sealed like a real one, never stored.

Clinics check what a changed definition will look like on paper with
`flask --app wsgi forms preview SLUG --out FILE.pdf`. The record and its event are built in
memory (never added to the session) and go through the same render and seal code as real
records; every page says SAMPLE, and `verify` answers 2 for the file because no stored record
has it.
"""

from datetime import date

from flask import current_app

from ..models import Actor, ConsentRecord, EventKind, RecordEvent, RecordOutcome, utcnow
from ..procedures.catalog import available
from ..procedures.eligibility import evaluate
from ..procedures.schema import Definition, Question
from .document import document_for
from .events import GENESIS_HASH, event_hash
from .render import render_pdf
from .seal import seal_for_app
from .verification import derive_code

SAMPLE_RECORD_ID = "00000000-0000-4000-8000-000000000000"
SAMPLE_PATIENT = "Sample Patient"
SAMPLE_USER_AGENT = "Sample tablet (preview)"


def _screening_answers(definition: Definition) -> set[tuple[str, str]]:
    """(question, answer) pairs that a rule flags: a sample patient avoids them."""
    return {(rule.question, answer) for rule in definition.rules for answer in rule.answers}


def sample_answer(question: Question, flagged: set[tuple[str, str]]):
    if question.kind in ("text", "textarea"):
        return "Sample answer"
    values = [value for value, _ in question.choices]
    unflagged = [value for value in values if (question.key, value) not in flagged]
    choice = (unflagged or values)[0]
    return [choice] if question.kind == "multi" else choice


def sample_answers(definition: Definition) -> dict:
    flagged = _screening_answers(definition)
    return {key: sample_answer(q, flagged) for key, q in definition.questions.items()}


def _sample_signature() -> dict:
    """A drawn loop across a 700x220 pad, in the shape the tablet posts."""
    stroke = [[60 + i * 11, 110 + (45 if i % 2 else -45)] for i in range(50)]
    return {"width": 700, "height": 220, "strokes": [stroke]}


def sample_record(definition: Definition, definition_sha256: str):
    """An unsaved record and its `signed` (or screened-out) event."""
    now = utcnow().replace(microsecond=0)
    answers = sample_answers(definition)
    eligibility = evaluate(definition, answers)
    signed = eligibility.outcome != RecordOutcome.NOT_ELIGIBLE
    record = ConsentRecord(
        id=SAMPLE_RECORD_ID,
        submission_key="sample",
        procedure_slug=definition.slug,
        procedure_title=definition.title,
        definition_version=definition.version,
        definition_sha256=definition_sha256,
        language=definition.language,
        patient_name=SAMPLE_PATIENT,
        patient_dob=date(1980, 1, 1),
        patient_contact=None,
        answers=answers,
        outcome=eligibility.outcome,
        outcome_reasons=[reason.as_dict() for reason in eligibility.reasons],
        acknowledged_risks=[risk.key for risk in definition.risks.items] if signed else [],
        accepted_statements=(
            [statement.key for statement in definition.consent_statements] if signed else []
        ),
        signer_name=SAMPLE_PATIENT if signed else None,
        signature=_sample_signature() if signed else None,
        signed_at=now if signed else None,
        completed_at=now,
        user_agent=SAMPLE_USER_AGENT,
    )
    kind = EventKind.SIGNED if signed else EventKind.SCREENED_OUT
    details = {"outcome": eligibility.outcome, "address": "sample"}
    event = RecordEvent(
        id=1,
        record_id=record.id,
        kind=kind,
        actor=Actor.PATIENT,
        created_at=now,
        details=details,
        prev_hash=GENESIS_HASH,
        hash=event_hash(record.id, kind, Actor.PATIENT, now, details, GENESIS_HASH),
    )
    return record, [event]


class UnknownProcedure(LookupError):
    pass


def preview_pdf(slug: str, language: str = "en") -> bytes:
    """A sealed SAMPLE PDF of the definition `slug` as it is in FORMS_DIR now."""
    loaded = available().get((slug, language))
    if loaded is None:
        known = ", ".join(f"{s} ({lang})" for s, lang in sorted(available())) or "none"
        raise UnknownProcedure(f"no procedure '{slug}' in language '{language}' (known: {known})")
    record, events = sample_record(loaded.definition, loaded.sha256)
    app = current_app._get_current_object()
    code = derive_code(record.id, app.config["SECRET_KEY"])
    document = document_for(
        record, events, code=code, definition=loaded.definition, sample=True
    )
    return seal_for_app(app, render_pdf(document))
