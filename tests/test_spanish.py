"""The whole journey in Spanish: chosen on the welcome screen (or by the browser), kept for
the patient's turn, stored with the record, and the PDF in Spanish with an English note for
staff. Staff pages stay in English and show each record's language."""

import re

import pytest
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import ConsentRecord, DefinitionSnapshot

from .conftest import csrf_token
from .pdf import pdf_text

SPANISH = {"Accept-Language": "es-MX,es;q=0.9,en;q=0.5"}
STAFF_NOTE = "Staff note: this consent was completed in Spanish (es)."


def _lang(html: str) -> str:
    match = re.search(r'<html lang="([^"]+)"', html)
    assert match, "page has no <html lang>"
    return match.group(1)


def _only_record() -> ConsentRecord:
    return db.session.scalars(select(ConsentRecord)).one()


@pytest.mark.renders_pdfs
def test_a_patient_completes_the_journey_in_spanish(app, journey):
    page = journey.choose_language("es")
    assert _lang(page.text) == "es"
    assert "Le damos la bienvenida" in page.text
    assert 'aria-pressed="true">Español' in page.text

    page = journey.start()
    assert journey.path == "/step/about" and _lang(page.text) == "es"
    assert "Su nombre completo" in page.text and "Paso 1 de" in page.text
    assert "¿Sigue ahí?" in page.text  # the idle dialog

    page = journey.about(name="")  # a mistake: the message is in Spanish, on the same screen
    assert journey.path == "/step/about"
    assert "Por favor, escriba su nombre completo." in page.text
    assert "Por favor, revise lo siguiente" in page.text

    journey.about(name="María Ejemplo")
    page = journey.concerns()
    assert "¿Toma un anticoagulante, o aspirina todos los días?" in page.text
    assert ">Sí<" in page.text and ">No lo sé<" in page.text  # the answers in Spanish too
    page = journey.screening()
    assert "Gracias" in page.text and _lang(page.text) == "es"
    page = journey.continue_("outcome")
    assert 'aria-label="Leer en voz alta: Antes del tratamiento"' in page.text
    page = journey.continue_("expect")
    assert "Cómo le puede ayudar" in page.text
    page = journey.continue_("benefits")
    assert "Moretones" in page.text and "Leí y entiendo este riesgo" in page.text
    page = journey.risks(skip=("infection",))
    assert "Infección de la piel: por favor, marque la casilla" in page.text
    journey.risks()
    page = journey.continue_("alternatives")
    assert "Antes de cada visita" in page.text
    page = journey.continue_("before_visit")
    assert "Después del tratamiento" in page.text and "Cuándo llamarnos" in page.text
    page = journey.continue_("aftercare")
    assert "Compruebe lo que entendió" in page.text
    journey.understanding()
    journey.signer()
    page = journey.photos()
    assert "Revise sus respuestas" in page.text or _lang(page.text) == "es"
    page = journey.continue_("review")
    assert "Firmar en esta pantalla" in page.text  # the e-signature disclosure, in Spanish
    page = journey.esign()
    assert "Consentimiento y firma" in page.text
    page = journey.sign(name="María Ejemplo", signature="")
    assert "Por favor, firme con el dedo dentro del recuadro." in page.text
    page = journey.sign(name="María Ejemplo")

    assert journey.path == "/finished" and _lang(page.text) == "es"
    assert "Gracias. Ya terminó." in page.text
    assert "Por favor, devuelva la tableta a alguien del personal." in page.text
    # The turn is over: the next patient starts from the tablet's own language.
    assert _lang(journey.get("/").text) == "en"

    with app.app_context():
        record = _only_record()
        assert record.language == "es"
        assert record.procedure_slug == "microneedling"
        snapshot_language = db.session.get(DefinitionSnapshot, record.definition_sha256).language
        text = pdf_text(record.latest_pdf.content)
    assert snapshot_language == "es"  # the draft pinned the Spanish definition
    assert STAFF_NOTE in text
    assert text.index(STAFF_NOTE) < text.index("consentimiento informado")
    for word in ("moretones", "cicatrices", "infección"):
        assert word in text.lower(), word
    assert "Fecha de nacimiento 9 de abril de 1971" in text
    assert "Leí esta información sobre el microneedling" in text
    assert "De acuerdo:" in text and "Leído y entendido" in text
    assert "Página 1 de" in text and "Nacimiento 9 abr 1971" in text
    assert "Audit trail" in text  # the staff's and auditors' page stays in English


@pytest.mark.renders_pdfs
def test_an_english_record_has_no_staff_note(app, journey):
    journey.complete()
    with app.app_context():
        record = _only_record()
        assert record.language == "en"
        text = pdf_text(record.latest_pdf.content)
    assert "Staff note" not in text and "informed consent" in text


def test_a_browser_asking_for_spanish_gets_spanish(client):
    page = client.get("/", headers=SPANISH)
    assert _lang(page.text) == "es"
    assert "Antes de su tratamiento" in page.text
    english = client.get("/", headers={"Accept-Language": "en-US,en;q=0.8"})
    assert _lang(english.text) == "en" and "Before your treatment" in english.text
    assert _lang(client.get("/", headers={"Accept-Language": "fr-FR"}).text) == "en"


def test_the_buttons_override_the_browser(journey):
    journey.client.environ_base["HTTP_ACCEPT_LANGUAGE"] = SPANISH["Accept-Language"]
    page = journey.choose_language("en")
    assert _lang(page.text) == "en" and "Before your treatment" in page.text
    page = journey.start()
    assert "Your full name" in page.text


def test_a_journey_keeps_its_language_when_the_choice_changes_later(journey):
    journey.start(language="es")
    journey.about()
    # Back on the welcome screen someone presses "English"; the form already started stays
    # in Spanish, so no screen ever mixes the two languages.
    journey.choose_language("en")
    page = journey.get("/step/concerns")
    assert _lang(page.text) == "es"
    assert "Su piel y lo que desea" in page.text and "Continuar" in page.text


@pytest.mark.renders_pdfs
def test_a_screened_out_patient_is_told_in_spanish_and_the_pdf_says_so(app, journey):
    journey.start(language="es")
    journey.about()
    journey.concerns()
    page = journey.screening("sunburn")
    assert "El microneedling no es seguro para usted hoy" in page.text
    assert "La piel quemada por el sol debe sanar" in page.text
    with app.app_context():
        record = _only_record()
        assert record.language == "es" and record.outcome == "not_eligible"
        text = pdf_text(record.latest_pdf.content)
    assert "No se tomó el consentimiento" in text and STAFF_NOTE in text
    assert "No puede recibir el tratamiento hoy" in text


@pytest.mark.parametrize("posted", [{"language": "fr"}, {"language": ""}, {}])
def test_only_a_supported_language_can_be_chosen(journey, posted):
    journey.get("/")
    response = journey.post("/language", posted)
    assert response.status_code == 400


def test_the_language_choice_needs_the_csrf_token(client):
    assert client.post("/language", data={"language": "es"}).status_code == 400
    assert _lang(client.get("/").text) == "en"


def test_error_pages_follow_the_patients_language(journey):
    journey.choose_language("es")
    page = journey.client.get("/no-such-page")
    assert page.status_code == 404
    assert "No encontramos la página" in page.text and _lang(page.text) == "es"


def test_staff_pages_stay_english_and_show_the_records_language(app, journey, staff):
    journey.complete(name="María Ejemplo", language="es")
    journey.complete(name="Maria Example")
    clinician = staff("clinician")
    clinician.environ_base["HTTP_ACCEPT_LANGUAGE"] = SPANISH["Accept-Language"]
    dashboard = clinician.get("/staff/")
    assert _lang(dashboard.text) == "en"
    assert "Consent records" in dashboard.text
    rows = re.findall(r"<tr>(.*?)</tr>", dashboard.text, re.S)
    spanish_row = next(row for row in rows if "María Ejemplo" in row)
    english_row = next(row for row in rows if "Maria Example" in row)
    assert "<td>Spanish (Español)</td>" in spanish_row
    assert "<td>English</td>" in english_row
    # The procedure filter names each procedure once, in English.
    assert dashboard.text.count('<option value="microneedling"') == 1

    with app.app_context():
        record_id = db.session.scalars(
            select(ConsentRecord.id).where(ConsentRecord.language == "es")
        ).one()
    page = clinician.get(f"/staff/records/{record_id}")
    assert "completed in Spanish (Español)" in page.text and _lang(page.text) == "en"


def test_front_desk_hands_over_in_spanish(staff):
    tablet = staff("frontdesk")
    page = tablet.get("/staff/")
    assert "The patient&#39;s language" in page.text or "The patient's language" in page.text
    response = tablet.post("/staff/hand-over", data={
        "procedure": "microneedling", "language": "es", "csrf_token": csrf_token(page.text)})
    assert response.headers["Location"] == "/step/about"
    about = tablet.get("/step/about")
    assert _lang(about.text) == "es" and "Su nombre completo" in about.text
