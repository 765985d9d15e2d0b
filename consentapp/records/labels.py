"""The PDF's words about a record, one table per vocabulary, keyed by the enums.

Two audiences read a PDF. Staff, years later, read its audit trail and decisions in English
(the first tables). The patient reads the rest in their own language: those words are
translated (lazy_gettext; str() under the record's force_locale gives its language), and the
patient's pages use the same table, so the tablet and the PDF say the same thing. Staff pages
have their own words (staff/labels.py). tests/test_structure.py checks every member of each
enum has its label in each table.
"""

from flask_babel import lazy_gettext as _l

from ..models import EventKind, PhotoKind, RecordOutcome, Relationship, RuleEffect

# What each kind of event means, in words for whoever reads the audit trail years later.
EVENT_MEANINGS = {
    EventKind.SIGNED: "Consent given",
    EventKind.SCREENED_OUT: "Screening completed: not eligible, no consent taken",
    EventKind.APPROVED: "Approved for treatment",
    EventKind.DECLINED: "Declined for treatment",
    EventKind.COUNTERSIGNED: "Countersigned",
    EventKind.WITHDRAWN: "Consent withdrawn",
    EventKind.VIEWED: "Record viewed",
    EventKind.DOWNLOADED: "PDF downloaded",
    EventKind.PDF_RENDERED: "PDF rendered and sealed",
    EventKind.PDF_RENDER_FAILED: "PDF rendering failed (retried)",
    EventKind.PHOTO_CONSENT_WITHDRAWN: "Photo consent withdrawn",
    EventKind.PRINTED: "PDF opened for printing",
    EventKind.EXPORTED: "Record exported",
    EventKind.PATIENT_COPY_DOWNLOADED: "Patient downloaded their copy",
    EventKind.PDF_RENDER_REFUSED: "PDF refused: the stored record no longer matched its hash",
    EventKind.CONTENT_HASH_RECORDED: "Content hash recorded (a record kept before hashes were)",
    EventKind.VISIT_CHECKED_IN: "Visit check-in: answers confirmed and signed",
    EventKind.VISIT_IDENTITY_NOT_CONFIRMED: "Visit check-in ended: the date of birth did not match",
}

# The staff decisions a PDF version reports, with the heading each gets.
STAFF_EVENT_TITLES = {
    EventKind.APPROVED: "Approved for treatment by a clinician",
    EventKind.DECLINED: "Declined by a clinician: do not treat",
    EventKind.COUNTERSIGNED: "Countersigned by a clinician",
    EventKind.WITHDRAWN: "Consent withdrawn",
    EventKind.PHOTO_CONSENT_WITHDRAWN: "Photo consent withdrawn",
}

# The audit trail's "who" and "device" for the events no staff member made.
PATIENT_PERSON = "{name} (patient)"
SYSTEM_PERSON = "Consent kiosk (automatic)"
SYSTEM_DEVICE = "The clinic's consent server"

# The photo consents, in the clinic's words (the patient's own words are in the record).
PHOTO_LABELS = {
    PhotoKind.CLINICAL: "Clinical before-and-after photos",
    PhotoKind.MARKETING: "Use of photos in marketing",
}

STAFF_NOTE = "Staff note: this consent was completed in {name} ({code})."

# What each screening rule's effect means, beside its note in the PDF's "For the clinician"
# box (English, like everything only staff read).
EFFECT_MEANINGS = {
    RuleEffect.NOT_ELIGIBLE: "not eligible",
    RuleEffect.NEEDS_REVIEW: "needs clinician review",
    RuleEffect.FLAG: "flag: does not hold the patient",
}

# In the patient's language: the tablet and the PDF.
RELATIONSHIP_LABELS = {
    Relationship.PARENT: _l("Parent"),
    Relationship.GUARDIAN: _l("Guardian"),
    Relationship.LEGAL_REPRESENTATIVE: _l("Legal representative"),
}
OUTCOME_LABELS = {
    RecordOutcome.ELIGIBLE: _l("Eligible"),
    RecordOutcome.NEEDS_REVIEW: _l("Needs clinician review"),
    RecordOutcome.NOT_ELIGIBLE: _l("Not eligible"),
}
