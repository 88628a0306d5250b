"""Connecting a processor to a host: verification material encrypted at rest, the cleared-date field chosen.

The secrets go in and never come out again except to the code that verifies or calls the processor.
"""
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from cryptography.hazmat.primitives.serialization import load_pem_public_key
from flask import current_app
from sqlalchemy import select

from hostadmin.audit import service as audit
from hostadmin.banking.crypto import decrypt_token, encrypt_token
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.processors.models import PROCESSORS, ProcessorConnection
from hostadmin.text import clean_line

# processor -> ((field, what it means), …); the first one is the default.
CLEARED_FIELDS = {
    "stripe": (("charge_created", "when the card was charged (the charge's created time)"),
               ("available_on", "when Stripe made the money available to pay out (the balance "
                                "transaction's available_on); the charge time while that is not known yet")),
    "wise": (("occurred_at", "when Wise says the transfer changed state (the event's occurred_at)"),),
    "paypal": (("create_time", "when the capture was made (capture create_time); for payouts, when PayPal "
                               "processed the item (time_processed)"),),
}
MAX_SECRET = 10_000


class ConfigError(ValueError):
    """A connection that cannot be saved; the message names the field."""

    def __init__(self, message, field=None):
        super().__init__(message)
        self.field = field


@dataclass(frozen=True)
class Verification:
    """What the webhook check of one host's processor needs (decrypted)."""

    processor: str
    material: str
    api_key: str | None
    sandbox: bool
    cleared_field: str


def cleared_choices(processor):
    """[(field, meaning)] for `processor`, default first."""
    return CLEARED_FIELDS[processor]


def connection_of(host, processor):
    """The host's connection to `processor`, or None."""
    return db.session.scalar(select(ProcessorConnection).where(
        ProcessorConnection.host_id == host.id, ProcessorConnection.processor == processor))


def verification_of(connection):
    """The decrypted verification material of a stored connection."""
    return Verification(connection.processor, decrypt_token(connection.verification_encrypted),
                        decrypt_token(connection.api_key_encrypted) if connection.api_key_encrypted else None,
                        connection.sandbox, connection.cleared_field)


def configure(host, processor, *, material, api_key=None, sandbox=False, cleared_field=None, user=None):
    """Create or replace the host's connection to `processor` (committed, audited); returns it.

    `material`: Stripe's endpoint signing secret, Wise's public key (PEM text) or PayPal's webhook id.
    An empty `api_key` keeps the stored one; "-" removes it. The cleared field defaults to the first choice.
    The audit entry says what changed, never the secret itself.
    """
    if processor not in PROCESSORS:
        raise ConfigError(f"unknown processor {processor!r}: use one of {', '.join(PROCESSORS)}", "processor")
    material = _check_material(processor, material)
    fields = [name for name, _ in CLEARED_FIELDS[processor]]
    connection = connection_of(host, processor)
    cleared_field = cleared_field or (connection.cleared_field if connection else fields[0])
    if cleared_field not in fields:
        raise ConfigError(f"the cleared date for {processor} comes from one of {', '.join(fields)}, "
                               f"not {clean_line(str(cleared_field), 40)!r}", "cleared_field")
    if connection is None:
        connection = ProcessorConnection(host_id=host.id, processor=processor, created_at=utcnow())
        db.session.add(connection)
    connection.verification_encrypted = encrypt_token(material)
    if api_key == "-":
        connection.api_key_encrypted = None
    elif api_key:
        connection.api_key_encrypted = encrypt_token(_check_text(api_key, "api key", "api_key"))
    connection.sandbox, connection.cleared_field, connection.updated_at = bool(sandbox), cleared_field, utcnow()
    db.session.flush()
    audit.record(host, user, "processor.configure", connection, after={
        "processor": processor, "sandbox": connection.sandbox, "cleared_field": cleared_field,
        "api_key_set": connection.api_key_encrypted is not None})
    db.session.commit()
    return connection


def set_cleared_field(host, processor, cleared_field):
    """Change only which timestamp becomes cleared_at (committed)."""
    connection = connection_of(host, processor)
    if connection is None:
        raise ConfigError(f"{processor} is not connected to this host", "processor")
    fields = [name for name, _ in CLEARED_FIELDS[processor]]
    if cleared_field not in fields:
        raise ConfigError(f"the cleared date for {processor} comes from one of {', '.join(fields)}",
                               "cleared_field")
    connection.cleared_field, connection.updated_at = cleared_field, utcnow()
    db.session.commit()
    return connection


def webhook_url(host, processor):
    """Where the processor must send this host's webhooks."""
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/webhooks/{processor}/{host.slug}"


def _check_text(value, what, field):
    value = (value or "").strip()
    if not value:
        raise ConfigError(f"the {what} is required", field)
    if len(value) > MAX_SECRET or any(ord(c) < 32 and c not in "\n\r\t" for c in value):
        raise ConfigError(f"the {what} is not valid text", field)
    return value


def _check_material(processor, material):
    if processor == "stripe":
        secret = _check_text(material, "webhook signing secret", "material")
        if not secret.startswith("whsec_") or any(c.isspace() for c in secret):
            raise ConfigError("a Stripe webhook signing secret starts with whsec_ (Dashboard → "
                                   "Developers → Webhooks → the endpoint → Signing secret)", "material")
        return secret
    if processor == "wise":
        pem = _check_text(material, "public key", "material")
        try:
            key = load_pem_public_key(pem.encode())
        except (ValueError, TypeError):
            raise ConfigError("the Wise public key must be a PEM public key "
                                   "(-----BEGIN PUBLIC KEY-----)", "material") from None
        if not isinstance(key, RSAPublicKey):
            raise ConfigError("the Wise public key must be an RSA key", "material")
        return pem
    webhook_id = _check_text(material, "webhook id", "material")
    if len(webhook_id) > 100 or not webhook_id.replace("-", "").replace("_", "").isalnum() \
            or not webhook_id.isascii():
        raise ConfigError("a PayPal webhook id is letters and digits (Developer Dashboard → the app → "
                               "Webhooks)", "material")
    return webhook_id
