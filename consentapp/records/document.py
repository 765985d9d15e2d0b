"""The plain data a record's PDF is rendered from.

The PDF template never sees ORM objects: this module turns a stored record, the events it
had when rendered and the exact definition it pinned into dicts, lists and strings, so
rendering is deterministic and the same record and events always give the same text.
"""

import hashlib
from collections.abc import Sequence
from datetime import date, datetime

from babel.dates import format_date
from flask import current_app
from flask_babel import force_locale

from .. import clinic_time
from ..i18n import english_name
from ..models import Actor, ConsentRecord, EventKind, RecordEvent, SignatureMethod
from ..procedures import care
from ..procedures.answers import (
    answer_text,
    answered_steps,
    for_the_clinician,
    for_the_patient,
)
from ..procedures.catalog import definition_for
from ..procedures.eligibility import age_on, shown_questions, stored_reasons
from ..procedures.schema import Definition, InfoPage
from . import labels
from .attachment import ATTACHMENT_NAME, record_data, record_json
from .course import last_covered_day
from .events import events_of
from .signature import from_dict
from .verification import code_for, verification_url

# The paper of PDF versions rendered before PDF_PAGE_SIZE existed (their events name none).
EARLIER_PAGE_SIZE = "a4"


def document_for(
    record: ConsentRecord,
    events: list[RecordEvent],
    *,
    code: str,
    definition: Definition | None = None,
    sample: bool = False,
    page_size: str | None = None,
) -> dict:
    """The document of `record` with `events`, as this app's configuration says (the paper
    too, unless `page_size` names the one a stored version was laid out on)."""
    config = current_app.config
    return build_document(
        record,
        definition or definition_for(record.definition_sha256),
        events,
        clinic_name=config["CLINIC_NAME"],
        tz_name=config["CLINIC_TIMEZONE"],
        verification_code=code,
        verification_url=verification_url(code),
        sample=sample,
        page_size=page_size or config["PDF_PAGE_SIZE"],
    )


def rebuild_document(record: ConsentRecord, version: int) -> dict:
    """The document a stored PDF version was rendered from, built again from the database."""
    rendered = next(
        (
            event
            for event in events_of(record.id)
            if event.kind == EventKind.PDF_RENDERED and event.details.get("version") == version
        ),
        None,
    )
    if rendered is None:
        raise LookupError(f"record {record.id} has no PDF version {version}")
    through = rendered.details.get("events_through")
    events = events_of(record.id, through=through) if through is not None else []
    return document_for(record, events, code=code_for(record.id),
                        page_size=rendered.details.get("page_size", EARLIER_PAGE_SIZE))


def _info(page: InfoPage) -> dict:
    return {
        "title": page.title,
        "intro": page.intro,
        "sections": [{"heading": s.heading, "points": list(s.points)} for s in page.sections],
    }


def _person(event: RecordEvent, record: ConsentRecord) -> str:
    if event.actor == Actor.PATIENT:
        return labels.PATIENT_PERSON.format(name=record.signer_name or record.patient_name)
    if event.actor == Actor.SYSTEM:
        return labels.SYSTEM_PERSON
    return event.actor


def _audit_events(record: ConsentRecord, events: Sequence[RecordEvent], tz_name: str):
    rows = []
    for number, event in enumerate(events, start=1):
        details = event.details or {}
        device = details.get("user_agent")
        if device is None and event.actor == Actor.PATIENT:
            device = record.user_agent  # the tablet's, stored with the record
        if event.actor == Actor.SYSTEM:
            device = labels.SYSTEM_DEVICE
        rows.append(
            {
                "number": number,
                "meaning": labels.EVENT_MEANINGS.get(event.kind, event.kind.replace("_", " ")),
                "person": _person(event, record),
                "utc": event.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                "local": clinic_time.local_text(event.created_at, tz_name, with_seconds=True),
                "device": device or "",
                "address": details.get("address") or "",
                "hash": event.hash,
            }
        )
    return rows


def staff_decisions(events: Sequence[RecordEvent], tz_name: str) -> list[dict]:
    """Review, countersignature and withdrawal events, oldest first, as plain text.

    Only the events this PDF version is rendered from, so re-rendering it gives the same text.
    """
    decisions = []
    for event in events:
        if event.kind not in labels.STAFF_EVENT_TITLES:
            continue
        details = event.details or {}
        drawn = details.get("signature")
        signature = None
        if drawn:
            strokes = from_dict(drawn)
            signature = {"width": strokes.width, "height": strokes.height,
                         "path": strokes.svg_path()}
        name = details.get("clinician_name") or details.get("recorded_by_name") or ""
        role = details.get("role", "")
        account = f"{event.actor}, {role}" if role else event.actor
        if not name or name == event.actor:
            name, account = event.actor, role
        decisions.append({
            "kind": event.kind,
            "title": labels.STAFF_EVENT_TITLES[event.kind],
            "at": clinic_time.when(event.created_at, tz_name),
            # "Dr Ana Ruiz (ana@clinic.org, clinician)": the typed name and the account.
            "by": f"{name} ({account})" if account else name,
            "meaning": details.get("meaning", ""),
            "statement": details.get("statement", ""),
            "note": details.get("note", ""),
            "reason": details.get("reason", ""),
            "signature": signature,
        })
    return decisions


def visits(record: ConsentRecord, definition: Definition, events: Sequence[RecordEvent],
           tz_name: str) -> list[dict]:
    """Each visit's check-in of `events`, oldest first, as plain text: its session, outcome,
    the questions asked and their answers, every rule that held with its note for the
    clinician, the statement and the signature, who started it and from which device.
    Patient words in the record's language (the caller's locale); staff words in English."""
    if definition.course is None:
        return []
    derived = definition.check_in
    asked = definition.check_in_questions()
    entries = []
    for event in events:
        if event.kind != EventKind.VISIT_CHECKED_IN:
            continue
        details = event.details or {}
        fresh = details.get("answers") or {}
        day = date.fromisoformat(details["screened_on"])
        age = age_on(record.patient_dob, day)
        kept = {k: v for k, v in record.answers.items() if k not in {q.key for q in asked}}
        combined = {**kept, **fresh}
        shown = shown_questions(derived, combined, age)
        reasons = stored_reasons(details.get("outcome_reasons"))
        drawn = details.get("signature")
        signature = None
        if details.get("signature_method"):
            signature = {"method": details["signature_method"],
                         "signer_name": details.get("signer_name") or ""}
            if drawn:
                strokes = from_dict(drawn)
                signature.update(width=strokes.width, height=strokes.height,
                                 path=strokes.svg_path())
        outcome = details.get("outcome")
        entries.append({
            "event_id": event.id,
            "session": details.get("session"),
            "of": details.get("of"),
            "at": clinic_time.when(event.created_at, tz_name),
            "at_local": clinic_time.in_language(event.created_at, tz_name, record.language),
            "outcome": outcome,
            "outcome_label": str(labels.OUTCOME_LABELS[outcome]),
            "answers": [
                {"key": q.key, "question": q.label, "answer": answer_text(q, fresh.get(q.key))}
                for q in asked if q.key in shown
            ],
            "reasons": for_the_patient(derived, reasons),
            "clinician": [
                {**entry, "meaning": labels.EFFECT_MEANINGS[entry["effect"]]}
                for entry in for_the_clinician(derived, reasons, combined, age,
                                               noted_only=False)
            ],
            "statement": details.get("statement"),
            "signature": signature,
            "started_by": f"{details.get('started_by', '')}"
            + (f", {details['started_by_role']}" if details.get("started_by_role") else ""),
            "device": details.get("user_agent") or "",
            "address": details.get("address") or "",
            "hash": event.hash,
        })
    return entries


def build_document(
    record: ConsentRecord, definition: Definition, events: Sequence[RecordEvent], *,
    clinic_name: str, tz_name: str, verification_code: str, verification_url: str,
    sample: bool = False, page_size: str = EARLIER_PAGE_SIZE,
) -> dict:
    """The PDF's content, every patient-facing word in the record's language."""
    with force_locale(record.language):
        return _document(
            record, definition, events, clinic_name=clinic_name, tz_name=tz_name,
            verification_code=verification_code, verification_url=verification_url,
            sample=sample, page_size=page_size,
        )


def record_age(record: ConsentRecord) -> int | None:
    """The patient's age on the day the record was screened (None on older records, whose
    definitions had no rule on the age)."""
    return age_on(record.patient_dob, record.screened_on) if record.screened_on else None


def _outcome(record: ConsentRecord, definition: Definition) -> dict:
    """The screening's outcome as the patient read it, and every note for the clinician."""
    reasons = stored_reasons(record.outcome_reasons)
    text = getattr(definition.outcomes, record.outcome)
    return {
        "code": record.outcome,
        "label": str(labels.OUTCOME_LABELS[record.outcome]),
        "title": text.title,
        "reasons": for_the_patient(definition, reasons),
        "clinician": [
            {**entry, "meaning": labels.EFFECT_MEANINGS[entry["effect"]]}
            for entry in for_the_clinician(definition, reasons, record.answers,
                                           record_age(record))
        ],
    }


def _document(
    record: ConsentRecord, definition: Definition, events: Sequence[RecordEvent], *,
    clinic_name: str, tz_name: str, verification_code: str, verification_url: str,
    sample: bool, page_size: str,
) -> dict:
    language = record.language
    embedded = record_json(record_data(record, events))
    newest = max([record.completed_at, *(event.created_at for event in events)])
    acknowledged = set(record.acknowledged_risks)
    accepted = set(record.accepted_statements)
    return {
        "sample": sample,
        "page_size": page_size,
        "clinic_name": clinic_name,
        "record_id": record.id,
        "procedure": {
            "slug": record.procedure_slug,
            "title": record.procedure_title,
            "version": record.definition_version,
            "sha256": record.definition_sha256,
            "language": record.language,
        },
        # English, for staff who may not read the record's language; none on English ones.
        "staff_note": None if language == "en" else labels.STAFF_NOTE.format(
            name=english_name(language), code=language
        ),
        "patient": {
            "name": record.patient_name,
            "dob": format_date(record.patient_dob, "long", locale=language),
            "dob_short": format_date(record.patient_dob, "medium", locale=language),
            "contact": record.patient_contact or "",
        },
        "completed_at": clinic_time.in_language(record.completed_at, tz_name, language),
        "signed_at": clinic_time.in_language(record.signed_at, tz_name, language),
        "user_agent": record.user_agent,
        "outcome": _outcome(record, definition),
        "steps": answered_steps(definition, record.answers, record_age(record)),
        "signed": record.signed_at is not None,
        "what_to_expect": _info(definition.what_to_expect),
        "benefits": _info(definition.benefits),
        "alternatives": _info(definition.alternatives),
        # Before each visit, after the treatment, when to call: as the patient saw them, with
        # the phone numbers stored with the record (none on records of format 1).
        "care": care.care_for(definition, record.clinic_contact),
        "risks": {
            "title": definition.risks.title,
            "entries": [
                {
                    "name": risk.name,
                    "description": risk.description,
                    "acknowledged": risk.key in acknowledged,
                }
                for risk in definition.risks.items
            ],
        },
        "statements": [
            {"text": statement.text, "accepted": statement.key in accepted}
            for statement in definition.consent_statements
        ],
        "signature": _signature(record),
        "audit": {
            "timezone": tz_name,
            "events": _audit_events(record, events, tz_name),
        },
        "embedded_json": embedded.decode(),
        "embedded_json_name": ATTACHMENT_NAME,
        "embedded_json_sha256": hashlib.sha256(embedded).hexdigest(),
        "verification": {"code": verification_code, "url": verification_url},
        # PDF metadata dates from the record itself, never the clock: a re-render matches.
        "created": record.completed_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "modified": newest.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "staff_events": staff_decisions(events, tz_name),
        "representative": _representative(record.representative),
        "interpreter": record.interpreter,
        "witness": record.witness,
        "teach_back": _teach_back(definition, record.teach_back),
        "esign": _esign(record.esign_agreement, tz_name),
        "photos": photo_consents(record, events, tz_name),
        "visits": visits(record, definition, events, tz_name),
        "course": _course(record, definition),
    }


def _course(record: ConsentRecord, definition: Definition) -> dict | None:
    """What the consent covers, as the patient agreed to it."""
    course = definition.course
    if course is None or not record.is_signed:
        return None
    last = last_covered_day(record, definition)
    return {"max_sessions": course.max_sessions, "within_months": course.within_months,
            "until": format_date(last, "long", locale=record.language)}


def _esign(agreement: dict | None, tz_name: str) -> dict | None:
    if not agreement:
        return None
    return {
        **agreement,
        "agreed_at": clinic_time.when(datetime.fromisoformat(agreement["agreed_at"]), tz_name),
    }


def photo_consents(
    record: ConsentRecord, events: Sequence[RecordEvent], tz_name: str
) -> list[dict]:
    """Each photo consent as given at signing, and its withdrawal if one of `events` is one.

    Empty for records signed before photo consents were asked for.
    """
    given = record.photo_consent or {}
    if not given:
        return []
    withdrawals = {
        event.details.get("photo_consent"): event
        for event in events if event.kind == EventKind.PHOTO_CONSENT_WITHDRAWN
    }
    entries = []
    for kind, label in labels.PHOTO_LABELS.items():
        withdrawal = withdrawals.get(kind)
        entries.append({
            "kind": kind,
            "label": label,
            "text": (given.get("text") or {}).get(kind, ""),
            "given": bool(given.get(kind)),
            "withdrawn": {
                "at": clinic_time.when(withdrawal.created_at, tz_name),
                "by": withdrawal.details.get("recorded_by_name") or withdrawal.actor,
            } if withdrawal else None,
        })
    return entries


def _signature(record: ConsentRecord) -> dict | None:
    # Before signature_method existed every signature was drawn.
    method = record.signature_method or (SignatureMethod.DRAWN if record.signature else None)
    if method is None:
        return None
    signature = {"method": method, "signer_name": record.signer_name}
    if method == SignatureMethod.DRAWN:
        drawn = from_dict(record.signature)
        signature.update(width=drawn.width, height=drawn.height, path=drawn.svg_path())
    return signature


def _representative(representative: dict | None) -> dict | None:
    if not representative:
        return None
    relationship = representative["relationship"]
    return {
        "name": representative["name"],
        "relationship": str(labels.RELATIONSHIP_LABELS[relationship])
        if relationship in labels.RELATIONSHIP_LABELS else relationship,
    }


def _teach_back(definition: Definition, results: list[dict] | None) -> list[dict]:
    questions = {question.key: question for question in definition.teach_back}
    entries = []
    for result in results or []:
        question = questions[result["key"]]
        entries.append({
            "question": question.question,
            "answer": question.label_for(question.answer),
            "attempts": [
                {"answer": question.label_for(value), "correct": value == question.answer}
                for value in result["attempts"]
            ],
            "correct": result["correct"],
        })
    return entries
