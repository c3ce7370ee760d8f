"""Parsing one certificate file with ``cryptography`` (bytes -> CertInfo, no I/O).

A module of its own so ``cryptography`` loads when a certificate is first parsed, not when the
console starts (:func:`backends.k0s.certs.parse_certificate` imports it on first use).
"""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, rsa
from cryptography.x509.oid import NameOID

from backends.k0s.certs import CertInfo

_PEM_BLOCK = re.compile(rb"-----BEGIN ([A-Z0-9 ]+)-----")


def _cn(name: x509.Name) -> str:
    attrs = name.get_attributes_for_oid(NameOID.COMMON_NAME)
    if attrs:
        value = attrs[0].value
        return value if isinstance(value, str) else value.decode("utf-8", "replace")
    return name.rfc4514_string()


def _key_facts(cert: x509.Certificate) -> tuple[str, int | None]:
    try:
        key = cert.public_key()
    except (UnsupportedAlgorithm, ValueError):
        return "unknown", None
    if isinstance(key, rsa.RSAPublicKey):
        return "RSA", key.key_size
    if isinstance(key, ec.EllipticCurvePublicKey):
        return "EC", key.key_size
    if isinstance(key, ed25519.Ed25519PublicKey):
        return "Ed25519", 256
    if isinstance(key, ed448.Ed448PublicKey):
        return "Ed448", 456
    if isinstance(key, dsa.DSAPublicKey):
        return "DSA", key.key_size
    return "unknown", None


def _sans(cert: x509.Certificate) -> list[str]:
    try:
        ext = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    out: list[str] = []
    for gn in ext.value:
        if isinstance(gn, x509.DNSName):
            out.append(f"DNS:{gn.value}")
        elif isinstance(gn, x509.IPAddress):
            out.append(f"IP:{gn.value}")
        elif isinstance(gn, x509.UniformResourceIdentifier):
            out.append(f"URI:{gn.value}")
        elif isinstance(gn, x509.RFC822Name):
            out.append(f"email:{gn.value}")
        else:
            out.append(f"{type(gn).__name__}:{gn.value}")
    return out


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _load(data: bytes) -> list[x509.Certificate]:
    """Every certificate in ``data`` (PEM, possibly several; or one DER). ValueError if none."""
    if b"-----BEGIN" in data:
        blocks = _PEM_BLOCK.findall(data)
        if b"CERTIFICATE" not in blocks and blocks:
            kinds = ", ".join(sorted({b.decode("ascii", "replace") for b in blocks}))
            raise ValueError(f"no certificate in this PEM file (it holds: {kinds})")
        return x509.load_pem_x509_certificates(data)
    if not data.strip():
        raise ValueError("empty file")
    return [x509.load_der_x509_certificate(data)]


def parse_certificate_bytes(
    data: bytes, *, host: str = "", path: str = "", now: datetime | None = None
) -> CertInfo:
    """Describe the (first) certificate in ``data``; a :class:`CertInfo` with ``error`` set
    when ``data`` holds no parseable certificate. Never raises for bad input."""
    info = CertInfo(host=host, path=path)
    try:
        certs = _load(data)
        if not certs:
            raise ValueError("no certificate found")
        cert = certs[0]
        info.cert_count = len(certs)
        info.subject = cert.subject.rfc4514_string()
        info.issuer = cert.issuer.rfc4514_string()
        info.subject_cn = _cn(cert.subject)
        info.issuer_cn = _cn(cert.issuer)
        info.serial = format(cert.serial_number, "x")
        info.not_before = cert.not_valid_before_utc
        info.not_after = cert.not_valid_after_utc
        info.is_ca = _is_ca(cert)
        info.key_type, info.key_size = _key_facts(cert)
        info.sans = _sans(cert)
        info.fingerprint_sha256 = hashlib.sha256(
            cert.public_bytes(serialization.Encoding.DER)).hexdigest()
        info.days_left = info.days_left_at(now)
    except (ValueError, TypeError, UnsupportedAlgorithm) as exc:
        # A fresh object so no half-filled field survives next to the error.
        msg = str(exc).strip() or type(exc).__name__
        return CertInfo(host=host, path=path, error=f"not a readable certificate: {msg}")
    return info
