"""Checking a PDF's seal in a child process that cannot take the web worker down with it.

Parsing a PDF costs whatever its author wants it to: 16 MB of tiny dictionaries held a web
worker 30 s at 1.1 GB before this module existed. So the app never parses an uploaded file
itself. The verdict first looks the file's SHA-256 up among the stored versions (a VALID
verdict needs a byte-identical stored version anyway, records/verify.py); only a file under
`VERIFY_MAX_BYTES` is parsed, and only here: in a fresh interpreter that runs this file as
a script, imports pyHanko and nothing of the app, lowers its own memory, CPU and open-file
limits with resource.setrlimit before it reads a byte, and is killed when the wall clock
runs out. Whatever the file does, the worker's memory stays as it was and the answer is
"too large or too complex to check".

The protocol is plain: the parent writes one JSON line (the limits, the trust roots as
base64 DER, each file's length) and then the files' bytes to the child's stdin; the child
writes one JSON line per file to stdout. This file imports nothing from the package at the
top, so `python -I path/to/seal_check.py` starts in half a second instead of importing the
whole app.
"""

import base64
import json
import os
import subprocess
import sys
from dataclasses import dataclass

TOO_COMPLEX = "it is too large or too complex to check"


@dataclass(frozen=True)
class Limits:
    """What one child may spend, for all the files it is given together."""

    memory_mb: int = 768
    cpu_seconds: int = 5
    wall_seconds: float = 10.0


@dataclass(frozen=True)
class SealCheck:
    """What the seal alone says, before the file is looked up among stored PDFs."""

    intact: bool
    trusted: bool = False
    problem: str | None = None
    signer: str | None = None
    signed_at: str | None = None  # ISO 8601, as the signer's clock reported it
    timestamp: str | None = None  # None, "trusted" or "untrusted" (its authority's root)
    too_complex: bool = False


def check_seals(files: list[bytes], trust_root_der: bytes, tsa_roots_der: list[bytes],
                limits: Limits) -> list[SealCheck]:
    """Each file's seal, checked in one child process within `limits`."""
    if not files:
        return []
    header = {
        "memory_mb": limits.memory_mb, "cpu_seconds": limits.cpu_seconds,
        "trust_root": base64.b64encode(trust_root_der).decode(),
        "tsa_roots": [base64.b64encode(der).decode() for der in tsa_roots_der],
        "lengths": [len(data) for data in files],
    }
    payload = json.dumps(header).encode() + b"\n" + b"".join(files)
    try:
        finished = subprocess.run(
            [sys.executable, "-I", "-B", os.path.abspath(__file__)], input=payload,
            capture_output=True, timeout=limits.wall_seconds, check=False,
        )
    except subprocess.TimeoutExpired:  # run() has killed it
        return [SealCheck(False, problem=TOO_COMPLEX, too_complex=True) for _ in files]
    answers = []
    for line in finished.stdout.decode("utf-8", "replace").splitlines():
        try:
            answers.append(SealCheck(**json.loads(line)))
        except (ValueError, TypeError):
            break
    # A child killed by its CPU or memory limit answered for the files before the one that
    # was too much, or for none of them.
    missing = len(files) - len(answers)
    return answers[:len(files)] + [
        SealCheck(False, problem=TOO_COMPLEX, too_complex=True) for _ in range(max(missing, 0))
    ]


# -- the child ----------------------------------------------------------------------------------


def _limit_myself(memory_mb: int, cpu_seconds: int) -> None:
    import resource

    # The address space the child has after its imports, plus the budget: a limit on the
    # total would depend on how much the interpreter and pyHanko map before any work.
    with open("/proc/self/status") as status:
        size_kb = next(int(line.split()[1]) for line in status if line.startswith("VmSize:"))
    address_space = size_kb * 1024 + memory_mb * 1024 * 1024
    resource.setrlimit(resource.RLIMIT_AS, (address_space, address_space))
    # RLIMIT_CPU counts from the process' start: add what the imports already used.
    usage = resource.getrusage(resource.RUSAGE_SELF)
    cpu = int(usage.ru_utime + usage.ru_stime + 0.999) + cpu_seconds
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))  # it writes no file
    resource.setrlimit(resource.RLIMIT_NOFILE, (32, 32))


def _container_untouched(data: bytes, byte_range, contents: bytes) -> bool:
    """The one stretch a signature does not digest is its own /Contents hex string.

    A change there that still parses (a hex digit's case, or the zero padding after the
    signature) would leave the seal valid, so insist on exactly what pyHanko writes: the
    signature's DER in upper-case hex, then zeros.
    """
    from asn1crypto import parser as asn1_parser

    start, end = byte_range[1], byte_range[2]
    if data[start:end] != b"<" + contents.hex().upper().encode() + b">":
        return False
    _, _, _, header, body, trailer = asn1_parser.parse(contents, strict=False)
    used = len(header) + len(body) + len(trailer)
    return not any(contents[used:])


def _check_one(data: bytes, trust_root, tsa_roots) -> dict:
    from io import BytesIO

    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign import fields
    from pyhanko.sign.validation import SignatureCoverageLevel, validate_pdf_signature
    from pyhanko.sign.validation.settings import KeyUsageConstraints
    from pyhanko_certvalidator import ValidationContext

    # The clinic's own certificate may carry either usage; both mean "this key signs".
    key_usage = KeyUsageConstraints(
        key_usage={"digital_signature", "non_repudiation"}, match_all_key_usages=False
    )
    try:
        reader = PdfFileReader(BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except MemoryError:
        raise
    except Exception:  # any parse failure of a damaged file is the same answer
        return {"intact": False, "problem": "it is not a readable PDF, or it was damaged"}
    if not signatures:
        return {"intact": False, "problem": "it has no seal"}
    signature = signatures[0]
    try:
        status = validate_pdf_signature(
            signature,
            signer_validation_context=ValidationContext(
                trust_roots=[trust_root], allow_fetching=False
            ),
            # Trust roots are always explicit: the operating system's list is not ours.
            ts_validation_context=ValidationContext(
                trust_roots=tsa_roots or [trust_root], allow_fetching=False
            ),
            key_usage_settings=key_usage,
        )
        container_ok = _container_untouched(data, signature.byte_range,
                                            signature.pkcs7_content)
    except MemoryError:
        raise
    except Exception:
        return {"intact": False, "problem": "its seal is damaged"}
    signer = signature.signer_cert.subject.human_friendly
    if not (status.intact and status.valid and container_ok):
        return {"intact": False, "problem": "it was changed after sealing", "signer": signer}
    if len(signatures) > 1 or status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return {"intact": False, "problem": "something was added after sealing",
                "signer": signer}
    if not status.docmdp_ok or signature.docmdp_level != fields.MDPPerm.NO_CHANGES:
        return {"intact": False, "problem": "its seal allows later changes", "signer": signer}
    timestamp = status.timestamp_validity
    if timestamp is not None and not (timestamp.intact and timestamp.valid):
        return {"intact": False, "problem": "its timestamp is broken", "signer": signer}
    signed_at = status.signer_reported_dt
    return {
        "intact": True, "trusted": bool(status.trusted), "signer": signer,
        "signed_at": signed_at.isoformat() if signed_at else None,
        "timestamp": None if timestamp is None else (
            "trusted" if timestamp.trusted else "untrusted"
        ),
    }


def _child() -> None:
    from asn1crypto import x509

    stdin = sys.stdin.buffer
    header = json.loads(stdin.readline())
    files = [stdin.read(length) for length in header["lengths"]]
    trust_root = x509.Certificate.load(base64.b64decode(header["trust_root"]))
    tsa_roots = [x509.Certificate.load(base64.b64decode(der)) for der in header["tsa_roots"]]
    # Everything pyHanko needs is imported before the limits fall: only the file's own
    # parsing runs under them.
    import pyhanko.sign.validation  # noqa: F401
    from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: F401

    _limit_myself(header["memory_mb"], header["cpu_seconds"])
    out = sys.stdout
    for data in files:
        try:
            answer = _check_one(data, trust_root, tsa_roots)
        except (MemoryError, RecursionError):
            answer = {"intact": False, "problem": TOO_COMPLEX, "too_complex": True}
        out.write(json.dumps(answer) + "\n")
        out.flush()


if __name__ == "__main__":
    _child()
