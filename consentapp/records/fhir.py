"""FHIR export: each record as a Bundle of Patient, Consent, QuestionnaireResponse, the
Questionnaire built from the exact definition the patient saw, and one Flag per note the
screening left for the clinician (flags, and the notes of review and not-eligible rules).

Resources are built with fhir.resources' R4B models (R4B keeps R4's Consent, Questionnaire
and QuestionnaireResponse unchanged), so whatever we emit has passed its validation.
"""

import base64
import hashlib
import uuid
from datetime import date

from fhir.resources.R4B.bundle import Bundle
from fhir.resources.R4B.consent import Consent
from fhir.resources.R4B.flag import Flag
from fhir.resources.R4B.patient import Patient
from fhir.resources.R4B.questionnaire import Questionnaire
from fhir.resources.R4B.questionnaireresponse import QuestionnaireResponse

from ..models import ConsentRecord, EventKind, PhotoKind
from ..procedures.eligibility import age_on, shown_questions, stored_reasons
from ..procedures.schema import Definition, Question
from .decisions import photo_consent_in_force
from .labels import EFFECT_MEANINGS, PHOTO_LABELS

LOINC_PATIENT_CONSENT = {"system": "http://loinc.org", "code": "59284-0",
                         "display": "Patient Consent"}
CONSENT_SCOPE_TREATMENT = {
    "system": "http://terminology.hl7.org/CodeSystem/consentscope", "code": "treatment",
    "display": "Treatment",
}
# A consent taken with a wet-or-drawn signature under the clinic's own policy.
POLICY_RULE = {"system": "http://terminology.hl7.org/CodeSystem/consentpolicycodes",
               "code": "cric", "display": "Common Rule Informed Consent"}
ID_SYSTEM = "urn:consent-kiosk:record"
WITHDRAWN_KINDS = {EventKind.WITHDRAWN}
ACT_REASON = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
# Why each photo consent lets photos be used: for treatment, or for the clinic's marketing.
PHOTO_PURPOSES = {
    PhotoKind.CLINICAL: {"system": ACT_REASON, "code": "TREAT", "display": "treatment"},
    PhotoKind.MARKETING: {"system": ACT_REASON, "code": "HMARKT",
                          "display": "healthcare marketing"},
}

_ITEM_TYPES = {"single": "choice", "multi": "choice", "yesno": "boolean",
               "yesno_unsure": "choice", "text": "string", "textarea": "text"}
FLAG_CATEGORY = {"system": "http://terminology.hl7.org/CodeSystem/flag-category",
                 "code": "clinical", "display": "Clinical"}


def _urn(seed: str) -> str:
    return f"urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, seed)}"


def _code_system(definition: Definition, question: Question) -> str:
    return f"urn:consent-kiosk:{definition.slug}:{question.key}"


def questionnaire_url(definition: Definition) -> str:
    return f"urn:consent-kiosk:questionnaire:{definition.slug}"


def build_questionnaire(definition: Definition, sha256: str) -> Questionnaire:
    items = []
    for step in definition.question_steps:
        group = {"linkId": step.key, "text": step.title, "type": "group", "item": []}
        for question in step.questions:
            item = {
                "linkId": question.key,
                "text": question.label,
                "type": _ITEM_TYPES[question.kind],
                "required": question.required,
            }
            if question.kind in ("single", "multi", "yesno_unsure"):
                item["repeats"] = question.kind == "multi"
                item["answerOption"] = [
                    {"valueCoding": {"system": _code_system(definition, question),
                                     "code": value, "display": label}}
                    for value, label in question.choices
                ]
            group["item"].append(item)
        items.append(group)
    items.append({
        "linkId": "risks", "text": definition.risks.title, "type": "group",
        "item": [{"linkId": f"risk_{risk.key}", "text": risk.name, "type": "boolean",
                  "required": True} for risk in definition.risks.items],
    })
    items.append({
        "linkId": "consent", "text": "Consent statements", "type": "group",
        "item": [{"linkId": f"statement_{s.key}", "text": s.text, "type": "boolean",
                  "required": True} for s in definition.consent_statements],
    })
    return Questionnaire(
        id=sha256[:32],
        url=questionnaire_url(definition),
        version=definition.version,
        name=definition.slug.replace("-", "_"),
        title=definition.title,
        status="active",
        language=definition.language,
        identifier=[{"system": "urn:ietf:rfc:3986", "value": f"urn:sha256:{sha256}"}],
        item=items,
    )


def _answers(question: Question, value, definition: Definition) -> list[dict]:
    if value in (None, "", []):
        return []
    if question.kind == "yesno":
        return [{"valueBoolean": value == "yes"}]
    if question.kind in ("single", "multi", "yesno_unsure"):
        values = value if isinstance(value, list) else [value]
        return [
            {"valueCoding": {"system": _code_system(definition, question), "code": item,
                             "display": question.label_for(item)}}
            for item in values
        ]
    return [{"valueString": str(value)}]


def _age(record: ConsentRecord) -> int | None:
    return age_on(record.patient_dob, record.screened_on) if record.screened_on else None


def build_response(record: ConsentRecord, definition: Definition, patient_ref: str):
    groups = []
    # A follow-up the patient was never asked has no item.
    shown = shown_questions(definition, record.answers, _age(record))
    for step in definition.question_steps:
        children = []
        for question in step.questions:
            if question.key not in shown:
                continue
            answers = _answers(question, record.answers.get(question.key), definition)
            child = {"linkId": question.key, "text": question.label}
            if answers:
                child["answer"] = answers
            children.append(child)
        groups.append({"linkId": step.key, "text": step.title, "item": children})
    if record.is_signed:
        acknowledged, accepted = set(record.acknowledged_risks), set(record.accepted_statements)
        groups.append({"linkId": "risks", "text": definition.risks.title, "item": [
            {"linkId": f"risk_{risk.key}", "text": risk.name,
             "answer": [{"valueBoolean": risk.key in acknowledged}]}
            for risk in definition.risks.items
        ]})
        groups.append({"linkId": "consent", "text": "Consent statements", "item": [
            {"linkId": f"statement_{s.key}", "text": s.text,
             "answer": [{"valueBoolean": s.key in accepted}]}
            for s in definition.consent_statements
        ]})
    return QuestionnaireResponse(
        id=record.id,
        questionnaire=f"{questionnaire_url(definition)}|{definition.version}",
        status="completed",
        subject={"reference": patient_ref},
        authored=_instant(record.completed_at),
        item=groups,
    )


def build_visit_responses(record: ConsentRecord, definition: Definition,
                          patient_ref: str) -> list[QuestionnaireResponse]:
    """One QuestionnaireResponse per visit's check-in (records/course.py): the questions it
    asked with the answers given that day, and the statement signed."""
    if definition.course is None:
        return []
    derived = definition.check_in
    asked = definition.check_in_questions()
    keys = {question.key for question in asked}
    responses = []
    for event in record.events:
        if event.kind != EventKind.VISIT_CHECKED_IN:
            continue
        details = event.details
        fresh = details.get("answers") or {}
        kept = {k: v for k, v in record.answers.items() if k not in keys}
        age = age_on(record.patient_dob, date.fromisoformat(details["screened_on"]))
        shown = shown_questions(derived, {**kept, **fresh}, age)
        items = []
        for question in asked:
            if question.key not in shown:
                continue
            child = {"linkId": question.key, "text": question.label}
            answers = _answers(question, fresh.get(question.key), derived)
            if answers:
                child["answer"] = answers
            items.append(child)
        groups = [{"linkId": "check_in", "text": definition.course.title, "item": items}]
        if details.get("statement"):
            groups.append({"linkId": "visit_statement", "text": details["statement"],
                           "answer": [{"valueBoolean": True}]})
        responses.append(QuestionnaireResponse(
            id=f"{record.id}-visit-{event.id}",
            identifier={"system": ID_SYSTEM, "value": f"{record.id}/visit/{event.id}"},
            questionnaire=f"{questionnaire_url(definition)}-check-in|{definition.version}",
            status="completed",
            subject={"reference": patient_ref},
            authored=_instant(event.created_at),
            item=groups,
        ))
    return responses


def _instant(moment) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def build_bundle(record: ConsentRecord, definition: Definition) -> Bundle:
    patient_ref = _urn(f"patient:{record.id}")
    response_ref = _urn(f"response:{record.id}")
    questionnaire = build_questionnaire(definition, record.definition_sha256)
    patient = Patient(
        identifier=[{"system": ID_SYSTEM, "value": record.id}],
        name=[{"text": record.patient_name}],
        birthDate=record.patient_dob.isoformat(),
        telecom=[{"system": "email" if "@" in record.patient_contact else "phone",
                  "value": record.patient_contact}] if record.patient_contact else None,
    )
    withdrawn = any(event.kind in WITHDRAWN_KINDS for event in record.events)
    consent = Consent(
        identifier=[{"system": ID_SYSTEM, "value": record.id}],
        # active: signed; inactive: signed, then withdrawn; rejected: screening ended it.
        status="rejected" if not record.is_signed else "inactive" if withdrawn else "active",
        scope={"coding": [CONSENT_SCOPE_TREATMENT]},
        category=[{"coding": [LOINC_PATIENT_CONSENT]}],
        patient={"reference": patient_ref},
        dateTime=_instant(record.signed_at or record.completed_at),
        policyRule={"coding": [POLICY_RULE]},
        sourceAttachment=_pdf_attachment(record),
        provision=_provision(record),
    )
    if consent.sourceAttachment is None:
        consent.sourceReference = {"reference": response_ref}
    entries = [
        {"fullUrl": patient_ref, "resource": patient},
        {"fullUrl": _urn(f"consent:{record.id}"), "resource": consent},
        {"fullUrl": response_ref, "resource": build_response(record, definition, patient_ref)},
        {"fullUrl": _urn(f"questionnaire:{record.definition_sha256}"), "resource": questionnaire},
        *({"fullUrl": _urn(f"flag:{record.id}:{flag.code.coding[0].code}"), "resource": flag}
          for flag in build_flags(record, definition, patient_ref)),
        *({"fullUrl": _urn(f"visit:{response.id}"), "resource": response}
          for response in build_visit_responses(record, definition, patient_ref)),
    ]
    return Bundle(
        type="collection",
        identifier={"system": ID_SYSTEM, "value": record.id},
        timestamp=_instant(record.completed_at),
        entry=entries,
    )


def build_flags(record: ConsentRecord, definition: Definition, patient_ref: str) -> list[Flag]:
    """One active Flag per note for the clinician: its text the note (staff words), its code
    the rule that left it, its period the visit."""
    flags = []
    for reason in stored_reasons(record.outcome_reasons):
        if not reason.note:
            continue
        flags.append(Flag(
            identifier=[{"system": f"{ID_SYSTEM}:flag", "value": f"{record.id}:{reason.rule}"}],
            status="active",
            category=[{"coding": [FLAG_CATEGORY]}],
            code={
                "coding": [{"system": f"urn:consent-kiosk:{definition.slug}:rules",
                            "code": reason.rule, "display": EFFECT_MEANINGS[reason.effect]}],
                "text": reason.note,
            },
            subject={"reference": patient_ref},
            period={"start": _instant(record.completed_at)},
        ))
    return flags


def _provision(record: ConsentRecord) -> dict:
    """Permit (signed) or deny (screened out); within it, one nested provision per photo
    consent: permit while it is in force, deny when it was refused or withdrawn."""
    provision = {"type": "permit" if record.is_signed else "deny"}
    if record.is_signed and record.photo_consent:
        provision["provision"] = [
            {
                "type": "permit" if photo_consent_in_force(record, kind) else "deny",
                "code": [{"text": label}],
                "purpose": [PHOTO_PURPOSES[kind]],
            }
            for kind, label in PHOTO_LABELS.items()
        ]
    return provision


def _pdf_attachment(record: ConsentRecord) -> dict | None:
    pdf = record.latest_pdf
    if pdf is None:
        return None
    return {
        "contentType": "application/pdf",
        "data": base64.b64encode(pdf.content).decode("ascii"),
        # FHIR's Attachment.hash is the base64 of the SHA-1; our own SHA-256 is in the title.
        "hash": base64.b64encode(hashlib.sha1(pdf.content).digest()).decode("ascii"),
        "size": len(pdf.content),
        "title": f"Signed consent, PDF version {pdf.version}, SHA-256 {pdf.sha256}",
        "creation": _instant(pdf.created_at),
    }
