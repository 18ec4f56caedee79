"""Basic authentication as ZATCA's gateway does it: `binarySecurityToken:secret` of a CSID.

The token is public (base64 of the certificate's base64 DER text); the secret is compared with
the stored SHA-256 digest in constant time. Anything else answers 401.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac

from cryptography import x509

from fatoora.certificates import CertificateError, certificate_from_base64
from sandbox.zatca_sim.errors import UNAUTHORIZED, ZatcaApiError
from sandbox.zatca_sim.models import ZatcaCsid


def secret_digest(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def csid_authenticate(*, authorization: str, kind: ZatcaCsid.Kind) -> ZatcaCsid:
    """The CSID of kind `kind` whose token and secret the Authorization header carries."""
    scheme, _, encoded = authorization.partition(" ")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        decoded = ""
    token, _, secret = decoded.partition(":")
    csid = None
    if scheme.lower() == "basic" and token and secret and len(token) < 10_000:
        csid = ZatcaCsid.objects.filter(token=token, kind=kind).first()
    # Compare against something even when there is no CSID, so timing tells nothing.
    expected = csid.secret_digest if csid is not None else secret_digest("-")
    if not hmac.compare_digest(expected, secret_digest(secret)) or csid is None:
        raise ZatcaApiError(401, UNAUTHORIZED, f"Invalid or missing {kind} CSID credentials")
    return csid


def csid_certificate(csid: ZatcaCsid) -> x509.Certificate:
    try:
        text = base64.b64decode(csid.token).decode("ascii")
        return certificate_from_base64(base64_der=text)
    except (binascii.Error, UnicodeDecodeError, CertificateError):
        raise ZatcaApiError(401, UNAUTHORIZED, "The CSID's token is not a certificate") from None
