"""Posts Wise webhooks signed with a key pair made for the test, as Wise signs them (RSA-SHA256, base64)."""
import base64
import json

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding


class WiseSender:
    def __init__(self, client, private_key):
        self.client, self.private_key = client, private_key

    def body(self, transfer_id=4242, state="outgoing_payment_sent", occurred_at="2026-11-19T10:00:00Z",
             event_type="transfers#state-change"):
        return json.dumps({"data": {"resource": {"type": "transfer", "id": transfer_id, "profile_id": 77,
                                                 "account_id": 88},
                                    "current_state": state, "previous_state": "processing",
                                    "occurred_at": occurred_at},
                           "subscription_id": "sub-1", "event_type": event_type, "schema_version": "2.0.0",
                           "sent_at": occurred_at}).encode()

    def sign(self, body, key=None):
        signature = (key or self.private_key).sign(body, padding.PKCS1v15(), hashes.SHA256())
        return base64.b64encode(signature).decode()

    def post(self, body, signature=None, host="river", headers=None, address="127.0.0.1"):
        sent = {"Content-Type": "application/json", **(headers or {})}
        if signature is not None:
            sent["X-Signature-SHA256"] = signature
        return self.client.post(f"/webhooks/wise/{host}", data=body, headers=sent,
                                environ_overrides={"REMOTE_ADDR": address})

    def send(self, **fields):
        body = self.body(**fields)
        return self.post(body, self.sign(body))
