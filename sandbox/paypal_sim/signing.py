"""PayPal's webhook signature, made with the simulator's own key and self-signed certificate.

PAYPAL-TRANSMISSION-SIG = base64(RSA PKCS#1 v1.5 SHA-256 signature of
    f"{transmission_id}|{transmission_time}|{webhook_id}|{zlib.crc32(raw_body) & 0xffffffff}")
with the CRC written in decimal, verifiable with the public key of the X.509 certificate served
at PAYPAL-CERT-URL. The key (RSA-2048) and certificate are generated once, lazily, and kept in
the database with the private key Fernet-encrypted.

Public helpers for product tests: `sign_headers(...)` and `certificate_pem()`.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
import threading
import uuid
import zlib
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.x509.oid import NameOID
from django.db import IntegrityError, transaction
from django.urls import reverse

from sandbox.paypal_sim.keys import decrypt, encrypt
from sandbox.paypal_sim.models import PaypalSigningKey

AUTH_ALGO: Final = "SHA256withRSA"
CERT_COMMON_NAME: Final = "messageverificationcerts.sandbox.paypal.example"
CERT_VALIDITY: Final = dt.timedelta(days=365)
KEY_SIZE: Final = 2048
SINGLETON_ID: Final = 1

_cache_lock = threading.Lock()
# Decrypted keys by cert id: parsing a PEM costs more than signing. A new cert id (the table was
# emptied, as between tests) simply misses the cache.
_private_keys: dict[str, rsa.RSAPrivateKey] = {}
_foreign_key: list[rsa.RSAPrivateKey] = []


def _generate_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=KEY_SIZE)


def _self_signed_certificate(key: rsa.RSAPrivateKey, now: dt.datetime) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "US"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "PayPal sandbox simulator"),
            x509.NameAttribute(NameOID.COMMON_NAME, CERT_COMMON_NAME),
        ]
    )
    return (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + CERT_VALIDITY)
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(CERT_COMMON_NAME)]), False)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )


def _cert_id() -> str:
    # Shaped like PayPal's "CERT-360caa42-fca2a594-a5cafa77".
    return "CERT-" + "-".join(secrets.token_hex(4) for _ in range(3))


def _signing_key_create() -> PaypalSigningKey:
    key = _generate_key()
    certificate = _self_signed_certificate(key, dt.datetime.now(dt.UTC))
    private_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    row = PaypalSigningKey(
        id=SINGLETON_ID,
        cert_id=_cert_id(),
        private_key_encrypted=encrypt(private_pem),
        certificate_pem=certificate.public_bytes(serialization.Encoding.PEM).decode(),
    )
    try:
        with transaction.atomic():
            row.save(force_insert=True)
    except IntegrityError:
        # Another request generated one first; everybody signs with that one.
        return PaypalSigningKey.objects.get(pk=SINGLETON_ID)
    return row


def signing_key_get() -> PaypalSigningKey:
    """The simulator's key and certificate, generated on first use."""
    row = PaypalSigningKey.objects.filter(pk=SINGLETON_ID).first()
    return row if row is not None else _signing_key_create()


def _private_key(row: PaypalSigningKey) -> rsa.RSAPrivateKey:
    with _cache_lock:
        cached = _private_keys.get(row.cert_id)
    if cached is not None:
        return cached
    key = serialization.load_pem_private_key(decrypt(row.private_key_encrypted), password=None)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise TypeError("the stored signing key is not an RSA key")
    with _cache_lock:
        _private_keys[row.cert_id] = key
    return key


def foreign_private_key() -> rsa.RSAPrivateKey:
    """A key that is not the simulator's (an impostor's), made once per process."""
    with _cache_lock:
        if not _foreign_key:
            _foreign_key.append(_generate_key())
        return _foreign_key[0]


def certificate_pem() -> str:
    """The PEM certificate whose key signs the simulator's webhooks."""
    return signing_key_get().certificate_pem


def certificate_id() -> str:
    return signing_key_get().cert_id


def certificate_path() -> str:
    """Path (no host) at which the simulator serves its certificate."""
    return reverse("sandbox_paypal:certificate", args=[certificate_id()])


def transmission_time_format(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def body_crc32(body: bytes) -> int:
    return zlib.crc32(body) & 0xFFFFFFFF


def signature_message(
    *, transmission_id: str, transmission_time: str, webhook_id: str, body: bytes
) -> bytes:
    """The exact bytes PayPal signs for one delivery."""
    crc = body_crc32(body)
    return f"{transmission_id}|{transmission_time}|{webhook_id}|{crc}".encode()


def sign_message(message: bytes, key: rsa.RSAPrivateKey | None = None) -> str:
    """base64 SHA256withRSA signature of `message` (the sandbox key unless `key` is given)."""
    signer = key if key is not None else _private_key(signing_key_get())
    signature = signer.sign(message, padding.PKCS1v15(), hashes.SHA256())
    return base64.b64encode(signature).decode()


def headers_for(
    *,
    signature: str,
    transmission_id: str,
    transmission_time: str,
    cert_url: str,
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "PAYPAL-TRANSMISSION-ID": transmission_id,
        "PAYPAL-TRANSMISSION-TIME": transmission_time,
        "PAYPAL-TRANSMISSION-SIG": signature,
        "PAYPAL-CERT-URL": cert_url,
        "PAYPAL-AUTH-ALGO": AUTH_ALGO,
    }


def sign_headers(
    body: bytes,
    webhook_id: str,
    cert_url: str,
    *,
    transmission_id: str | None = None,
    transmission_time: str | None = None,
) -> dict[str, str]:
    """The headers PayPal would send with `body` to the webhook `webhook_id`, signed for real."""
    transmission_id = transmission_id or str(uuid.uuid4())
    transmission_time = transmission_time or transmission_time_format(dt.datetime.now(dt.UTC))
    message = signature_message(
        transmission_id=transmission_id,
        transmission_time=transmission_time,
        webhook_id=webhook_id,
        body=body,
    )
    return headers_for(
        signature=sign_message(message),
        transmission_id=transmission_id,
        transmission_time=transmission_time,
        cert_url=cert_url,
    )


def signature_valid(*, message: bytes, signature_b64: str) -> bool:
    """Whether `signature_b64` is the sandbox key's signature of `message`."""
    try:
        signature = base64.b64decode(signature_b64, validate=True)
    except (binascii.Error, ValueError):
        return False
    certificate = x509.load_pem_x509_certificate(certificate_pem().encode())
    public_key = certificate.public_key()
    if not isinstance(public_key, rsa.RSAPublicKey):
        return False
    try:
        public_key.verify(signature, message, padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        return False
    return True
