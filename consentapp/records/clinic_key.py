"""The clinic's sealing key: loaded from a configured PKCS#12 file, or made on first need.

A clinic that configures nothing still gets sealed PDFs: the first time a PDF is sealed, a key
and a self-signed certificate are made under SEAL_KEY_DIR (instance/seal by default) and the
log says so, once. That certificate is the trust root every later verification checks
against, so the folder must be backed up with the database.
"""

import logging
import os
import tempfile
import threading
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from flask import Flask
from pyhanko.keys import load_cert_from_pemder
from pyhanko.sign.general import get_pyca_cryptography_hash
from pyhanko.sign.signers import SimpleSigner

from ..paths import fingerprint

log = logging.getLogger(__name__)

KEY_FILE = "clinic-seal-key.pem"
CERT_FILE = "clinic-seal-cert.pem"
# A consent must stay verifiable for as long as the clinic keeps records.
CERT_VALIDITY = timedelta(days=50 * 365)


class SealKeyError(RuntimeError):
    """The configured sealing key cannot be used; the message says what to fix."""


class KeptKeySigner(SimpleSigner):
    """pyHanko's SimpleSigner, but the private key is parsed once rather than per signature.

    SimpleSigner.sign_raw parses the key's DER for every signature it makes, and the
    cryptography library checks an RSA key's consistency on each parse: for our 3072-bit
    key that was ~100 ms, twice per seal (pyHanko signs once to size the signature box).
    The parsed key object is immutable and safe to share between threads.
    """

    @classmethod
    def keeping_key_of(cls, signer: SimpleSigner) -> "KeptKeySigner":
        return cls(
            signing_cert=signer.signing_cert,
            signing_key=signer.signing_key,
            cert_registry=signer.cert_registry,
            signature_mechanism=signer.signature_mechanism,
            prefer_pss=signer.prefer_pss,
            embed_roots=signer.embed_roots,
        )

    # How many hex digits a seal without a timestamp reserves for this key's signature:
    # pyHanko's own estimate at the first seal, kept for the later ones (see seal.seal_pdf).
    untimestamped_reservation: int | None = None

    @cached_property
    def _private_key(self):
        return serialization.load_der_private_key(self.signing_key.dump(), password=None)

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm).signature_algo
        key, digest = self._private_key, get_pyca_cryptography_hash(digest_algorithm)
        if mechanism == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), digest)
        if mechanism == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(digest))
        # Rarer mechanisms (RSA-PSS, EdDSA, ...) keep pyHanko's own code path.
        return super().sign_raw(data, digest_algorithm)


@dataclass(frozen=True)
class ClinicKey:
    signer: KeptKeySigner
    certificate: asn1_x509.Certificate  # the trust root verification checks against

    @property
    def subject(self) -> str:
        return self.certificate.subject.human_friendly


def generate_self_signed(directory: Path, clinic_name: str) -> None:
    """Write a new RSA key and a self-signed sealing certificate into `directory`.

    Written into a temporary folder that is then renamed into place, so two processes
    starting at once cannot mix one's key with the other's certificate: the loser's rename
    fails and it uses the winner's files.
    """
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"{clinic_name} document seal"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, clinic_name[:64]),
        ]
    )
    now = datetime.now(UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + CERT_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=True, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=False,
                crl_sign=False, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
        .sign(key, hashes.SHA256())
    )
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".seal-", dir=directory.parent))
    key_path = staging / KEY_FILE
    fd = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
    (staging / CERT_FILE).write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    try:
        staging.rename(directory)  # atomic; fails if another process got there first
    except OSError:
        for path in staging.iterdir():
            path.unlink()
        staging.rmdir()


def _from_pkcs12(path: str, passphrase: str | None) -> ClinicKey:
    try:
        signer = SimpleSigner.load_pkcs12(
            path, passphrase=passphrase.encode() if passphrase else None
        )
    except Exception as exc:  # pyHanko raises several kinds for a bad file or passphrase
        raise SealKeyError(f"cannot read the PKCS#12 file {path}: {exc}") from exc
    if signer is None or signer.signing_cert is None:
        raise SealKeyError(
            f"cannot read the PKCS#12 file {path}: wrong SEAL_PKCS12_PASSPHRASE, or no key in it"
        )
    return ClinicKey(KeptKeySigner.keeping_key_of(signer), signer.signing_cert)


def _from_directory(directory: Path, clinic_name: str, create: bool) -> ClinicKey:
    key_path, cert_path = directory / KEY_FILE, directory / CERT_FILE
    if not cert_path.exists():
        if not create:
            raise SealKeyError(
                f"there is no clinic sealing certificate in {directory}: nothing has been "
                "sealed here yet, or the folder was lost (restore it from the backup)"
            )
        generate_self_signed(directory, clinic_name)
        log.warning(
            "No sealing key was configured, so a clinic key and self-signed certificate were "
            "made in %s. Back this folder up with the database: sealed PDFs can only be "
            "verified against this certificate. To use your own, set SEAL_PKCS12_FILE.",
            directory,
        )
    signer = SimpleSigner.load(str(key_path), str(cert_path))
    if signer is None:
        raise SealKeyError(f"cannot read the sealing key in {directory}")
    return ClinicKey(KeptKeySigner.keeping_key_of(signer), load_cert_from_pemder(str(cert_path)))


_lock = threading.Lock()
# Loaded keys, by where they come from: reading one takes about a tenth of a second, and a
# process may build several apps over the same key (the CLI, tests). A file changed or
# replaced since (a new PKCS#12, a restored folder) is read again.
_loaded: dict[tuple, tuple[tuple, ClinicKey]] = {}


def clinic_key(app: Flask, *, create: bool = True) -> ClinicKey:
    """The app's sealing key, loaded (or made) the first time it is needed, then kept.

    Verifying passes create=False: a key made then would call every earlier PDF foreign.
    """
    config = app.config
    pkcs12_file, passphrase, key_dir = source = (
        config.get("SEAL_PKCS12_FILE"),
        config.get("SEAL_PKCS12_PASSPHRASE"),
        config["SEAL_KEY_DIR"],
    )
    files = (Path(pkcs12_file),) if pkcs12_file else (
        Path(key_dir) / KEY_FILE, Path(key_dir) / CERT_FILE)
    with _lock:
        cached = _loaded.get(source)
        if cached is not None and cached[0] == fingerprint(files):
            return cached[1]
        if pkcs12_file:
            key = _from_pkcs12(pkcs12_file, passphrase)
        else:
            key = _from_directory(Path(key_dir), config["CLINIC_NAME"], create)
        _loaded[source] = (fingerprint(files), key)
        return key
