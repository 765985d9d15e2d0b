"""A treatment course: what one signed consent covers, and each later visit's check-in.

A definition with a `course` section (procedures/schema.py) lets one signed consent cover
up to `max_sessions` sessions within `within_months` of signing. The signing visit is
session 1; every later visit is a check-in on the same record: the patient confirms their
date of birth, answers the questions that can change, the definition's rules run again on
the record's answers with the fresh ones in their place, and the patient signs one statement.
The check-in is a `visit_checked_in` event on the record's chain, carrying every fact of the
visit and the record's content hash as it stood (so `audit check` ties the visit to the
record as signed); a render job makes the next PDF version, whose "Visits" section lists it.

A check-in whose outcome is "not eligible today" is kept (without a signature: there is
nothing to agree to) and uses no session; the consent goes on.

`standing()` says whether a consent covers a visit today and, when not, why, in words for
staff; the dashboard reads the same facts from the record's listing row (`due_for_renewal`).
"""

import calendar
import hashlib
from dataclasses import dataclass
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import and_, delete, or_, select

from ..clinic_time import clinic_today
from ..extensions import db
from ..models import (
    Actor,
    ConsentRecord,
    EventKind,
    PatientDraft,
    RecordEvent,
    RecordListing,
    RecordOutcome,
    RecordStatus,
    RenderJob,
    SignatureMethod,
)
from ..procedures import catalog
from ..procedures.eligibility import age_on, evaluate, hidden_answers, visible_answers
from ..procedures.loader import DefinitionError
from ..procedures.schema import Definition
from .content import CONTENT_VERSION, content_sha256
from .events import append_event, canonical_json, hold_chain_head
from .integrity import RecordChanged, ensure_intact
from .signature import Signature
from .status import status_after

# How many wrong dates of birth end a check-in.
IDENTITY_ATTEMPTS = 3


class CourseEnd(StrEnum):
    """Why a consent does not cover a visit today."""

    NOT_SIGNED = "not_signed"
    NO_COURSE = "no_course"
    WITHDRAWN = "withdrawn"
    DECLINED = "declined"
    AWAITING_REVIEW = "awaiting_review"
    MAJOR_VERSION = "major_version"
    PERIOD_OVER = "period_over"
    SESSIONS_USED = "sessions_used"

    @property
    def renewal(self) -> bool:
        """A new consent is what the patient needs (not a clinician's decision first)."""
        return self not in (CourseEnd.NOT_SIGNED, CourseEnd.AWAITING_REVIEW, CourseEnd.DECLINED)


def add_months(day: date, months: int) -> date:
    """The same day `months` later (31 January + 1 month: the last day of February)."""
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def course_start(record: ConsentRecord) -> date:
    """The clinic day the consent was signed (older records kept no clinic date)."""
    return record.screened_on or (record.signed_at or record.completed_at).date()


def last_covered_day(record: ConsentRecord, definition: Definition) -> date | None:
    if definition.course is None:
        return None
    return add_months(course_start(record), definition.course.within_months) - timedelta(days=1)


def visits_of(events) -> list[RecordEvent]:
    return [event for event in events if event.kind == EventKind.VISIT_CHECKED_IN]


def uses_session(visit: RecordEvent) -> bool:
    """A visit found not eligible today was not treated: it uses no session."""
    return visit.details.get("outcome") != RecordOutcome.NOT_ELIGIBLE


def sessions_used(events) -> int:
    """The signing visit, and every later visit that was not turned away."""
    return 1 + sum(1 for visit in visits_of(events) if uses_session(visit))


def current_major(slug: str) -> int | None:
    """The major version of the procedure's definition on offer now (None: none is)."""
    try:
        item = catalog.in_language(slug, "en")
    except DefinitionError:
        return None
    return item.definition.major_version if item else None


@dataclass(frozen=True)
class Standing:
    """Whether the consent covers a visit today, and the facts staff are shown."""

    ended: CourseEnd | None
    message: str  # for staff, in English; "" when it covers a visit
    sessions_used: int
    max_sessions: int | None
    last_day: date | None

    @property
    def covers(self) -> bool:
        return self.ended is None

    @property
    def needs_new_consent(self) -> bool:
        return self.ended is not None and self.ended.renewal

    @property
    def next_session(self) -> int:
        return self.sessions_used + 1


def standing(record: ConsentRecord, definition: Definition, events, *,
             today: date | None = None, major_now: int | None = None) -> Standing:
    """What the consent covers today. `events` are the record's events; `major_now` the
    major version on offer now (current_major)."""
    today = today or clinic_today()
    course = definition.course
    used = sessions_used(events)
    most = course.max_sessions if course else None
    last_day = last_covered_day(record, definition)

    def ended(reason: CourseEnd, message: str) -> Standing:
        return Standing(reason, message, used, most, last_day)

    if not record.is_signed:
        return ended(CourseEnd.NOT_SIGNED, "This record was never signed, so it covers no visit.")
    status = status_after(record.outcome, (event.kind for event in events))
    if status == RecordStatus.WITHDRAWN:
        return ended(CourseEnd.WITHDRAWN, "The patient withdrew this consent. They need a new "
                     "consent before any further treatment.")
    if course is None:
        return ended(CourseEnd.NO_COURSE, f"This consent was signed with version "
                     f"{record.definition_version} of the form, which covers one visit only. "
                     "The patient needs a new consent for this visit.")
    if status == RecordStatus.DECLINED:
        return ended(CourseEnd.DECLINED, "A clinician declined this patient for treatment, so "
                     "this consent covers no visit.")
    if status == RecordStatus.NEEDS_REVIEW:
        return ended(CourseEnd.AWAITING_REVIEW, "This consent is waiting for a clinician's "
                     "review. A clinician must approve it before a visit check-in.")
    signed_major = definition.major_version
    if major_now is not None and signed_major is not None and major_now > signed_major:
        return ended(CourseEnd.MAJOR_VERSION, f"The form changed since this consent was signed "
                     f"(version {record.definition_version} then, a new major version "
                     f"{major_now} now). The patient needs a new consent.")
    if today > last_day:
        return ended(CourseEnd.PERIOD_OVER, f"This consent covered visits until "
                     f"{last_day:%d %B %Y}. The patient needs a new consent.")
    if used >= course.max_sessions:
        return ended(CourseEnd.SESSIONS_USED, f"All {course.max_sessions} sessions this "
                     "consent covers have been used. The patient needs a new consent.")
    return Standing(None, "", used, most, last_day)


def standing_now(record: ConsentRecord) -> Standing:
    definition = catalog.definition_for(record.definition_sha256)
    return standing(record, definition, list(record.events),
                    major_now=current_major(record.procedure_slug))


# -- the dashboard ----------------------------------------------------------------------------


def listing_columns(record: ConsentRecord, definition: Definition) -> dict:
    """The course's columns of a new record's listing row."""
    course = definition.course if record.is_signed else None
    return {
        "course_max_sessions": course.max_sessions if course else None,
        "course_sessions_used": 1 if course else None,
        "course_ends_on": last_covered_day(record, definition) if course else None,
        "definition_major": definition.major_version,
    }


def due_for_renewal(today: date, majors: dict[str, int]):
    """The listing rows of courses that no longer cover a visit (a condition for a query):
    withdrawn, every session used, the period over, or the definition's major version
    raised since signing (`majors`: each procedure's major version on offer now)."""
    listing = RecordListing
    raised = [and_(listing.procedure_slug == slug, listing.definition_major < major)
              for slug, major in majors.items()]
    return and_(
        listing.course_max_sessions.is_not(None),
        listing.status.in_([RecordStatus.SIGNED, RecordStatus.WITHDRAWN]),
        or_(listing.status == RecordStatus.WITHDRAWN,
            listing.course_sessions_used >= listing.course_max_sessions,
            listing.course_ends_on < today,
            *raised),
    )


def in_force():
    """Listing rows of courses signed and neither declined nor waiting for review (with
    not due_for_renewal: those that cover a visit today)."""
    listing = RecordListing
    return and_(listing.course_max_sessions.is_not(None),
                listing.status == RecordStatus.SIGNED)


def listing_ended(listing: RecordListing, today: date, majors: dict[str, int]) -> CourseEnd | None:
    """What due_for_renewal says of one listing row, in Python (the dashboard's rows)."""
    if listing.course_max_sessions is None:
        return None
    if listing.status == RecordStatus.WITHDRAWN:
        return CourseEnd.WITHDRAWN
    if listing.status != RecordStatus.SIGNED:
        return None
    major = majors.get(listing.procedure_slug)
    if major is not None and listing.definition_major is not None \
            and listing.definition_major < major:
        return CourseEnd.MAJOR_VERSION
    if listing.course_ends_on is not None and listing.course_ends_on < today:
        return CourseEnd.PERIOD_OVER
    if (listing.course_sessions_used or 0) >= listing.course_max_sessions:
        return CourseEnd.SESSIONS_USED
    return None


def majors_on_offer() -> dict[str, int]:
    try:
        offered = catalog.offered("en")
    except DefinitionError:
        return {}
    return {item.definition.slug: item.definition.major_version for item in offered
            if item.definition.major_version is not None}


# -- a check-in -------------------------------------------------------------------------------


@dataclass(frozen=True)
class CheckIn:
    """What the tablet collected at a visit."""

    submission_key: str  # the check-in draft's random id: a second tap creates nothing
    answers: dict  # the fresh answers to the check-in's questions only
    language: str
    started_by: str  # the staff member who started it (email) and their role
    started_by_role: str
    signer_name: str | None = None
    signature_method: str | None = None
    signature: Signature | None = None
    statement_accepted: bool = False
    user_agent: str = ""
    address: str = ""


class CheckInRefused(ValueError):
    """The check-in cannot be recorded; the message says why, for staff."""


class AlreadyCheckedIn(Exception):
    def __init__(self, event_id: int):
        super().__init__(event_id)
        self.event_id = event_id


def combined_answers(record: ConsentRecord, definition: Definition, fresh: dict,
                     age: int) -> dict:
    """The record's answers with the check-in's in the place of the questions it asks again:
    what the rules run on at the visit."""
    derived = definition.check_in
    asked = {question.key for question in definition.check_in_questions()}
    kept = {key: value for key, value in record.answers.items() if key not in asked}
    return visible_answers(derived, {**kept, **fresh}, age)


def screen(record: ConsentRecord, definition: Definition, fresh: dict, day: date):
    """The visit's outcome (procedures.eligibility.Eligibility) on `day`."""
    age = age_on(record.patient_dob, day)
    return evaluate(definition.check_in, combined_answers(record, definition, fresh, age),
                    age=age)


def _check(record: ConsentRecord, definition: Definition, check_in: CheckIn, age: int,
           outcome: str) -> None:
    asked = {question.key for question in definition.check_in_questions()}
    strays = sorted(set(check_in.answers) - asked)
    if strays:
        raise CheckInRefused(f"answers to questions the check-in does not ask: {strays}")
    derived = definition.check_in
    kept = {key: value for key, value in record.answers.items() if key not in asked}
    hidden = [key for key in hidden_answers(derived, {**kept, **check_in.answers}, age)
              if key in asked]
    if hidden:
        raise CheckInRefused(f"answers to questions the patient was not asked: {hidden}")
    if outcome == RecordOutcome.NOT_ELIGIBLE:
        if check_in.signature_method is not None:
            raise CheckInRefused("a visit found not eligible today is not signed")
        return
    if not check_in.statement_accepted:
        raise CheckInRefused("the patient must confirm that nothing else has changed")
    if check_in.signature_method not in tuple(SignatureMethod) or not check_in.signer_name:
        raise CheckInRefused("a check-in needs the patient's signature")
    if (check_in.signature_method == SignatureMethod.DRAWN) != (check_in.signature is not None):
        raise CheckInRefused("a drawn signature needs its strokes, and only a drawn one has them")


def recent_visit(submission_key: str, since) -> RecordEvent | None:
    """The check-in committed from this draft at or after `since`, if any (the tablet's
    answer was lost: kiosk.signed_meanwhile)."""
    return db.session.scalar(
        select(RecordEvent).where(
            RecordEvent.kind == EventKind.VISIT_CHECKED_IN,
            RecordEvent.created_at >= since,
            RecordEvent.details["submission_key"].as_string() == submission_key,
        ).limit(1)
    )


def _already(record_id: str, key: str) -> int | None:
    for event in db.session.scalars(
        select(RecordEvent).where(RecordEvent.record_id == record_id,
                                  RecordEvent.kind == EventKind.VISIT_CHECKED_IN)
    ):
        if event.details.get("submission_key") == key:
            return event.id
    return None


def record_check_in(record: ConsentRecord, definition: Definition,
                    check_in: CheckIn) -> RecordEvent:
    """Check the visit and add its event, the listing's sessions and a render job in one
    transaction, which also deletes the check-in's draft. Refused (CheckInRefused) when the
    consent no longer covers a visit or the record no longer matches its chain."""
    try:
        ensure_intact(record)
    except RecordChanged as changed:
        raise CheckInRefused(f"the record no longer matches what was signed ({changed.reason})"
                             ) from None
    day = clinic_today()
    age = age_on(record.patient_dob, day)
    result = screen(record, definition, check_in.answers, day)
    _check(record, definition, check_in, age, result.outcome)
    record_id = record.id
    # Judged under the chain's lock: two tablets checking in at once count one session each.
    hold_chain_head()
    db.session.expire(record, ["events"])
    events = list(record.events)
    already = _already(record_id, check_in.submission_key)
    if already is not None:
        db.session.rollback()
        raise AlreadyCheckedIn(already)
    found = standing(record, definition, events, today=day,
                     major_now=current_major(record.procedure_slug))
    if not found.covers:
        db.session.rollback()
        raise CheckInRefused(found.message)
    signed = result.outcome != RecordOutcome.NOT_ELIGIBLE
    session = found.next_session
    statement = definition.course.statement
    details = {
        "session": session,
        "of": definition.course.max_sessions,
        "screened_on": day.isoformat(),
        "language": check_in.language,
        "definition_sha256": record.definition_sha256,
        "answers": check_in.answers,
        "outcome": str(result.outcome),
        "outcome_reasons": [reason.as_dict() for reason in result.reasons],
        "statement": statement if signed else None,
        "statement_sha256": hashlib.sha256(canonical_json(statement)).hexdigest()
        if signed else None,
        "signer_name": check_in.signer_name if signed else None,
        "signature_method": check_in.signature_method if signed else None,
        "signature": check_in.signature.as_dict() if signed and check_in.signature else None,
        "started_by": check_in.started_by,
        "started_by_role": check_in.started_by_role,
        "submission_key": check_in.submission_key,
        "user_agent": check_in.user_agent[:400],
        "address": check_in.address,
        # The record as it stood when the patient checked in: audit check holds every visit
        # to it (records/integrity.py), as it holds the record to its signed event.
        "record_content_sha256": content_sha256(record),
        "record_content_version": CONTENT_VERSION,
    }
    event = append_event(record_id, EventKind.VISIT_CHECKED_IN, Actor.PATIENT, details)
    listing = db.session.get(RecordListing, record_id)
    if listing is not None and signed:
        listing.course_sessions_used = session
    db.session.add(RenderJob(record_id=record_id))
    db.session.execute(delete(PatientDraft).where(PatientDraft.id == check_in.submission_key))
    db.session.commit()
    return event


def identity_not_confirmed(record_id: str, *, started_by: str, address: str,
                           user_agent: str) -> RecordEvent:
    """Three wrong dates of birth: the only thing kept is that it happened (no date typed)."""
    event = append_event(record_id, EventKind.VISIT_IDENTITY_NOT_CONFIRMED, Actor.PATIENT, {
        "attempts": IDENTITY_ATTEMPTS, "started_by": started_by, "address": address,
        "user_agent": user_agent[:400],
    })
    db.session.commit()
    return event

