"""The care the patient takes home: a definition's "before each visit", "after your
treatment" and "when to call us", with the clinic's phone numbers filled in.

The numbers are the CLINIC_PHONE and CLINIC_AFTER_HOURS_PHONE settings. What a patient was
told when they signed is stored with the record (ConsentRecord.clinic_contact) and every later
showing of that record (the finish screen, the phone's copy page, the PDF) uses the stored
numbers; only the tablet's care page before signing, and the aftercare sheet staff print
today, read the settings.
"""

from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l

from .schema import PLACEHOLDERS, Definition, InfoPage, WhenToCall

# Shown instead of the daytime line when the clinic set no number.
ASK_FOR_THE_NUMBER = _l("Ask the staff for the clinic's phone number before you leave.")
# Filled into the placeholders where a text is measured or previewed without a clinic.
SAMPLE_PHONE = "555-0100"
_EXTENSION = re.compile(r"\s*(?:ext\.?|x)\s*(\d+)\s*$", re.I)


def contact(clinic_phone: str | None, after_hours_phone: str | None) -> dict[str, str]:
    """The numbers as the record stores them ("" where none is set)."""
    return {"clinic_phone": clinic_phone or "", "after_hours_phone": after_hours_phone or ""}


def contact_from_config(config) -> dict[str, str]:
    return contact(config.get("CLINIC_PHONE"), config.get("CLINIC_AFTER_HOURS_PHONE"))


def tel_href(number: str) -> str:
    """A tel: link a phone can dial: "+1 (555) 010-0100 ext. 12" -> tel:+15550100100;ext=12."""
    extension = _EXTENSION.search(number)
    main = number[: extension.start()] if extension else number
    digits = ("+" if main.strip().startswith("+") else "") + re.sub(r"\D", "", main)
    return f"tel:{digits}" + (f";ext={extension.group(1)}" if extension else "")


def call_lines(when_to_call: WhenToCall, numbers: dict[str, str]) -> list[dict]:
    """The lines that tell the patient whom to call: [{"text", "number", "tel"}], the
    daytime line first. Without a daytime number the patient is told to ask the staff; a
    missing after-hours number leaves its line out."""
    lines = []
    clinic_phone = numbers.get("clinic_phone") or ""
    if clinic_phone:
        lines.append(_line(when_to_call.call, PLACEHOLDERS["call"], clinic_phone))
    else:
        lines.append({"text": str(ASK_FOR_THE_NUMBER), "number": "", "tel": ""})
    after_hours = numbers.get("after_hours_phone") or ""
    if when_to_call.call_after_hours and after_hours:
        lines.append(_line(when_to_call.call_after_hours, PLACEHOLDERS["call_after_hours"],
                           after_hours))
    return lines


def _line(text: str, placeholder: str, number: str) -> dict:
    before, _, after = text.partition(placeholder)
    return {"text": f"{before}{number}{after}", "before": before, "after": after,
            "number": number, "tel": tel_href(number)}


def _page(page: InfoPage | None) -> dict | None:
    if page is None:
        return None
    return {
        "title": page.title,
        "intro": page.intro,
        "sections": [{"heading": s.heading, "points": list(s.points)} for s in page.sections],
    }


def care_for(definition: Definition, numbers: dict[str, str] | None) -> dict | None:
    """The three care sections as plain data for a page or a PDF, in the definition's
    language; None for a definition that has none (format 1)."""
    call = definition.when_to_call
    if definition.aftercare is None or call is None:
        return None
    return {
        "before_your_visit": _page(definition.before_your_visit),
        "aftercare": _page(definition.aftercare),
        "when_to_call": {
            "title": call.title,
            "intro": call.intro,
            "points": list(call.points),
            "lines": call_lines(call, numbers or contact(None, None)),
            "emergency": call.emergency,
        },
    }


def tells_patient_to_call(definition: Definition) -> bool:
    return definition.when_to_call is not None
