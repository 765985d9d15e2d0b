"""Committing a record: every rule a valid record must meet, and the one transaction that
writes it.

Facts before artefacts: one transaction writes the record, its first event, its listing row
and a render job (records/jobs.py renders the PDF afterwards, from the stored record, so a
rendering failure can never lose a signature). Before that transaction, commit_record checks
every sign-time rule and refuses a submission that breaks one with a named error; the patient
side's screens check the same things for the patient's sake, this is where it counts.
"""

import hashlib
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from ..clinic_time import clinic_today
from ..extensions import db
from ..models import (
    Actor,
    ConsentRecord,
    EventKind,
    PatientDraft,
    RecordOutcome,
    RenderJob,
    SignatureMethod,
    utcnow,
)
from ..procedures import consents
from ..procedures.care import tells_patient_to_call
from ..procedures.eligibility import age_on, evaluate, hidden_answers
from ..procedures.schema import Definition
from .content import content_details
from .course import listing_columns
from .events import append_event, canonical_json
from .search import search_key
from .signature import Signature
from .status import add_listing

ADULT_AGE = 18


@dataclass(frozen=True)
class Submission:
    """Everything the tablet collected, checked by the patient blueprint's forms."""

    submission_key: str
    definition_sha256: str
    language: str
    patient_name: str
    patient_dob: date
    patient_contact: str | None
    answers: dict
    acknowledged_risks: tuple[str, ...] = ()
    accepted_statements: tuple[str, ...] = ()
    signer_name: str | None = None
    # "drawn" (with `signature`) or "typed" (signer_name is the signature); None: not signed.
    signature_method: str | None = None
    signature: Signature | None = None
    representative: dict | None = None
    interpreter: dict | None = None
    witness: dict | None = None
    teach_back: list | None = None
    esign_agreement: dict | None = None  # esign_agreement()
    photo_consent: dict | None = None  # photo_consent()
    # The clinic's phone numbers the patient was shown (procedures.care.contact).
    clinic_contact: dict | None = None
    user_agent: str = ""
    address: str = ""


class AlreadySubmitted(Exception):
    """This draft was committed before (a double tap on Sign, or the tablet retrying after
    a lost answer); carries the first record's id."""

    def __init__(self, record_id: str):
        super().__init__(record_id)
        self.record_id = record_id


class RecordRefused(ValueError):
    """The submission is not a valid record; the message names the rule it breaks."""


class StepIncomplete(RecordRefused):
    """A step of the journey that a signed record needs was not done; `step` names it."""

    step: str = ""


class RepresentativeRequired(StepIncomplete):
    step = "signer"


class UnderstandingNotChecked(StepIncomplete):
    step = "understanding"


class ConsentMissing(StepIncomplete):
    def __init__(self, step: str, message: str):
        super().__init__(message)
        self.step = step


class NotEligible(RecordRefused):
    """The screening says not eligible: there is nothing the patient may sign."""


class InvalidSignature(RecordRefused):
    """The signature's method, name or strokes do not fit together."""


class UnsignedRecord(RecordRefused):
    """Only a screening that ended the journey leaves a record without a signature."""


class HiddenAnswer(RecordRefused):
    """The answers hold one to a question the patient was not asked (a follow-up whose
    condition does not hold, or no question of the definition): it is never stored."""


def is_minor(date_of_birth: date, day: date) -> bool:
    """Under 18 on `day`: such a patient never signs alone."""
    return age_on(date_of_birth, day) < ADULT_AGE


def esign_agreement(language: str, agreed_at: datetime) -> dict:
    """The disclosure as the patient read it, and when they agreed, for the record."""
    text = consents.esign_text()
    return {
        "version": consents.ESIGN_DISCLOSURE_VERSION,
        "language": language,
        "text": text,
        "sha256": hashlib.sha256(canonical_json(text)).hexdigest(),
        "agreed_at": agreed_at.isoformat(timespec="seconds"),
    }


def photo_consent(language: str, given: dict[str, bool]) -> dict:
    """Which photo consents were given, with the words of each as the patient read them."""
    return {
        **{kind: bool(given.get(kind)) for kind in consents.PHOTO_KINDS},
        "language": language,
        "text": consents.photo_texts(),
    }


def check(definition: Definition, submission: Submission, outcome: str, age: int) -> None:
    """Every rule of a valid record; raises the RecordRefused of the first one broken.

    In the order the journey meets them, so the patient is sent back to the earliest step.
    """
    hidden = hidden_answers(definition, submission.answers, age)
    if hidden:
        raise HiddenAnswer(f"answers to questions the patient was not asked: {hidden}")
    if submission.signature_method is None:
        if outcome != RecordOutcome.NOT_ELIGIBLE:
            raise UnsignedRecord("only a not-eligible screening leaves a record unsigned")
        return
    if submission.signature_method not in tuple(SignatureMethod):
        raise InvalidSignature(f"unknown signature method {submission.signature_method!r}")
    if age < ADULT_AGE and not submission.representative:
        raise RepresentativeRequired(
            "a patient under 18 is signed for by a parent, guardian or legal representative"
        )
    if definition.teach_back:
        right = {result["key"] for result in submission.teach_back or () if result["correct"]}
        if any(question.key not in right for question in definition.teach_back):
            raise UnderstandingNotChecked("every check-of-understanding question needs the "
                                          "right answer before signing")
    if not submission.photo_consent:
        raise ConsentMissing("photos", "a signed record needs the patient's photo choices")
    if not submission.esign_agreement:
        raise ConsentMissing("esign", "a signed record needs the e-sign agreement")
    if outcome == RecordOutcome.NOT_ELIGIBLE:
        raise NotEligible("a not-eligible screening cannot be signed")
    if not submission.signer_name:
        raise InvalidSignature("a signed record needs the signer's name")
    if (submission.signature_method == SignatureMethod.DRAWN) != (submission.signature is not None):
        raise InvalidSignature("a drawn signature needs its strokes, and only a drawn one has them")


def commit_record(definition: Definition, submission: Submission) -> ConsentRecord:
    """Check the submission, then write the record, its first event, its listing and its
    render job in one transaction, which also deletes the draft it came from.

    Idempotent per draft: a submission whose key is already a record's raises
    AlreadySubmitted with that record's id, also when two arrive at the same moment.
    """
    # The rules run a last time here, on the clinic's date, which the record keeps: this is
    # the outcome stored, and it can be worked out again from the record alone.
    screened_on = clinic_today()
    age = age_on(submission.patient_dob, screened_on)
    eligibility = evaluate(definition, submission.answers, age=age)
    check(definition, submission, eligibility.outcome, age)
    signed = submission.signature_method is not None
    already = _record_of_submission(submission.submission_key)
    if already is not None:  # a second tap, or the tablet retrying after a lost answer
        raise AlreadySubmitted(already)
    now = utcnow()
    record = ConsentRecord(
        submission_key=submission.submission_key,
        procedure_slug=definition.slug,
        procedure_title=definition.title,
        definition_version=definition.version,
        definition_sha256=submission.definition_sha256,
        language=submission.language,
        patient_name=submission.patient_name,
        patient_name_search=search_key(submission.patient_name),
        patient_dob=submission.patient_dob,
        patient_contact=submission.patient_contact,
        answers=submission.answers,
        outcome=eligibility.outcome,
        outcome_reasons=[reason.as_dict() for reason in eligibility.reasons],
        acknowledged_risks=list(submission.acknowledged_risks),
        accepted_statements=list(submission.accepted_statements),
        signer_name=submission.signer_name,
        signature=submission.signature.as_dict() if submission.signature else None,
        signature_method=submission.signature_method,
        representative=submission.representative,
        interpreter=submission.interpreter,
        witness=submission.witness,
        teach_back=submission.teach_back,
        esign_agreement=submission.esign_agreement if signed else None,
        photo_consent=submission.photo_consent if signed else None,
        signed_at=now if signed else None,
        completed_at=now,
        user_agent=submission.user_agent[:400],
        screened_on=screened_on,
        # The numbers the care pages gave the patient, kept for every later showing.
        clinic_contact=submission.clinic_contact
        if signed and submission.clinic_contact is not None and tells_patient_to_call(definition)
        else None,
    )
    try:
        # The INSERT comes first: a concurrent tap on the same draft waits here for the
        # first one's commit and then fails on the unique submission key, before it takes
        # the event chain's lock.
        db.session.add(record)
        db.session.flush()
        append_event(
            record.id,
            EventKind.SIGNED if signed else EventKind.SCREENED_OUT,
            Actor.PATIENT,
            # The record's content hash (records/content.py): from here on the row cannot
            # change without audit check, rendering and verify noticing.
            {"outcome": eligibility.outcome, "address": submission.address,
             **content_details(record)},
            at=now,
        )
        add_listing(record, **listing_columns(record, definition))
        db.session.add(RenderJob(record_id=record.id))
        # The draft the answers came from (its id is the submission key) goes in the same
        # transaction: once the record exists, no second copy of the answers waits on the
        # server, whatever becomes of this request.
        db.session.execute(
            delete(PatientDraft).where(PatientDraft.id == submission.submission_key)
        )
        db.session.commit()
    except IntegrityError:
        db.session.rollback()
        existing = _record_of_submission(submission.submission_key)
        if existing is None:
            raise
        raise AlreadySubmitted(existing) from None
    return record


def _record_of_submission(submission_key: str) -> str | None:
    return db.session.scalar(
        select(ConsentRecord.id).where(ConsentRecord.submission_key == submission_key)
    )


def recently_committed(submission_key: str, since: datetime) -> ConsentRecord | None:
    """The record committed from this submission (draft) at or after `since`, if any."""
    return db.session.scalar(
        select(ConsentRecord).where(
            ConsentRecord.submission_key == submission_key, ConsentRecord.completed_at >= since
        )
    )
