"""The plain data a record's PDF is rendered from.

The PDF template never sees ORM objects: this module turns a stored record and the exact
definition it pinned into dicts, lists and strings, so rendering is deterministic and the
same record always gives the same text.
"""

from datetime import datetime
from zoneinfo import ZoneInfo

from ..models import ConsentRecord, Relationship, SignatureMethod
from ..procedures import Definition, InfoPage
from ..signature import from_dict

# In the record's own words, whatever language the tablet spoke: the PDF is the clinic's.
RELATIONSHIP_LABELS = {
    Relationship.PARENT: "Parent",
    Relationship.GUARDIAN: "Guardian",
    Relationship.LEGAL_REPRESENTATIVE: "Legal representative",
}
OUTCOME_LABELS = {
    "eligible": "Eligible",
    "needs_review": "Needs clinician review",
    "not_eligible": "Not eligible",
}


def _when(moment: datetime | None, tz_name: str) -> dict | None:
    if moment is None:
        return None
    utc = moment.replace(tzinfo=ZoneInfo("UTC"))
    local = utc.astimezone(ZoneInfo(tz_name))
    formatted = {"utc": utc.strftime("%Y-%m-%d %H:%M:%S UTC")}
    # The clinic's own time first; UTC beside it only when they differ.
    formatted["local"] = (
        formatted["utc"] if tz_name == "UTC" else local.strftime(f"%Y-%m-%d %H:%M {tz_name}")
    )
    return formatted


def _answer_text(question, value) -> str:
    if value in (None, "", []):
        return "(no answer)"
    if isinstance(value, list):
        return "; ".join(question.label_for(item) for item in value)
    if question.kind in ("single", "yesno"):
        return question.label_for(value)
    return str(value)


def answered_steps(definition: Definition, answers: dict) -> list[dict]:
    return [
        {
            "key": step.key,
            "title": step.title,
            "answers": [
                {
                    "key": question.key,
                    "question": question.label,
                    "answer": _answer_text(question, answers.get(question.key)),
                }
                for question in step.questions
            ],
        }
        for step in definition.question_steps
    ]


def _info(page: InfoPage) -> dict:
    return {
        "title": page.title,
        "intro": page.intro,
        "sections": [{"heading": s.heading, "points": list(s.points)} for s in page.sections],
    }


def build_document(
    record: ConsentRecord, definition: Definition, *, clinic_name: str, tz_name: str,
    sample: bool = False,
) -> dict:
    outcome_text = getattr(definition.outcomes, record.outcome)
    acknowledged = set(record.acknowledged_risks)
    accepted = set(record.accepted_statements)
    return {
        "sample": sample,
        "clinic_name": clinic_name,
        "record_id": record.id,
        "procedure": {
            "slug": record.procedure_slug,
            "title": record.procedure_title,
            "version": record.definition_version,
            "sha256": record.definition_sha256,
            "language": record.language,
        },
        "patient": {
            "name": record.patient_name,
            "dob": record.patient_dob.isoformat(),
            "contact": record.patient_contact or "",
        },
        "completed_at": _when(record.completed_at, tz_name),
        "signed_at": _when(record.signed_at, tz_name),
        "user_agent": record.user_agent,
        "outcome": {
            "code": record.outcome,
            "label": OUTCOME_LABELS[record.outcome],
            "title": outcome_text.title,
            "reasons": [reason["text"] for reason in record.outcome_reasons],
        },
        "steps": answered_steps(definition, record.answers),
        "signed": record.signed_at is not None,
        "what_to_expect": _info(definition.what_to_expect),
        "benefits": _info(definition.benefits),
        "alternatives": _info(definition.alternatives),
        "risks": {
            "title": definition.risks.title,
            "entries": [
                {
                    "name": risk.name,
                    "description": risk.description,
                    "acknowledged": risk.key in acknowledged,
                }
                for risk in definition.risks.items
            ],
        },
        "statements": [
            {"text": statement.text, "accepted": statement.key in accepted}
            for statement in definition.consent_statements
        ],
        "signature": _signature(record),
        "representative": _representative(record.representative),
        "interpreter": record.interpreter,
        "witness": record.witness,
        "teach_back": _teach_back(definition, record.teach_back),
    }


def _signature(record: ConsentRecord) -> dict | None:
    # Before signature_method existed every signature was drawn.
    method = record.signature_method or (SignatureMethod.DRAWN if record.signature else None)
    if method is None:
        return None
    signature = {"method": method, "signer_name": record.signer_name}
    if method == SignatureMethod.DRAWN:
        drawn = from_dict(record.signature)
        signature.update(width=drawn.width, height=drawn.height, path=drawn.svg_path())
    return signature


def _representative(representative: dict | None) -> dict | None:
    if not representative:
        return None
    relationship = representative["relationship"]
    return {
        "name": representative["name"],
        "relationship": RELATIONSHIP_LABELS.get(relationship, relationship),
    }


def _teach_back(definition: Definition, results: list[dict] | None) -> list[dict]:
    questions = {question.key: question for question in definition.teach_back}
    entries = []
    for result in results or []:
        question = questions[result["key"]]
        entries.append({
            "question": question.question,
            "answer": question.label_for(question.answer),
            "attempts": [
                {"answer": question.label_for(value), "correct": value == question.answer}
                for value in result["attempts"]
            ],
            "correct": result["correct"],
        })
    return entries
