"""`flask webhooks update-urls` points every item at PUBLIC_BASE_URL through /item/webhook/update."""
import json

from hostadmin.banking.crypto import encrypt_token
from hostadmin.banking.models import PlaidItem
from hostadmin.extensions import db


def test_update_urls_moves_every_connected_item_to_the_new_public_url(app, plaid, host):
    linked = [plaid.link_item(webhook="http://old.example.org/webhooks/plaid") for _ in range(2)]
    items = [PlaidItem(host_id=host.id, plaid_item_id=link.item_id, institution_name="First Platypus Bank",
                       access_token_encrypted=encrypt_token(link.access_token),
                       webhook_url="http://old.example.org/webhooks/plaid") for link in linked]
    db.session.add_all(items)
    db.session.commit()
    app.config["PUBLIC_BASE_URL"] = "https://admin.example.org/"

    result = app.test_cli_runner().invoke(args=["webhooks", "update-urls"])

    assert result.exit_code == 0, result.output
    assert "2 ok, 0 failed" in result.output
    new_url = "https://admin.example.org/webhooks/plaid"
    for link, item in zip(linked, items):
        assert plaid.emulator.item(link.item_id)["webhook"] == new_url
        db.session.refresh(item)
        assert item.webhook_url == new_url
        acknowledged = [row for row in plaid.outbox(link.item_id)
                        if json.loads(row["body"])["webhook_code"] == "WEBHOOK_UPDATE_ACKNOWLEDGED"]
        assert [row["url"] for row in acknowledged] == [new_url]

    again = app.test_cli_runner().invoke(args=["webhooks", "update-urls"])
    assert "unchanged" in again.output and "2 ok" in again.output


def test_update_urls_reports_failures_and_exits_non_zero(app, plaid, host):
    db.session.add(PlaidItem(host_id=host.id, plaid_item_id="gone", institution_name="Gone Bank",
                             access_token_encrypted=encrypt_token("access-sandbox-not-a-real-token")))
    db.session.commit()
    result = app.test_cli_runner().invoke(args=["webhooks", "update-urls"])
    assert result.exit_code == 1
    assert "failed: INVALID_ACCESS_TOKEN" in result.output
