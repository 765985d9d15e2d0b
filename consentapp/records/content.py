"""A record's canonical content: every fact its row holds, as the bytes its SHA-256 is taken of.

The record row is evidence, but a row can be edited with SQL, so the chain carries its
hash: the `signed` or `screened_out` event of each record stores `content_sha256` and the
`content_version` it was computed with (records signed before hashes were kept have a
`content_hash_recorded` event instead, added by the migration of that name). `audit check`,
the render worker, every staff decision and `verify` recompute it from the row
(records/integrity.py), and nothing renders or seals a record whose content no longer
matches.

What it covers is every column of consent_records: the answers, the patient's name, date of
birth and contact, who signed and for whom (representative), the interpreter and witness,
the drawn signature's strokes, the teach-back answers, the statements accepted and the risks
acknowledged, the e-sign disclosure and the photo consents with their texts word for word,
the definition's version and hash, the language and the times. The texts the patient read
are covered through the definition's hash: the stored definition must hash to it.

Extending it. Facts that come later are events, and an event's details are its content:
a decision, a withdrawal, and (later) each visit's check-in with its answers and signature
carry their own facts, and the event chain covers them, so nothing here changes for them.
A new column on consent_records is a new CONTENT_VERSION: add a tuple to FIELDS with every
column, write new records with it, and keep checking each old record with the version its
event names. tests/test_record_integrity.py forges every column and fails until a new one
is covered.
"""

import hashlib
from datetime import date, datetime
from typing import Any

from ..models import ConsentRecord
from .events import canonical_json

_V1 = (
    "id", "submission_key", "procedure_slug", "procedure_title", "definition_version",
    "definition_sha256", "language", "patient_name", "patient_name_search", "patient_dob",
    "patient_contact", "answers", "outcome", "outcome_reasons", "acknowledged_risks",
    "accepted_statements", "signer_name", "signature", "signature_method", "representative",
    "interpreter", "witness", "teach_back", "esign_agreement", "photo_consent", "signed_at",
    "completed_at", "user_agent",
)
# Version 2: the clinic's date the rules were run on (the age they read) and the phone
# numbers the care pages gave the patient.
_V2 = (*_V1, "screened_on", "clinic_contact")
# Version -> the columns it covers, in no particular order (the JSON is sorted).
FIELDS: dict[int, tuple[str, ...]] = {1: _V1, 2: _V2}
CONTENT_VERSION = 2


def _plain(value: Any) -> Any:
    """Dates and times as both databases store them (naive UTC to the microsecond)."""
    if isinstance(value, datetime):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def canonical_content(record: ConsentRecord, version: int = CONTENT_VERSION) -> dict[str, Any]:
    """The record's facts as plain JSON values, the ones `version` covers."""
    return {name: _plain(getattr(record, name)) for name in FIELDS[version]}


def content_sha256(record: ConsentRecord, version: int = CONTENT_VERSION) -> str:
    """SHA-256 of the canonical JSON of the record's content (sorted keys, UTF-8)."""
    document = {"content_version": version, "record": canonical_content(record, version)}
    return hashlib.sha256(canonical_json(document)).hexdigest()


def content_details(record: ConsentRecord) -> dict[str, Any]:
    """What the record's first event carries about its content."""
    return {"content_sha256": content_sha256(record), "content_version": CONTENT_VERSION}
