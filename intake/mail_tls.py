"""The mailbox's TLS: mail servers that deliver to the hotline encrypt the citizen's words (STARTTLS).

A deployment names its certificate and key (PEM files). Without one, the
controller makes a self-signed certificate on its first start and keeps it in
its working folder: servers delivering mail encrypt without checking whom
they talk to (RFC 3207's opportunistic TLS), so a self-signed one protects
the mail on the wire as well as a bought one.
"""

from __future__ import annotations

import datetime
import os
import ssl
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from hotline.kernel.runtime.config import ConfigError

#: Where the self-signed certificate and its key live, under the working folder.
FOLDER = "tls"
CERTIFICATE, KEY = "mail.crt", "mail.key"
VALID_FOR = datetime.timedelta(days=3650)


def server_tls(cert: str, key: str, home: Path, hostname: str) -> ssl.SSLContext:
    """The receiver's TLS context: the deployment's certificate and key, or, when none is named, the
    self-signed one in ``home/tls`` (made now if it is not there)."""
    if bool(cert) != bool(key):
        raise ConfigError("HOTLINE_MAIL_TLS_CERT and HOTLINE_MAIL_TLS_KEY are named together or not at all")
    if not cert:
        cert, key = (str(path) for path in self_signed(home / FOLDER, hostname))
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    try:
        context.load_cert_chain(cert, key)
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(f"cannot use the mail TLS certificate {cert} with key {key}: {exc}") from None
    return context


def self_signed(folder: Path, hostname: str) -> tuple[Path, Path]:
    """A certificate for ``hostname`` and its key in ``folder`` (0700; the key 0600), made unless both are
    there; returns their paths."""
    cert, key = folder / CERTIFICATE, folder / KEY
    if cert.exists() and key.exists():
        return cert, key
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    private = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(private.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + VALID_FOR)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(private, hashes.SHA256())
    )
    key_pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    _write(key, key_pem, 0o600)
    _write(cert, certificate.public_bytes(serialization.Encoding.PEM), 0o644)
    return cert, key


def _write(path: Path, content: bytes, mode: int) -> None:
    """Written under a temporary name with its mode from the start, then put in place."""
    temporary = path.with_name(f".{path.name}.new")
    temporary.unlink(missing_ok=True)
    with os.fdopen(os.open(temporary, os.O_CREAT | os.O_EXCL | os.O_WRONLY, mode), "wb") as handle:
        handle.write(content)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
