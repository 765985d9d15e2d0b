"""The plain data a record's PDF is rendered from, and the JSON embedded in it.

The PDF template never sees ORM objects: this module turns a stored record, the events it
had when rendered and the exact definition it pinned into dicts, lists and strings, so
rendering is deterministic and the same record and events always give the same text.
"""

import hashlib
import json
from collections.abc import Sequence
from datetime import datetime
from zoneinfo import ZoneInfo

from babel.dates import format_date, format_time
from flask_babel import force_locale, gettext

from ..i18n import N_, english_name
from ..models import ConsentRecord, RecordEvent, Relationship, SignatureMethod
from ..procedures import Definition, InfoPage
from ..signature import from_dict

RECORD_DATA_FORMAT = "consent-record/1"
ATTACHMENT_NAME = "consent-record.json"

# What each kind of event means, in words for whoever reads the audit trail years later.
EVENT_MEANINGS = {
    "signed": "Consent given",
    "screened_out": "Screening completed: not eligible, no consent taken",
    "approved": "Approved for treatment",
    "declined": "Declined for treatment",
    "countersigned": "Countersigned",
    "withdrawn": "Consent withdrawn",
    "viewed": "Record viewed",
    "downloaded": "PDF downloaded",
    "pdf_rendered": "PDF rendered and sealed",
    "pdf_render_failed": "PDF rendering failed (retried)",
    "photo_consent_withdrawn": "Photo consent withdrawn",
    "printed": "PDF opened for printing",
    "exported": "Record exported",
    "patient_copy_downloaded": "Patient downloaded their copy",
}
# The photo consents by their key in the record, in the clinic's words.
PHOTO_LABELS = {
    "clinical": "Clinical before-and-after photos",
    "marketing": "Use of photos in marketing",
}
SYSTEM_ACTOR = "system"
PATIENT_ACTOR = "patient"


# English here (staff pages use them as they are); the PDF shows them in the record's
# language (gettext under force_locale, in build_document).
RELATIONSHIP_LABELS = {
    Relationship.PARENT: N_("Parent"),
    Relationship.GUARDIAN: N_("Guardian"),
    Relationship.LEGAL_REPRESENTATIVE: N_("Legal representative"),
}
OUTCOME_LABELS = {
    "eligible": N_("Eligible"),
    "needs_review": N_("Needs clinician review"),
    "not_eligible": N_("Not eligible"),
}


def _when(moment: datetime | None, tz_name: str) -> dict | None:
    if moment is None:
        return None
    utc = moment.replace(tzinfo=ZoneInfo("UTC"))
    local = utc.astimezone(ZoneInfo(tz_name))
    formatted = {"utc": utc.strftime("%Y-%m-%d %H:%M:%S UTC")}
    # The clinic's own time first; UTC beside it only when they differ.
    formatted["local"] = (
        formatted["utc"] if tz_name == "UTC" else local.strftime(f"%Y-%m-%d %H:%M {tz_name}")
    )
    return formatted


def _in_language(moment: datetime | None, tz_name: str, language: str) -> dict | None:
    """A time as the patient reads it ("9 de abril de 2026, 14:32"), in the clinic's zone,
    with the exact UTC time beside it for staff (as _when)."""
    if moment is None:
        return None
    utc = moment.replace(tzinfo=ZoneInfo("UTC"))
    local = utc.astimezone(ZoneInfo(tz_name))
    return {
        "local": f"{format_date(local, 'long', locale=language)}, "
                 f"{format_time(local, 'short', locale=language)} ({tz_name})",
        "utc": utc.strftime("%Y-%m-%d %H:%M:%S UTC"),
        "in_utc": tz_name == "UTC",
    }


def _local_time(moment: datetime, tz_name: str) -> str:
    """Seconds and the zone's abbreviation (GMT or BST...), so daylight saving is visible."""
    local = moment.replace(tzinfo=ZoneInfo("UTC")).astimezone(ZoneInfo(tz_name))
    return local.strftime("%Y-%m-%d %H:%M:%S %Z")


def _answer_text(question, value) -> str:
    if value in (None, "", []):
        return gettext("(no answer)")
    if isinstance(value, list):
        return "; ".join(question.label_for(item) for item in value)
    if question.kind in ("single", "yesno"):
        return question.label_for(value)
    return str(value)


def answered_steps(definition: Definition, answers: dict) -> list[dict]:
    return [
        {
            "key": step.key,
            "title": step.title,
            "answers": [
                {
                    "key": question.key,
                    "question": question.label,
                    "answer": _answer_text(question, answers.get(question.key)),
                }
                for question in step.questions
            ],
        }
        for step in definition.question_steps
    ]


def _info(page: InfoPage) -> dict:
    return {
        "title": page.title,
        "intro": page.intro,
        "sections": [{"heading": s.heading, "points": list(s.points)} for s in page.sections],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="microseconds") if moment else None


def record_data(record: ConsentRecord, events: Sequence[RecordEvent]) -> dict:
    """Everything the record holds, and its events with their chain hashes (times in UTC).

    Embedded in the PDF as JSON, so the sealed file carries the data itself, not only its
    printout, and each event's hash can be checked from the file alone.
    """
    return {
        "format": RECORD_DATA_FORMAT,
        "record_id": record.id,
        "procedure": {
            "slug": record.procedure_slug,
            "title": record.procedure_title,
            "definition_version": record.definition_version,
            "definition_sha256": record.definition_sha256,
            "language": record.language,
        },
        "patient": {
            "name": record.patient_name,
            "date_of_birth": record.patient_dob.isoformat(),
            "contact": record.patient_contact,
        },
        "answers": record.answers,
        "outcome": record.outcome,
        "outcome_reasons": record.outcome_reasons,
        "acknowledged_risks": record.acknowledged_risks,
        "accepted_statements": record.accepted_statements,
        "signer_name": record.signer_name,
        "signature_method": record.signature_method,
        "signature": record.signature,
        "representative": record.representative,
        "interpreter": record.interpreter,
        "witness": record.witness,
        "teach_back": record.teach_back,
        "esign_agreement": record.esign_agreement,
        "photo_consent": record.photo_consent,
        "signed_at": _iso(record.signed_at),
        "completed_at": _iso(record.completed_at),
        "user_agent": record.user_agent,
        "events": [
            {
                "id": event.id,
                "kind": event.kind,
                "actor": event.actor,
                "created_at": _iso(event.created_at),
                "details": event.details,
                "prev_hash": event.prev_hash,
                "hash": event.hash,
            }
            for event in events
        ],
    }


def record_json(data: dict) -> bytes:
    """The attachment's bytes: stable key order, so the same record gives the same hash."""
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False).encode() + b"\n"


def _person(event: RecordEvent, record: ConsentRecord) -> str:
    if event.actor == PATIENT_ACTOR:
        return f"{record.signer_name or record.patient_name} (patient)"
    if event.actor == SYSTEM_ACTOR:
        return "Consent kiosk (automatic)"
    return event.actor


def _audit_events(record: ConsentRecord, events: Sequence[RecordEvent], tz_name: str):
    rows = []
    for number, event in enumerate(events, start=1):
        details = event.details or {}
        device = details.get("user_agent")
        if device is None and event.actor == PATIENT_ACTOR:
            device = record.user_agent  # the tablet's, stored with the record
        if event.actor == SYSTEM_ACTOR:
            device = "The clinic's consent server"
        rows.append(
            {
                "number": number,
                "meaning": EVENT_MEANINGS.get(event.kind, event.kind.replace("_", " ")),
                "person": _person(event, record),
                "utc": event.created_at.strftime("%Y-%m-%d %H:%M:%S"),
                "local": _local_time(event.created_at, tz_name),
                "device": device or "",
                "address": details.get("address") or "",
                "hash": event.hash,
            }
        )
    return rows


# The staff events a PDF version reports, with the heading each gets.
STAFF_EVENT_TITLES = {
    "approved": "Approved for treatment by a clinician",
    "declined": "Declined by a clinician: do not treat",
    "countersigned": "Countersigned by a clinician",
    "withdrawn": "Consent withdrawn",
    "photo_consent_withdrawn": "Photo consent withdrawn",
}


def staff_decisions(events: Sequence[RecordEvent], tz_name: str) -> list[dict]:
    """Review, countersignature and withdrawal events, oldest first, as plain text.

    Only the events this PDF version is rendered from, so re-rendering it gives the same text.
    """
    decisions = []
    for event in events:
        if event.kind not in STAFF_EVENT_TITLES:
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
            "title": STAFF_EVENT_TITLES[event.kind],
            "at": _when(event.created_at, tz_name),
            # "Dr Ana Ruiz (ana@clinic.org, clinician)": the typed name and the account.
            "by": f"{name} ({account})" if account else name,
            "meaning": details.get("meaning", ""),
            "statement": details.get("statement", ""),
            "note": details.get("note", ""),
            "reason": details.get("reason", ""),
            "signature": signature,
        })
    return decisions


STAFF_NOTE = "Staff note: this consent was completed in {name} ({code})."


def build_document(
    record: ConsentRecord, definition: Definition, events: Sequence[RecordEvent], *,
    clinic_name: str, tz_name: str, verification_code: str, verification_url: str,
    sample: bool = False,
) -> dict:
    """The PDF's content, every patient-facing word in the record's language."""
    with force_locale(record.language):
        return _document(
            record, definition, events, clinic_name=clinic_name, tz_name=tz_name,
            verification_code=verification_code, verification_url=verification_url,
            sample=sample,
        )


def _document(
    record: ConsentRecord, definition: Definition, events: Sequence[RecordEvent], *,
    clinic_name: str, tz_name: str, verification_code: str, verification_url: str,
    sample: bool,
) -> dict:
    language = record.language
    embedded = record_json(record_data(record, events))
    newest = max([record.completed_at, *(event.created_at for event in events)])
    outcome_text = getattr(definition.outcomes, record.outcome)
    acknowledged = set(record.acknowledged_risks)
    accepted = set(record.accepted_statements)
    return {
        "sample": sample,
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
        "staff_note": None if language == "en" else STAFF_NOTE.format(
            name=english_name(language), code=language
        ),
        "patient": {
            "name": record.patient_name,
            "dob": format_date(record.patient_dob, "long", locale=language),
            "dob_short": format_date(record.patient_dob, "medium", locale=language),
            "contact": record.patient_contact or "",
        },
        "completed_at": _in_language(record.completed_at, tz_name, language),
        "signed_at": _in_language(record.signed_at, tz_name, language),
        "user_agent": record.user_agent,
        "outcome": {
            "code": record.outcome,
            "label": gettext(OUTCOME_LABELS[record.outcome]),
            "title": outcome_text.title,
            "reasons": [reason["text"] for reason in record.outcome_reasons],
        },
        "steps": answered_steps(definition, record.answers),
        "signed": record.signed_at is not None,
        "what_to_expect": _info(definition.what_to_expect),
        "benefits": _info(definition.benefits),
        "alternatives": _info(definition.alternatives),
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
    }


def _esign(agreement: dict | None, tz_name: str) -> dict | None:
    if not agreement:
        return None
    return {
        **agreement,
        "agreed_at": _when(datetime.fromisoformat(agreement["agreed_at"]), tz_name),
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
        for event in events if event.kind == "photo_consent_withdrawn"
    }
    entries = []
    for kind, label in PHOTO_LABELS.items():
        withdrawal = withdrawals.get(kind)
        entries.append({
            "kind": kind,
            "label": label,
            "text": (given.get("text") or {}).get(kind, ""),
            "given": bool(given.get(kind)),
            "withdrawn": {
                "at": _when(withdrawal.created_at, tz_name),
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
        "relationship": gettext(RELATIONSHIP_LABELS[relationship])
        if relationship in RELATIONSHIP_LABELS else relationship,
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
