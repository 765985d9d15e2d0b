"""The PDF's words about a record, in one table per thing named.

English where the PDF shows them in English for staff (the audit trail, the staff
decisions); marked with N_ where the PDF shows them in the record's language (gettext under
force_locale, in records/document.py). Staff pages have their own words (staff/labels.py).
"""

from ..i18n import N_
from ..models import EventKind, Relationship

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
}

# The staff events a PDF version reports, with the heading each gets.
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

# The photo consents by their key in the record, in the clinic's words.
PHOTO_LABELS = {
    "clinical": "Clinical before-and-after photos",
    "marketing": "Use of photos in marketing",
}

# In the record's language on the PDF.
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

STAFF_NOTE = "Staff note: this consent was completed in {name} ({code})."
