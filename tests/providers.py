"""Each provider's signing, done here independently of `leadscore.sources`, exactly as the provider documents it.

Unit and integration tests sign the documented samples in events/ with keys generated per test, so a
test fails if our verification drifts from the provider's scheme (not only if it drifts from itself).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec


class SecretStore(Protocol):
    """Where the operator keeps the providers' keys (local.stack.EmulatedStack)."""

    def set_secret(self, logical_id: str, document: dict[str, Any]) -> None: ...


EVENTS = Path(__file__).resolve().parents[1] / "events"
HOST = "abc123.execute-api.eu-west-1.amazonaws.com"


def sample(name: str) -> bytes:
    return (EVENTS / name).read_bytes()


@dataclass(frozen=True)
class Credentials:
    """What we store in the secret ('current') and what the provider signs with (the same, except SendGrid)."""

    stored: str
    signing: Any


@dataclass(frozen=True)
class Signed:
    body: bytes
    headers: dict[str, str]


def _hmac_credentials() -> Credentials:
    key = secrets.token_urlsafe(32)
    return Credentials(key, key)


def _b64_hmac(key: str, message: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), message, hashlib.sha256).digest()).decode()


# ---- SendGrid: ECDSA P-256 over timestamp + body --------------------------------------------------------------
def sendgrid_credentials() -> Credentials:
    private = ec.generate_private_key(ec.SECP256R1())
    public = private.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return Credentials(base64.b64encode(public).decode(), private)


def sendgrid_sign(credentials: Credentials, body: bytes, now: int, url: str = "") -> Signed:
    signature = credentials.signing.sign(str(now).encode() + body, ec.ECDSA(hashes.SHA256()))
    return Signed(
        body,
        {
            "content-type": "application/json",
            "x-twilio-email-event-webhook-timestamp": str(now),
            "x-twilio-email-event-webhook-signature": base64.b64encode(signature).decode(),
        },
    )


# ---- Mailgun: HMAC(timestamp + token), inside the JSON body ---------------------------------------------------
def mailgun_sign(credentials: Credentials, body: bytes, now: int, url: str = "") -> Signed:
    document = json.loads(body)
    token = secrets.token_hex(25)
    digest = hmac.new(credentials.signing.encode(), f"{now}{token}".encode(), hashlib.sha256).hexdigest()
    document["signature"] = {"timestamp": str(now), "token": token, "signature": digest}
    return Signed(json.dumps(document).encode(), {"content-type": "application/json"})


# ---- Postmark: Basic credentials from the webhook URL ---------------------------------------------------------
def postmark_credentials() -> Credentials:
    value = f"leadscore:{secrets.token_urlsafe(24)}"
    return Credentials(value, value)


def postmark_sign(credentials: Credentials, body: bytes, now: int, url: str = "") -> Signed:
    basic = base64.b64encode(credentials.signing.encode()).decode()
    return Signed(body, {"content-type": "application/json", "authorization": f"Basic {basic}"})


# ---- Typeform, Tally: HMAC of the raw body, base64 -------------------------------------------------------------
def typeform_sign(credentials: Credentials, body: bytes, now: int, url: str = "") -> Signed:
    return Signed(
        body,
        {"content-type": "application/json", "typeform-signature": "sha256=" + _b64_hmac(credentials.signing, body)},
    )


def tally_sign(credentials: Credentials, body: bytes, now: int, url: str = "") -> Signed:
    return Signed(body, {"content-type": "application/json", "tally-signature": _b64_hmac(credentials.signing, body)})


# ---- Webflow: hex HMAC of "<ms timestamp>:<body>" -------------------------------------------------------------
def webflow_sign(credentials: Credentials, body: bytes, now: int, url: str = "") -> Signed:
    millis = str(now * 1000 + 123)
    digest = hmac.new(credentials.signing.encode(), millis.encode() + b":" + body, hashlib.sha256).hexdigest()
    return Signed(
        body, {"content-type": "application/json", "x-webflow-timestamp": millis, "x-webflow-signature": digest}
    )


# ---- HubSpot v3: base64 HMAC of method + uri + body + ms timestamp --------------------------------------------
def hubspot_sign(credentials: Credentials, body: bytes, now: int, url: str = "") -> Signed:
    millis = str(now * 1000 + 456)
    uri = url or f"https://{HOST}/webhooks/hubspot"
    signature = _b64_hmac(credentials.signing, b"POST" + uri.encode() + body + millis.encode())
    return Signed(
        body,
        {
            "content-type": "application/json",
            "x-hubspot-request-timestamp": millis,
            "x-hubspot-signature-v3": signature,
        },
    )


@dataclass(frozen=True)
class Provider:
    name: str
    secret: str  # the template's secret (logical id)
    sample: str  # a documented sample in events/
    events_in_sample: int
    credentials: Callable[[], Credentials]
    sign: Callable[[Credentials, bytes, int, str], Signed]
    timestamped: bool  # whether a stale request can be told apart from a fresh one
    invalid: bytes  # valid JSON, wrong shape: 422
    no_ops: int = 0  # sample events the default model has no rule for (e.g. deliveries): nothing stored

    def configured(self, stack: SecretStore) -> Credentials:
        """New credentials, stored in the provider's secret as the operator configures it (no previous key)."""
        credentials = self.credentials()
        stack.set_secret(self.secret, {"current": credentials.stored, "previous": ""})
        return credentials


PROVIDERS = [
    Provider("sendgrid", "SendGridWebhookSecret", "sendgrid_events.json", 7, sendgrid_credentials, sendgrid_sign,
             timestamped=True, invalid=b'[{"event": "open"}]', no_ops=1),
    Provider("mailgun", "MailgunWebhookSecret", "mailgun_opened.json", 1, _hmac_credentials, mailgun_sign,
             timestamped=True, invalid=b'{"event-data": {"event": "opened"}}'),
    Provider("postmark", "PostmarkWebhookSecret", "postmark_open.json", 1, postmark_credentials, postmark_sign,
             timestamped=False, invalid=b'{"RecordType": "Open"}'),
    Provider("typeform", "TypeformWebhookSecret", "typeform_form_response.json", 1, _hmac_credentials, typeform_sign,
             timestamped=False, invalid=b'{"event_type": "form_response", "form_response": {}}'),
    Provider("tally", "TallyWebhookSecret", "tally_form_response.json", 1, _hmac_credentials, tally_sign,
             timestamped=False, invalid=b'{"eventType": "FORM_RESPONSE", "data": {}}'),
    Provider("webflow", "WebflowWebhookSecret", "webflow_form_submission.json", 1, _hmac_credentials, webflow_sign,
             timestamped=True, invalid=b'{"triggerType": "form_submission", "payload": {"data": {}}}'),
    Provider("hubspot", "HubSpotWebhookSecret", "hubspot_workflow_contact.json", 1, _hmac_credentials, hubspot_sign,
             timestamped=True, invalid=b'{"properties": {"email": {"value": "a@b.example"}}}'),
]  # fmt: skip
BY_NAME = {provider.name: provider for provider in PROVIDERS}
