"""Sealing a rendered PDF with the clinic's key, and checking a PDF's seal later.

The seal is a PAdES certification signature (pyHanko) over the whole file that allows no
further change: any changed, added or removed byte breaks it. With a timestamp authority
configured, the seal carries an RFC 3161 timestamp (PAdES B-T); otherwise it is B-B.
What a seal check means for a file (the verdict) is records/verify.py.
"""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from io import BytesIO
from typing import TypeVar

from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as asn1_x509
from flask import Flask
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
from pyhanko.sign.validation.settings import KeyUsageConstraints
from pyhanko_certvalidator import ValidationContext

from .clinic_key import ClinicKey, clinic_key

log = logging.getLogger(__name__)
T = TypeVar("T")

SEAL_FIELD = "ClinicSeal"
# The clinic's own certificate may carry either usage; both mean "this key signs documents".
KEY_USAGE = KeyUsageConstraints(
    key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
)


def _off_any_event_loop(work: Callable[[], T]) -> T:
    """Run pyHanko's blocking API in a short-lived thread of its own.

    Its blocking functions wrap asyncio.run(), which refuses to start inside a thread that
    already runs an event loop (an async server worker; Playwright's in the test session).
    """
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="pyhanko") as pool:
        return pool.submit(work).result()


def seal_pdf(content: bytes, key: ClinicKey, *, tsa_url: str | None = None,
             clinic_name: str = "") -> bytes:
    """Certify `content` with the clinic's key; no later change is allowed."""
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="Consent record sealed by the clinic",
        name=clinic_name or None,
    )
    timestamper = HTTPTimeStamper(tsa_url) if tsa_url else None
    writer = IncrementalPdfFileWriter(BytesIO(content))
    signer = key.signer
    pdf_signer = signers.PdfSigner(metadata, signer=signer, timestamper=timestamper)
    # pyHanko sizes the signature's placeholder by first making a whole dummy signature,
    # about half of a seal's work. Without a timestamp token the signature's size depends
    # only on the key, so the space reserved at the first seal is reused by the later ones.
    reserved = None if timestamper else signer.untimestamped_reservation
    sealed = _off_any_event_loop(
        lambda: pdf_signer.sign_pdf(writer, bytes_reserved=reserved).getvalue()
    )
    if timestamper is None and reserved is None:
        signer.untimestamped_reservation = _reserved_hex_digits(sealed)
    return sealed


def _reserved_hex_digits(sealed: bytes) -> int:
    """The length of the seal's /Contents placeholder: the one gap in its /ByteRange."""
    byte_range = PdfFileReader(BytesIO(sealed), strict=False).embedded_signatures[0].byte_range
    return byte_range[2] - byte_range[1] - 2  # without the < and > around the hex digits


def seal_for_app(app: Flask, content: bytes) -> bytes:
    config = app.config
    return seal_pdf(
        content, clinic_key(app), tsa_url=config.get("SEAL_TSA_URL"),
        clinic_name=config["CLINIC_NAME"],
    )


@dataclass(frozen=True)
class SealCheck:
    """What the seal alone says, before the file is looked up among stored PDFs."""

    intact: bool
    trusted: bool = False
    problem: str | None = None
    signer: str | None = None
    signed_at: datetime | None = None
    timestamp: str | None = None  # None, "trusted" or "untrusted" (its authority's root)


def _signature_container_untouched(data: bytes, byte_range, contents: bytes) -> bool:
    """The one stretch a signature does not digest is its own /Contents hex string.

    A change there that still parses (a hex digit's case, or the zero padding after the
    signature) would leave the seal valid, so insist on exactly what pyHanko writes: the
    signature's DER in upper-case hex, then zeros.
    """
    start, end = byte_range[1], byte_range[2]
    if data[start:end] != b"<" + contents.hex().upper().encode() + b">":
        return False
    _, _, _, header, body, trailer = asn1_parser.parse(contents, strict=False)
    used = len(header) + len(body) + len(trailer)
    return not any(contents[used:])


def check_seal(
    data: bytes,
    trust_root: asn1_x509.Certificate,
    tsa_roots: list[asn1_x509.Certificate] | None = None,
) -> SealCheck:
    """Validate the file's seal against the clinic's certificate as the only trust root."""
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception:  # any parse failure of a damaged file is the same answer
        return SealCheck(False, problem="it is not a readable PDF, or it was damaged")
    if not signatures:
        return SealCheck(False, problem="it has no seal")
    signature = signatures[0]
    try:
        status = _off_any_event_loop(
            lambda: validate_pdf_signature(
                signature,
                signer_validation_context=ValidationContext(
                    trust_roots=[trust_root], allow_fetching=False
                ),
                # Trust roots are always explicit: the operating system's list is not ours.
                ts_validation_context=ValidationContext(
                    trust_roots=tsa_roots or [trust_root], allow_fetching=False
                ),
                key_usage_settings=KEY_USAGE,
            )
        )
        container_ok = _signature_container_untouched(
            data, signature.byte_range, signature.pkcs7_content
        )
    except Exception:
        log.info("A PDF's seal could not be validated", exc_info=True)
        return SealCheck(False, problem="its seal is damaged")
    signer = signature.signer_cert.subject.human_friendly
    if not (status.intact and status.valid and container_ok):
        return SealCheck(False, problem="it was changed after sealing", signer=signer)
    if len(signatures) > 1 or status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return SealCheck(False, problem="something was added after sealing", signer=signer)
    if not status.docmdp_ok or signature.docmdp_level != fields.MDPPerm.NO_CHANGES:
        return SealCheck(False, problem="its seal allows later changes", signer=signer)
    timestamp = status.timestamp_validity
    if timestamp is not None and not (timestamp.intact and timestamp.valid):
        return SealCheck(False, problem="its timestamp is broken", signer=signer)
    return SealCheck(
        True,
        trusted=status.trusted,
        signer=signer,
        signed_at=status.signer_reported_dt,
        timestamp=(
            None if timestamp is None else "trusted" if timestamp.trusted else "untrusted"
        ),
    )
