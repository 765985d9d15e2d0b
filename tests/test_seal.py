"""The sealed PDF: PDF/A-3b, embedded data, audit trail page, the clinic's seal, and `verify`."""

import hashlib
import json
import logging
import random
import re
import threading
import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from zoneinfo import ZoneInfo

import pypdfium2 as pdfium
import pytest
import zxingcpp
from asn1crypto import keys as asn1_keys
from asn1crypto import tsp
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.fields import MDPPerm
from pyhanko.sign.timestamps import DummyTimeStamper
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader
from sqlalchemy import func, select

from consentapp import create_app
from consentapp.extensions import db
from consentapp.models import ConsentRecord, RecordEvent, RecordPdf, VerificationCode
from consentapp.paths import DEFAULT_FORMS_DIR as FORMS_DIR
from consentapp.procedures.loader import load_file
from consentapp.records.attachment import ATTACHMENT_NAME
from consentapp.records.clinic_key import SealKeyError, clinic_key
from consentapp.records.document import rebuild_document
from consentapp.records.events import events_of
from consentapp.records.jobs import render_and_store
from consentapp.records.render import render_pdf
from consentapp.records.seal import KEY_USAGE, seal_for_app
from consentapp.records.verification import derive_code
from consentapp.records.verify import Verdict, verify, verify_all

from .conftest import _test_config, csrf_token
from .pdf import page_texts

# These tests read the PDFs that signing renders.
pytestmark = pytest.mark.renders_pdfs

PDFAID = "http://www.aiim.org/pdfa/ns/id/"
RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"


@pytest.fixture
def app_config(app_config):
    # A zone away from UTC, so the audit trail's two times differ and both can be checked.
    return dict(
        app_config, CLINIC_TIMEZONE="America/New_York",
        PUBLIC_BASE_URL="https://consent.riverside.example",
        # An https:// address turns on HTTPS (Secure cookies, https links, which the test
        # client would follow); these tests speak plain HTTP.
        SESSION_COOKIE_SECURE=False, PREFERRED_URL_SCHEME="http",
    )


def _pyhanko_validate(*args, **kwargs):
    """pyHanko's blocking validation, on a thread of its own: it calls asyncio.run(), which
    refuses to start in a thread that already runs an event loop (Playwright's, once the
    browser tests have run in this session)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(validate_pdf_signature, *args, **kwargs).result()


def _stored(app) -> tuple[str, bytes]:
    with app.app_context():
        pdf = db.session.scalars(select(RecordPdf).order_by(RecordPdf.id.desc())).first()
        return pdf.record_id, pdf.content


def _text(content: bytes) -> list[str]:
    return page_texts(content, folded=False)


@pytest.fixture
def sealed(app, journey, built_once) -> tuple[str, bytes]:
    """A signed record's stored PDF, as the tablet flow leaves it."""

    def sign_and_seal():
        journey.complete()
        return _stored(app)

    return built_once(sign_and_seal)


@pytest.fixture
def verify_file(runner, tmp_path):
    def run(content: bytes, name: str = "file.pdf"):
        path = tmp_path / name
        path.write_bytes(content)
        return runner.invoke(args=["verify", str(path)])

    return run


# -- the seal ---------------------------------------------------------------------------------


def test_pyhanko_validates_the_seal_as_intact_valid_and_certifying(app, sealed):
    _, content = sealed
    with app.app_context():
        trust_root = clinic_key(app).certificate
    signatures = PdfFileReader(BytesIO(content)).embedded_signatures
    assert len(signatures) == 1
    status = _pyhanko_validate(
        signatures[0],
        ValidationContext(trust_roots=[trust_root], allow_fetching=False),
        key_usage_settings=KEY_USAGE,
    )
    assert status.intact and status.valid and status.trusted
    assert status.bottom_line
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    # A certification signature that allows no change at all, in the PAdES format.
    assert signatures[0].docmdp_level == MDPPerm.NO_CHANGES
    assert signatures[0].sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert status.timestamp_validity is None  # no TSA configured: PAdES B-B
    assert "Riverside Skin Clinic document seal" in status.signing_cert.subject.human_friendly



def _signature_space(content: bytes) -> int:
    """The bytes the seal set aside for its signature: the one gap in its /ByteRange."""
    byte_range = PdfFileReader(BytesIO(content)).embedded_signatures[0].byte_range
    return byte_range[2] - byte_range[1]


def test_later_seals_reuse_the_space_the_first_one_reserved_and_stay_valid(app, sealed):
    record_id, first = sealed
    with app.app_context():
        record = db.session.get(ConsentRecord, record_id)
        second = seal_for_app(app, render_pdf(rebuild_document(record, 1)))
        signer = clinic_key(app).signer
        assert verify(app, first).verdict == Verdict.VALID
        assert verify(app, second).verdict == Verdict.NOT_STORED  # valid, not stored
        assert "the seal is intact and this clinic's" in verify(app, second).message
    assert _signature_space(second) == _signature_space(first)
    assert signer.untimestamped_reservation == _signature_space(first) - 2  # minus < and >


def test_every_font_is_embedded_with_its_text_mapping(sealed):
    _, content = sealed
    reader = PdfReader(BytesIO(content))
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            # A subset of the packaged font, its program in the file, and a ToUnicode map so
            # the text can be selected and searched.
            fonts[font["/BaseFont"].split("+", 1)[1]] = (
                "/FontFile2" in descriptor.get_object() and "/ToUnicode" in font
            )
    assert fonts == {"Consent-Sans": True, "Consent-Sans-Bold": True}
    assert "Maria Example" in _text(content)[0]

def test_verify_says_0_for_a_stored_record_pdf(sealed, verify_file):
    record_id, content = sealed
    result = verify_file(content)
    assert result.exit_code == 0, result.output
    assert result.output.count("\n") == 1  # one line
    assert result.output.startswith("VALID:") and record_id in result.output


def test_verify_says_2_for_a_preview(app, runner, tmp_path, verify_file):
    out = tmp_path / "preview.pdf"
    made = runner.invoke(args=["forms", "preview", "microneedling", "--out", str(out)])
    assert made.exit_code == 0, made.output
    result = verify_file(out.read_bytes())
    assert result.exit_code == 2, result.output
    assert result.output.startswith("NOT A STORED RECORD:")


def test_verify_says_1_for_each_of_50_single_byte_changes(app, sealed, verify_file):
    _, content = sealed
    rng = random.Random(20241124)
    positions = rng.sample(range(len(content)), 50)
    changed = []
    for position in positions:
        copy = bytearray(content)
        copy[position] ^= rng.randrange(1, 256)  # never a no-op
        changed.append(bytes(copy))
    # All 50 through the same verdicts the command prints, their seals checked in one
    # bounded child rather than fifty; then a few through the command itself.
    with app.app_context():
        verdicts = verify_all(app, changed)
    for position, verdict in zip(positions, verdicts, strict=True):
        assert verdict.verdict == Verdict.BROKEN, f"byte {position}: {verdict.message}"
        assert verdict.message.startswith("NOT VALID:")
    for position, data in list(zip(positions, changed, strict=True))[:3]:
        result = verify_file(data)
        assert result.exit_code == 1, f"byte {position}: {result.output}"
        assert result.output.startswith("NOT VALID:")


def _signature_gap(content: bytes) -> tuple[int, int]:
    byte_range = PdfFileReader(BytesIO(content)).embedded_signatures[0].byte_range
    return byte_range[1], byte_range[2]


def test_verify_catches_changes_the_signature_digest_does_not_cover(sealed, verify_file):
    """The /Contents hex string is the one stretch outside the digest; changes there count."""
    _, content = sealed
    start, end = _signature_gap(content)
    gap = content[start:end]
    padding = start + len(gap.rstrip(b"0>"))  # the zeros after the signature's DER
    assert end - padding > 100
    in_padding = bytearray(content)
    in_padding[padding + 40] = ord("7")
    letter = next(i for i in range(start + 1, padding) if chr(content[i]) in "ABCDEF")
    lower_case = bytearray(content)
    lower_case[letter] = ord(chr(content[letter]).lower())  # the same bytes, spelt differently
    for changed in (in_padding, lower_case, content + b"\n", content[:-1]):
        result = verify_file(bytes(changed))
        assert result.exit_code == 1, result.output


def test_verify_says_1_for_an_unsealed_pdf_and_for_a_non_pdf(app, sealed, verify_file):
    record_id, _ = sealed
    with app.app_context():
        record = db.session.get(ConsentRecord, record_id)
        unsealed = render_pdf(rebuild_document(record, 1))
    result = verify_file(unsealed)
    assert result.exit_code == 1 and "it has no seal" in result.output
    result = verify_file(b"%PDF-1.7\nthis is not really a PDF\n")
    assert result.exit_code == 1 and result.output.startswith("NOT VALID:")


def test_verify_says_2_for_another_clinics_seal(app, sealed, tmp_path, verify_file):
    other = create_app(
        _test_config(app.config["SQLALCHEMY_DATABASE_URI"], SEAL_KEY_DIR=str(tmp_path / "other"),
                     CLINIC_NAME="Another Clinic")
    )
    with other.app_context():
        from consentapp.records.preview import preview_pdf

        theirs = preview_pdf("microneedling")
        db.engine.dispose()
    result = verify_file(theirs)
    assert result.exit_code == 2, result.output
    assert "Another Clinic document seal" in result.output and "not by this clinic" in result.output


# -- what the PDF holds -----------------------------------------------------------------------


def test_the_embedded_json_equals_the_stored_record(app, sealed):
    record_id, content = sealed
    attachments = PdfReader(BytesIO(content)).attachments
    assert list(attachments) == [ATTACHMENT_NAME]
    (raw,) = attachments[ATTACHMENT_NAME]
    data = json.loads(raw)
    with app.app_context():
        record = db.session.get(ConsentRecord, record_id)
        events = db.session.scalars(
            select(RecordEvent).where(RecordEvent.record_id == record_id).order_by(RecordEvent.id)
        ).all()
        assert data["record_id"] == record.id
        assert data["answers"] == record.answers
        assert data["outcome"] == record.outcome == "eligible"
        assert data["outcome_reasons"] == record.outcome_reasons
        assert data["acknowledged_risks"] == record.acknowledged_risks
        assert data["accepted_statements"] == record.accepted_statements
        assert data["signature"] == record.signature
        assert data["signer_name"] == record.signer_name
        assert data["patient"] == {
            "name": record.patient_name,
            "date_of_birth": record.patient_dob.isoformat(),
            "contact": record.patient_contact,
        }
        assert data["procedure"]["definition_version"] == record.definition_version
        assert data["procedure"]["definition_sha256"] == record.definition_sha256
        assert datetime.fromisoformat(data["signed_at"]) == record.signed_at
        # The PDF was rendered when the record had one event: its signature.
        assert [event["kind"] for event in data["events"]] == ["signed"]
        stored = events[0]
        assert data["events"][0] == {
            "id": stored.id, "kind": stored.kind, "actor": stored.actor,
            "created_at": stored.created_at.isoformat(timespec="microseconds"),
            "details": stored.details, "prev_hash": stored.prev_hash, "hash": stored.hash,
        }
    # The audit trail prints the attachment's SHA-256.
    assert hashlib.sha256(raw).hexdigest() in _text(content)[-1].replace("\n", "")


def test_the_xmp_metadata_says_pdf_a_3b(sealed):
    _, content = sealed
    reader = PdfReader(BytesIO(content))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    descriptions = ET.fromstring(xmp[xmp.index(b"<rdf:RDF"):xmp.index(b"</rdf:RDF>") + 10])
    identification = [
        (element.attrib[f"{{{PDFAID}}}part"], element.attrib.get(f"{{{PDFAID}}}conformance"))
        for element in descriptions.iter(f"{{{RDF}}}Description")
        if f"{{{PDFAID}}}part" in element.attrib
    ]
    assert identification == [("3", "B")]  # kept when the seal updated the metadata
    # PDF/A-3 wants an sRGB output intent and the attachment's relationship stated.
    root = reader.trailer["/Root"]
    assert root["/OutputIntents"][0]["/S"] == "/GTS_PDFA1"
    assert [entry.get_object()["/AFRelationship"] for entry in root["/AF"]] == ["/Data"]


def test_the_audit_trail_page_lists_the_record_and_its_events(app, auth, client, journey):
    journey.complete()
    record_id, _ = _stored(app)
    auth.create()
    auth.login()
    client.get(f"/staff/records/{record_id}", headers={"User-Agent": "FrontDeskBrowser/1.0"})
    with app.app_context():
        record = db.session.get(ConsentRecord, record_id)
        pdf = render_and_store(record)  # version 2: it now shows the staff view too
        code = db.session.scalar(
            select(VerificationCode.code).where(VerificationCode.record_id == record_id)
        )
        signed = events_of(record_id)[0]
        definition_sha = record.definition_sha256
        content = pdf.content
    page = " ".join(_text(content)[-1].split())
    assert page.startswith("Audit trail")
    assert f"Record {record_id}" in page
    version = load_file(FORMS_DIR / "microneedling" / "en.toml").definition.version
    assert f"Microneedling, version {version} (en)" in page and definition_sha in page
    assert f"Verification code {code}" in page
    assert "Time (UTC) Time (America/New_York)" in page
    utc = signed.created_at
    local = utc.replace(tzinfo=UTC).astimezone(ZoneInfo("America/New_York"))
    assert (
        f"1 Consent given Maria Example (patient) {utc:%Y-%m-%d %H:%M:%S} "
        f"{local:%Y-%m-%d %H:%M:%S %Z}" in page
    )
    assert "PDF rendered and sealed Consent kiosk (automatic)" in page
    assert "Record viewed clinician@example.org" in page
    assert "FrontDeskBrowser/1.0" in page and "Address: 127.0.0.1" in page
    assert f"Event SHA-256 {signed.hash}" in page
    assert "attached file consent-record.json. Its SHA-256:" in page


def _qr_codes(content: bytes) -> list[list[str]]:
    """Each page drawn at 200 dpi and its QR codes read back, as a phone camera would."""
    document = pdfium.PdfDocument(content)
    try:
        return [
            [found.text for found in zxingcpp.read_barcodes(page.render(scale=200 / 72).to_pil())]
            for page in document
        ]
    finally:
        document.close()


def test_every_page_shows_the_verification_code_and_its_qr_code(app, sealed, auth, client):
    record_id, content = sealed
    with app.app_context():
        code = db.session.scalar(
            select(VerificationCode.code).where(VerificationCode.record_id == record_id)
        )
    # The code comes from a keyed hash of the record id: no patient data in it.
    assert code == derive_code(record_id, app.config["SECRET_KEY"]) and len(code) == 10
    pages = _text(content)
    assert len(pages) >= 3
    for text in pages:
        assert f"Verification code\n{code}" in text or f"Verification code {code}" in text
    url = f"https://consent.riverside.example/staff/verify/{code}"
    assert _qr_codes(content) == [[url]] * len(pages)
    # The URL it holds opens the record's verification page, for signed-in staff only.
    path = url.removeprefix("https://consent.riverside.example")
    assert client.get(path).status_code == 302
    auth.create()
    auth.login()
    page = client.get(path)
    assert page.status_code == 200
    assert "Maria Example" in page.text and f"/staff/records/{record_id}" in page.text
    assert "VALID: record" in page.text


def test_re_rendering_a_stored_record_gives_the_same_pdf_before_its_seal(app, sealed, auth,
                                                                         client):
    record_id, content = sealed
    auth.create()
    auth.login()
    client.get(f"/staff/records/{record_id}")  # a later event must not leak into version 1
    with app.app_context():
        record = db.session.get(ConsentRecord, record_id)
        rebuilt = render_pdf(rebuild_document(record, 1))
        stored = db.session.scalars(select(RecordPdf)).one()
        assert stored.renderer.startswith("consent-pdf ") and "pdf/a-3b" in stored.renderer
    # The seal is an incremental update: the rendered file is the stored file's first part.
    assert content[: len(rebuilt)] == rebuilt
    assert _text(rebuilt) == _text(content)


# -- preview ----------------------------------------------------------------------------------


def test_preview_is_sealed_marked_sample_on_every_page_and_not_stored(app, runner, tmp_path):
    out = tmp_path / "sample.pdf"
    result = runner.invoke(
        args=["forms", "preview", "microneedling", "--out", str(out), "--runs", "3"]
    )
    assert result.exit_code == 0, result.output
    assert re.search(r"render and seal took \d+ ms \(median of 3 runs\)", result.output)
    pages = _text(out.read_bytes())
    assert len(pages) >= 3 and all("SAMPLE" in text for text in pages)
    assert "Audit trail" in pages[-1] and "Sample Patient (patient)" in pages[-1]
    assert PdfFileReader(BytesIO(out.read_bytes())).embedded_signatures
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(ConsentRecord)) == 0
        assert db.session.scalar(select(func.count()).select_from(RecordPdf)) == 0
        assert db.session.scalar(select(func.count()).select_from(RecordEvent)) == 0


def test_preview_of_an_unknown_procedure_says_which_exist(runner, tmp_path):
    result = runner.invoke(
        args=["forms", "preview", "tattoo", "--out", str(tmp_path / "x.pdf")]
    )
    assert result.exit_code == 1
    assert "no procedure 'tattoo'" in result.output and "microneedling (en)" in result.output
    assert not (tmp_path / "x.pdf").exists()


# -- the clinic's key -------------------------------------------------------------------------


class _Collect(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages: list[str] = []

    def emit(self, record):
        self.messages.append(record.getMessage())


def test_the_key_is_made_on_first_need_and_announced_once(database_url, tmp_path):
    key_dir = tmp_path / "instance" / "seal"
    collect = _Collect()
    logger = logging.getLogger("consentapp.records.clinic_key")
    logger.addHandler(collect)
    try:
        app = create_app(_test_config(database_url, SEAL_KEY_DIR=str(key_dir)))
        assert not key_dir.exists()  # create_app makes no key
        first = clinic_key(app)
        assert sorted(p.name for p in key_dir.iterdir()) == [
            "clinic-seal-cert.pem", "clinic-seal-key.pem"
        ]
        assert (key_dir / "clinic-seal-key.pem").stat().st_mode & 0o077 == 0
        again = clinic_key(create_app(_test_config(database_url, SEAL_KEY_DIR=str(key_dir))))
        assert again.certificate.dump() == first.certificate.dump()
    finally:
        logger.removeHandler(collect)
    made = [m for m in collect.messages if "self-signed certificate were made" in m]
    assert len(made) == 1 and str(key_dir) in made[0]


def test_verifying_never_makes_a_new_key(app, sealed, tmp_path, verify_file):
    """A key made while verifying would call every earlier PDF foreign; say what is wrong."""
    key_dir = tmp_path / "lost"
    app.config["SEAL_KEY_DIR"] = str(key_dir)
    result = verify_file(sealed[1])
    assert result.exit_code == 1
    assert result.output.startswith("CANNOT VERIFY: there is no clinic sealing certificate")
    assert not key_dir.exists()


def _pkcs12_file(path, passphrase: bytes, name: str) -> None:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
        .add_extension(
            x509.KeyUsage(True, False, False, False, False, False, False, False, False), True
        )
        .sign(key, hashes.SHA256())
    )
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"clinic", key, cert, None, serialization.BestAvailableEncryption(passphrase)
        )
    )


def test_a_configured_pkcs12_key_seals_and_verifies(app_config, journey, app, tmp_path):
    p12 = tmp_path / "clinic.p12"
    _pkcs12_file(p12, b"s3cret-pass", "Riverside Skin Clinic (own CA)")
    app.config.update(SEAL_PKCS12_FILE=str(p12), SEAL_PKCS12_PASSPHRASE="s3cret-pass")
    journey.complete()
    _, content = _stored(app)
    with app.app_context():
        result = verify(app, content)
    assert result.verdict == Verdict.VALID, result.message
    assert "own CA" in clinic_key(app).subject


def test_a_wrong_pkcs12_passphrase_is_a_clear_error(app, tmp_path):
    p12 = tmp_path / "clinic.p12"
    _pkcs12_file(p12, b"right", "Clinic")
    app.config.update(SEAL_PKCS12_FILE=str(p12), SEAL_PKCS12_PASSPHRASE="wrong")
    with pytest.raises(SealKeyError, match="cannot read the PKCS#12 file"):
        clinic_key(app)


# -- PAdES B-T with a timestamp authority -----------------------------------------------------


def _tsa_certificate(tmp_path):
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Test TSA")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=30))
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), True)
        .sign(key, hashes.SHA256())
    )
    pem = tmp_path / "tsa.pem"
    pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    der_key = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    return (
        asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER)),
        asn1_keys.PrivateKeyInfo.load(der_key),
        pem,
    )


@pytest.fixture
def local_tsa(tmp_path):
    """An RFC 3161 timestamp authority on a loopback port (pyHanko's test stamper)."""
    cert, key, pem = _tsa_certificate(tmp_path)
    stamper = DummyTimeStamper(tsa_cert=cert, tsa_key=key)
    requests = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            requests.append(body)
            reply = stamper.request_tsa_response(tsp.TimeStampReq.load(body)).dump()
            self.send_response(200)
            self.send_header("Content-Type", "application/timestamp-reply")
            self.send_header("Content-Length", str(len(reply)))
            self.end_headers()
            self.wfile.write(reply)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/tsa", pem, requests
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


def test_with_a_timestamp_authority_the_seal_is_timestamped(app, journey, local_tsa):
    url, root_pem, requests = local_tsa
    app.config.update(SEAL_TSA_URL=url, SEAL_TSA_ROOT_CERT=str(root_pem))
    journey.complete()
    _, content = _stored(app)
    assert requests  # pyHanko asks the authority for the real timestamp (and a size probe)
    with app.app_context():
        result = verify(app, content)
        trust_root = clinic_key(app).certificate
    assert result.verdict == Verdict.VALID and "timestamped seal" in result.message
    status = _pyhanko_validate(
        PdfFileReader(BytesIO(content)).embedded_signatures[0],
        ValidationContext(trust_roots=[trust_root], allow_fetching=False),
        ts_validation_context=ValidationContext(
            trust_roots=[asn1_x509.Certificate.load(
                x509.load_pem_x509_certificate(root_pem.read_bytes()).public_bytes(
                    serialization.Encoding.DER))],
            allow_fetching=False,
        ),
        key_usage_settings=KEY_USAGE,
    )
    assert status.timestamp_validity is not None
    assert status.timestamp_validity.intact and status.timestamp_validity.trusted
    assert status.bottom_line


def test_a_timestamped_seal_sizes_its_own_signature_space(app, sealed, local_tsa):
    record_id, untimestamped = sealed
    url, root_pem, _ = local_tsa
    app.config.update(SEAL_TSA_URL=url, SEAL_TSA_ROOT_CERT=str(root_pem))
    with app.app_context():
        record = db.session.get(ConsentRecord, record_id)
        timestamped = seal_for_app(app, render_pdf(rebuild_document(record, 1)))
        assert "the seal is intact and this clinic's" in verify(app, timestamped).message
    # Space for the authority's token too: the space kept for seals without one is not used.
    assert _signature_space(timestamped) > _signature_space(untimestamped) + 1000


# -- the staff page ---------------------------------------------------------------------------


def _upload(client, content: bytes, filename: str = "consent.pdf", token: str | None = None):
    page = client.get("/staff/verify")
    data = {"pdf": (BytesIO(content), filename)}
    data["csrf_token"] = token if token is not None else csrf_token(page.text)
    return client.post("/staff/verify", data=data, content_type="multipart/form-data")


def test_the_verify_page_is_for_signed_in_staff_only(client, sealed):
    assert client.get("/staff/verify").status_code == 302
    assert client.get("/staff/verify/ABCDE12345").status_code == 302
    response = client.post(
        "/staff/verify", data={"pdf": (BytesIO(sealed[1]), "x.pdf")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302 and "/staff/login" in response.headers["Location"]


def test_staff_upload_a_stored_pdf_and_see_it_valid_with_a_link(auth, client, sealed):
    record_id, content = sealed
    auth.create()
    auth.login()
    page = client.get("/staff/verify")
    assert re.search(r'<label [^>]*for="pdf"', page.text) and "Check this PDF" in page.text
    response = _upload(client, content)
    assert response.status_code == 200
    assert "VALID: record " + record_id in response.text
    assert f'href="/staff/records/{record_id}"' in response.text
    assert hashlib.sha256(content).hexdigest() in response.text


def test_staff_upload_a_changed_pdf_or_a_preview_and_see_why(app, auth, client, sealed, runner,
                                                              tmp_path):
    _, content = sealed
    auth.create()
    auth.login()
    changed = bytearray(content)
    changed[len(content) // 3] ^= 0x20
    response = _upload(client, bytes(changed))
    assert response.status_code == 200 and "NOT VALID:" in response.text
    assert "Open the record" not in response.text
    out = tmp_path / "p.pdf"
    runner.invoke(args=["forms", "preview", "microneedling", "--out", str(out)])
    response = _upload(client, out.read_bytes())
    assert "NOT A STORED RECORD:" in response.text


def test_the_verify_page_asks_for_a_file_on_the_same_screen(auth, client, sealed):
    auth.create()
    auth.login()
    page = client.get("/staff/verify")
    response = client.post(
        "/staff/verify", data={"csrf_token": csrf_token(page.text)},
        content_type="multipart/form-data",
    )
    assert response.status_code == 200
    assert "Choose a PDF file to check." in response.text and "Check this PDF" in response.text


def test_the_verify_upload_needs_its_csrf_token(auth, client, sealed):
    auth.create()
    auth.login()
    response = _upload(client, sealed[1], token="forged")
    assert response.status_code == 400
    assert "VALID" not in response.text


def test_a_large_upload_gets_a_clear_message(auth, client):
    auth.create()
    auth.login()
    # A raw body (the size is all that matters): the test client would spool a file
    # upload this big to a temporary file that nobody reads or closes.
    response = client.post(
        "/staff/verify", data=b"0" * (21 * 1024 * 1024),
        content_type="multipart/form-data; boundary=x",
    )
    assert response.status_code == 413
    assert "larger than 20 MB" in response.text and "Check this PDF" in response.text


def test_an_unknown_verification_code_says_so(auth, client):
    auth.create()
    auth.login()
    response = client.get("/staff/verify/ZZZZZZZZZZ")
    assert response.status_code == 404
    assert "No stored record has this verification code" in response.text


def test_opening_a_record_by_its_code_is_an_audit_event(app, auth, client, sealed):
    record_id, _ = sealed
    auth.create()
    auth.login()
    with app.app_context():
        code = db.session.scalar(select(VerificationCode.code))
    assert client.get(f"/staff/verify/{code.lower()}").status_code == 200
    with app.app_context():
        kinds = [(e.kind, e.details.get("via")) for e in events_of(record_id)]
    assert kinds[-1] == ("viewed", "verification code")


def test_verify_without_the_records_database_says_so_in_one_line(
    app, runner, tmp_path, seal_key_dir
):
    out = tmp_path / "preview.pdf"
    made = runner.invoke(args=["forms", "preview", "microneedling", "--out", str(out)])
    assert made.exit_code == 0, made.output
    # The same clinic key, but a database nobody has migrated yet.
    unmigrated = create_app(_test_config(
        f"sqlite:///{tmp_path / 'empty.sqlite3'}", SEAL_KEY_DIR=seal_key_dir,
    ))
    result = unmigrated.test_cli_runner().invoke(args=["verify", str(out)])
    assert result.exit_code == 1
    assert result.output.count("\n") == 1
    # The stored records are read first (a verdict starts from the file's SHA-256), so the
    # answer cannot speak of the seal yet.
    assert result.output.startswith("CANNOT VERIFY: the stored records could not be read")
