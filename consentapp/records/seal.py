"""Sealing a rendered PDF with the clinic's key.

The seal is a PAdES certification signature (pyHanko) over the whole file that allows no
further change: any changed, added or removed byte breaks it. With a timestamp authority
configured, the seal carries an RFC 3161 timestamp (PAdES B-T); otherwise it is B-B.
Checking a seal is records/seal_check.py (in a bounded child process: a file to check may be
hostile); what the check means for a file, the verdict, is records/verify.py.
"""

import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from typing import TypeVar

from flask import Flask
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign import fields, signers
from pyhanko.sign.timestamps import HTTPTimeStamper
from pyhanko.sign.validation.settings import KeyUsageConstraints

from .clinic_key import ClinicKey, clinic_key

log = logging.getLogger(__name__)
T = TypeVar("T")

SEAL_FIELD = "ClinicSeal"
# The clinic's own certificate may carry either usage; both mean "this key signs documents"
# (seal_check.py, which validates in a child process, asks the same).
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
