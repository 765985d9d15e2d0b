"""The staff pages' words for the app's vocabularies, one table each, keyed by the enums.

Staff pages are in English. The PDF has its own words (records/labels.py): it speaks to
whoever reads a record years later, in the record's language where it addresses the patient.
"""

from ..models import EventKind, RecordOutcome, RecordStatus, RuleEffect, StaffRole
from ..records.course import CourseEnd
from ..records.search import CourseFilter, Sort

STATUS_LABELS = {
    RecordStatus.SIGNED: "Signed",
    RecordStatus.NEEDS_REVIEW: "Needs review",
    RecordStatus.DECLINED: "Declined by clinician",
    RecordStatus.NOT_ELIGIBLE: "Not eligible",
    RecordStatus.WITHDRAWN: "Withdrawn",
}

OUTCOME_LABELS = {
    RecordOutcome.ELIGIBLE: "Eligible",
    RecordOutcome.NEEDS_REVIEW: "Needs clinician review",
    RecordOutcome.NOT_ELIGIBLE: "Not eligible",
}

# A screening rule that held, by its effect: the record page and the review queue.
EFFECT_LABELS = {
    RuleEffect.NOT_ELIGIBLE: "Not eligible",
    RuleEffect.NEEDS_REVIEW: "Needs review",
    RuleEffect.FLAG: "Flag (does not hold the patient)",
}

EVENT_LABELS = {
    EventKind.SIGNED: "Signed by the patient",
    EventKind.SCREENED_OUT: "Screened out: not eligible",
    EventKind.PDF_RENDERED: "PDF version stored",
    EventKind.PDF_RENDER_FAILED: "PDF rendering failed (retried)",
    EventKind.VIEWED: "Viewed",
    EventKind.DOWNLOADED: "PDF downloaded",
    EventKind.APPROVED: "Approved for treatment",
    EventKind.DECLINED: "Declined by clinician",
    EventKind.COUNTERSIGNED: "Countersigned by clinician",
    EventKind.WITHDRAWN: "Consent withdrawn",
    EventKind.PHOTO_CONSENT_WITHDRAWN: "Photo consent withdrawn",
    EventKind.PRINTED: "PDF opened for printing",
    EventKind.EXPORTED: "Exported (FHIR)",
    EventKind.PATIENT_COPY_DOWNLOADED: "Patient downloaded their copy",
    EventKind.PDF_RENDER_REFUSED: "PDF refused: record changed outside the app",
    EventKind.CONTENT_HASH_RECORDED: "Content hash recorded by a migration",
    EventKind.VISIT_CHECKED_IN: "Visit check-in signed by the patient",
    EventKind.VISIT_IDENTITY_NOT_CONFIRMED: "Check-in ended: date of birth did not match",
}

COURSE_FILTER_LABELS = {
    CourseFilter.DUE: "Due for a new consent",
    CourseFilter.IN_FORCE: "Covers a visit today",
}

# Why a consent no longer covers a visit, in a word (the record page says more).
COURSE_END_LABELS = {
    CourseEnd.NOT_SIGNED: "Never signed",
    CourseEnd.NO_COURSE: "One visit only",
    CourseEnd.WITHDRAWN: "Withdrawn",
    CourseEnd.DECLINED: "Declined",
    CourseEnd.AWAITING_REVIEW: "Waiting for review",
    CourseEnd.MAJOR_VERSION: "Form changed",
    CourseEnd.PERIOD_OVER: "Period over",
    CourseEnd.SESSIONS_USED: "Sessions used up",
}

SORT_LABELS = {
    Sort.NEWEST: "Newest first",
    Sort.OLDEST: "Oldest first",
    Sort.NAME: "Name A–Z",
    Sort.NAME_DESC: "Name Z–A",
    Sort.DOB: "Date of birth",
}

ROLE_LABELS = {
    StaffRole.ADMIN: "Administrator: staff accounts, settings, audit",
    StaffRole.CLINICIAN: "Clinician: review and countersign",
    StaffRole.FRONTDESK: "Front desk: start patients, view and download",
}
