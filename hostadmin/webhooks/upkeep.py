"""Webhook URL upkeep: point every item at PUBLIC_BASE_URL/webhooks/plaid through /item/webhook/update."""
from dataclasses import dataclass

import plaid
import urllib3
from plaid.model.item_webhook_update_request import ItemWebhookUpdateRequest
from sqlalchemy import select

from hostadmin.banking.connect import webhook_url
from hostadmin.banking.crypto import decrypt_token
from hostadmin.banking.models import ItemStatus, PlaidItem
from hostadmin.banking.plaid_client import MALFORMED_RESPONSE_ERRORS, plaid_error, timeout
from hostadmin.extensions import db


@dataclass
class UrlUpdate:
    item: PlaidItem
    result: str  # "updated", "unchanged", or the error


def update_webhook_urls(client, force=False):
    """Call /item/webhook/update for each connected item whose URL differs (all with force); commits per item."""
    url = webhook_url()
    items = db.session.scalars(select(PlaidItem).where(PlaidItem.status != ItemStatus.DISCONNECTED.value)
                               .order_by(PlaidItem.id)).all()
    results = []
    for item in items:
        if item.webhook_url == url and not force:
            results.append(UrlUpdate(item, "unchanged"))
            continue
        request = ItemWebhookUpdateRequest(access_token=decrypt_token(item.access_token_encrypted), webhook=url)
        try:
            client.item_webhook_update(request, _request_timeout=timeout())
        except plaid.ApiException as exc:
            code, _, message = plaid_error(exc)
            results.append(UrlUpdate(item, f"failed: {code or exc.status} {message}"))
            continue
        except (urllib3.exceptions.HTTPError, *MALFORMED_RESPONSE_ERRORS) as exc:
            results.append(UrlUpdate(item, f"failed: {type(exc).__name__}"))
            continue
        item.webhook_url = url
        db.session.commit()
        results.append(UrlUpdate(item, "updated"))
    return results
