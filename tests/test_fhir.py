"""FHIR R4 export: bundles that fhir.resources validates, carrying the record faithfully."""

import base64
import hashlib
import json

import pytest
from fhir.resources.R4B.bundle import Bundle
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import ConsentRecord
from consentapp.procedures.catalog import definition_for
from consentapp.records.events import append_event
from consentapp.records.fhir import build_bundle


def _bundle_for_only_record(app) -> dict:
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        bundle = build_bundle(record, definition_for(record.definition_sha256))
        text = bundle.model_dump_json()
    Bundle.model_validate_json(text)  # what we emit parses back as valid FHIR
    return json.loads(text)


def _resource(bundle: dict, kind: str) -> dict:
    (resource,) = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == kind]
    return resource


@pytest.mark.renders_pdfs
def test_a_signed_record_exports_an_active_treatment_consent_with_its_pdf(app, journey):
    journey.complete(name="Fhir Patient", dob="1966-03-14")
    bundle = _bundle_for_only_record(app)

    consent = _resource(bundle, "Consent")
    assert consent["status"] == "active"
    assert consent["scope"]["coding"][0]["code"] == "treatment"
    assert consent["category"][0]["coding"][0] == {
        "system": "http://loinc.org", "code": "59284-0", "display": "Patient Consent"
    }
    patient = _resource(bundle, "Patient")
    assert patient["name"][0]["text"] == "Fhir Patient"
    assert patient["birthDate"] == "1966-03-14"
    patient_url = next(e["fullUrl"] for e in bundle["entry"]
                       if e["resource"]["resourceType"] == "Patient")
    assert consent["patient"]["reference"] == patient_url

    attachment = consent["sourceAttachment"]
    pdf = base64.b64decode(attachment["data"])
    assert pdf.startswith(b"%PDF")
    assert attachment["hash"] == base64.b64encode(hashlib.sha1(pdf).digest()).decode()
    assert hashlib.sha256(pdf).hexdigest() in attachment["title"]


def test_the_questionnaire_response_uses_the_definitions_keys(app, journey):
    journey.complete("transplant", diabetes="not_sure")
    bundle = _bundle_for_only_record(app)
    response = _resource(bundle, "QuestionnaireResponse")
    questionnaire = _resource(bundle, "Questionnaire")
    assert response["status"] == "completed"
    assert response["questionnaire"] == f"{questionnaire['url']}|{questionnaire['version']}"

    answers = {item["linkId"]: item.get("answer") for group in response["item"]
               for item in group["item"]}
    assert answers["transplant"] == [{"valueBoolean": True}]
    assert [a["valueCoding"]["code"] for a in answers["isotretinoin_use"]] == ["no"]
    # "Not sure" is a coded answer of its own; a follow-up never asked has no item.
    assert answers["diabetes"][0]["valueCoding"]["code"] == "not_sure"
    assert answers["diabetes"][0]["valueCoding"]["display"] == "Not sure"
    assert "medicines_list" not in answers and answers["medicines"] == [{"valueBoolean": False}]
    assert [a["valueCoding"]["code"] for a in answers["concerns"]] == ["fine_lines", "scars"]
    assert answers["risk_bruising"] == [{"valueBoolean": True}]
    assert answers["goals"] == [{"valueString": "Smoother skin on my cheeks"}]

    asked = {item["linkId"] for group in questionnaire["item"] for item in group["item"]}
    assert set(answers) <= asked
    assert questionnaire["identifier"][0]["value"].startswith("urn:sha256:")

    # Each note for the clinician is a Flag on the patient, named by its rule.
    flags = [e["resource"] for e in bundle["entry"] if e["resource"]["resourceType"] == "Flag"]
    assert [(f["code"]["coding"][0]["code"], f["code"]["text"]) for f in flags] == [
        ("transplant", "Organ transplant recipient: likely immunosuppressed."),
        ("not_sure.diabetes", "Patient answered Not sure."),
    ]
    patient_url = next(e["fullUrl"] for e in bundle["entry"]
                       if e["resource"]["resourceType"] == "Patient")
    assert all(f["status"] == "active" and f["subject"]["reference"] == patient_url
               for f in flags)


def test_a_withdrawn_consent_exports_as_inactive(app, journey):
    journey.complete()
    with app.app_context():
        record_id = db.session.scalars(select(ConsentRecord.id)).one()
        append_event(record_id, "withdrawn", "clinician@example.org", {"reason": "changed mind"})
        db.session.commit()
    assert _resource(_bundle_for_only_record(app), "Consent")["status"] == "inactive"


def test_a_screened_out_record_exports_as_rejected(app, journey):
    journey.start()
    journey.about()
    journey.concerns()
    journey.screening("sunburn")
    assert _resource(_bundle_for_only_record(app), "Consent")["status"] == "rejected"


def test_the_export_command_writes_one_valid_bundle_per_record(app, runner, journey, tmp_path):
    journey.complete(name="One Person")
    journey.complete(name="Two Person")
    result = runner.invoke(args=["export", "fhir", "--out", str(tmp_path / "fhir")])
    assert result.exit_code == 0, result.output
    files = sorted((tmp_path / "fhir").glob("*.json"))
    assert len(files) == 2
    names = {_resource(json.loads(f.read_text()), "Patient")["name"][0]["text"] for f in files}
    assert names == {"One Person", "Two Person"}
    for path in files:
        Bundle.model_validate_json(path.read_text())


def test_photo_consents_are_nested_provisions_that_follow_a_withdrawal(app, journey):
    journey.to_signature()
    journey.get("/step/photos")
    journey.photos(clinical=True, marketing=True)
    journey.continue_("review")
    journey.sign()
    provisions = _resource(_bundle_for_only_record(app), "Consent")["provision"]["provision"]
    assert [(p["purpose"][0]["code"], p["type"]) for p in provisions] == [
        ("TREAT", "permit"), ("HMARKT", "permit")]
    with app.app_context():
        record_id = db.session.scalars(select(ConsentRecord.id)).one()
        append_event(record_id, "photo_consent_withdrawn", "clinician@example.org",
                     {"photo_consent": "marketing"})
        db.session.commit()
    provisions = _resource(_bundle_for_only_record(app), "Consent")["provision"]["provision"]
    assert [p["type"] for p in provisions] == ["permit", "deny"]
    assert provisions[1]["code"][0]["text"] == "Use of photos in marketing"
