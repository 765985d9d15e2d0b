"""The aftercare sheet staff print for a patient: one page, in the patient's language.

A handout, not a record: it is rendered from the definition the patient signed (so it says
what they were told) with the clinic's phone numbers as they are today (a number that changed
since is the one to call now), is never stored or sealed, and says at its foot that it is not
the consent form. Laid out on PDF_PAGE_SIZE like the records.
"""

from babel.dates import format_date
from flask import current_app
from flask_babel import force_locale

from .. import clinic_time
from ..models import ConsentRecord
from ..procedures import care
from ..procedures.schema import Definition
from .render import render_handout


class NoAftercare(LookupError):
    """The record has no aftercare to print: not signed, or its definition has none."""


def sheet_document(record: ConsentRecord, definition: Definition, *, clinic_name: str,
                   numbers: dict[str, str], page_size: str, tz_name: str) -> dict:
    care_shown = care.care_for(definition, numbers)
    if care_shown is None or not record.is_signed:
        raise NoAftercare(record.id)
    with force_locale(record.language):
        treated_on = clinic_time.local(record.signed_at, tz_name).date()
        return {
            "language": record.language,
            "page_size": page_size,
            "clinic_name": clinic_name,
            "procedure": definition.title,
            "patient_name": record.patient_name,
            "treated_on": format_date(treated_on, "long", locale=record.language),
            "aftercare": care_shown["aftercare"],
            "when_to_call": care_shown["when_to_call"],
        }


def sheet_for(record: ConsentRecord, definition: Definition) -> bytes:
    """The sheet of `record` as a PDF, with this app's clinic, numbers and paper."""
    config = current_app.config
    document = sheet_document(
        record, definition, clinic_name=config["CLINIC_NAME"],
        numbers=care.contact_from_config(config), page_size=config["PDF_PAGE_SIZE"],
        tz_name=config["CLINIC_TIMEZONE"],
    )
    return render_handout("pdf/aftercare.html", document)
