"""The record's data as JSON, embedded in its PDF as an attachment (PDF/A-3 associated file).

So the sealed file carries the data itself, not only its printout, and each event's hash can
be checked from the file alone. Stable key order: the same record gives the same bytes.
"""

import json
from collections.abc import Sequence
from datetime import datetime

from ..models import ConsentRecord, RecordEvent

RECORD_DATA_FORMAT = "consent-record/1"
ATTACHMENT_NAME = "consent-record.json"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="microseconds") if moment else None


def record_data(record: ConsentRecord, events: Sequence[RecordEvent]) -> dict:
    """Everything the record holds, and its events with their chain hashes (times in UTC)."""
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
