"""Who signs a consent: the patient, or a parent, guardian or legal representative.

A patient under 18 on the day they sign never signs alone (records.commit.is_minor, in the
clinic's own time zone: a birthday starts at the clinic's midnight). An interpreter and a
witness are recorded by name when they took part.
"""

from datetime import date
from enum import StrEnum

from ..clinic_time import clinic_today
from ..records.commit import is_minor


class SignerChoice(StrEnum):
    """The signer step's first question: who signs."""

    SELF = "self"
    REPRESENTATIVE = "representative"


def patient_is_minor(date_of_birth: date) -> bool:
    return is_minor(date_of_birth, clinic_today())


def people_from_form(form) -> dict:
    """The draft's "signer" entry from a valid SignerForm: only what applies is kept."""
    representative = None
    if form.representative_signs:
        representative = {
            "name": form.representative_name.data,
            "relationship": form.representative_relationship.data,
        }
    interpreter = None
    if form.interpreter_name.data:
        interpreter = {
            "name": form.interpreter_name.data,
            "language": form.interpreter_language.data,
        }
    witness = {"name": form.witness_name.data} if form.witness_name.data else None
    return {"representative": representative, "interpreter": interpreter, "witness": witness}


def form_data(saved: dict, patient_is_minor: bool) -> dict:
    """What the signer step shows when opened again."""
    representative = saved.get("representative") or {}
    interpreter = saved.get("interpreter") or {}
    witness = saved.get("witness") or {}
    signer = None
    if saved:
        signer = SignerChoice.REPRESENTATIVE if representative else SignerChoice.SELF
    return {
        "signer": None if patient_is_minor else signer,
        "representative_name": representative.get("name"),
        "representative_relationship": representative.get("relationship"),
        "interpreter_name": interpreter.get("name"),
        "interpreter_language": interpreter.get("language"),
        "witness_name": witness.get("name"),
    }
