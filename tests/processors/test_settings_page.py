"""The Processors page connects Stripe, Wise and PayPal like `processors configure`: secrets stored encrypted,
never shown again, refusals by the field, audited without the secret, admins only."""
import pytest
from sqlalchemy import select

from hostadmin.audit.models import AuditEntry
from hostadmin.auth.models import Role
from hostadmin.processors import connections
from hostadmin.processors.models import ProcessorConnection
from tests.factories import make_host, make_user
from tests.processors.keys import rsa_key_pair

SECRET = "whsec_page_" + "b" * 32


@pytest.fixture
def river(db):
    host = make_host(slug="river")
    admin = make_user(host)
    accountant = make_user(host, role=Role.ACCOUNTANT, email="books@example.org")
    db.session.commit()
    return host, admin, accountant


def stored(db, processor):
    db.session.expire_all()
    return db.session.scalar(select(ProcessorConnection).where(ProcessorConnection.processor == processor))


def test_an_admin_connects_stripe_from_the_page_and_the_secret_is_never_shown_again(river, client, login_as, db):
    host, admin, _ = river
    login_as(admin)
    page = client.get("/h/river/processors/").get_data(as_text=True)
    assert "Connect Stripe" in page and 'id="stripe-material" name="material" type="password"' in page

    response = client.post_with_csrf("/h/river/processors/configure", {
        "processor": "stripe", "material": SECRET, "api_key": "rk_test_page"})
    assert response.status_code == 303
    found = connections.verification_of(stored(db, "stripe"))
    assert (found.material, found.api_key) == (SECRET, "rk_test_page")

    page = client.get("/h/river/processors/").get_data(as_text=True)
    assert "Stripe is connected" in page and "Replace the Stripe secret" in page and "API key set" in page
    assert SECRET not in page and "rk_test_page" not in page
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "processor.configure"))
    assert entry.user_id == admin.id and entry.after["api_key_set"] is True
    assert SECRET not in repr(entry.after) and "rk_test_page" not in repr(entry.after)


def test_replacing_a_secret_keeps_the_stored_api_key_unless_removed(river, client, login_as, db):
    host, admin, _ = river
    connections.configure(host, "stripe", material=SECRET, api_key="rk_test_kept")
    login_as(admin)
    client.post_with_csrf("/h/river/processors/configure", {"processor": "stripe", "material": SECRET + "c"})
    found = connections.verification_of(stored(db, "stripe"))
    assert (found.material, found.api_key) == (SECRET + "c", "rk_test_kept")
    client.post_with_csrf("/h/river/processors/configure", {"processor": "stripe", "material": SECRET,
                                                              "remove_api_key": "1"})
    assert connections.verification_of(stored(db, "stripe")).api_key is None


def test_wise_takes_its_pem_public_key_and_paypal_its_webhook_id_in_sandbox(river, client, login_as, db):
    host, admin, _ = river
    _, public_pem = rsa_key_pair()
    login_as(admin)
    assert client.post_with_csrf("/h/river/processors/configure", {
        "processor": "wise", "material": public_pem}).status_code == 303
    assert connections.verification_of(stored(db, "wise")).material.strip() == public_pem.strip()
    assert client.post_with_csrf("/h/river/processors/configure", {
        "processor": "paypal", "material": "4JH86294D6297924G", "sandbox": "1"}).status_code == 303
    paypal = stored(db, "paypal")
    assert paypal.sandbox and connections.verification_of(paypal).material == "4JH86294D6297924G"


@pytest.mark.parametrize("processor,material,message", [
    ("stripe", "sk_live_not_a_signing_secret", "starts with whsec_"),
    ("stripe", "", "webhook signing secret is required"),
    ("wise", "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----", "must be a PEM public key"),
    ("paypal", "id with spaces", "PayPal webhook id is letters and digits"),
    ("paypal", "x\x00y", "not valid text"),
])
def test_a_bad_secret_is_refused_by_its_field_and_nothing_is_stored(river, client, login_as, db,
                                                                    processor, material, message):
    host, admin, _ = river
    login_as(admin)
    response = client.post_with_csrf("/h/river/processors/configure", {"processor": processor, "material": material})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert f'id="{processor}-material-error">' in html and message in html
    assert f'<details class="connect-form" id="configure-{processor}" open>' in html
    assert stored(db, processor) is None


def test_an_unknown_processor_is_refused(river, client, login_as, db):
    host, admin, _ = river
    login_as(admin)
    response = client.post_with_csrf("/h/river/processors/configure", {"processor": "venmo", "material": "x"})
    assert response.status_code == 303
    assert "Choose Stripe, Wise or PayPal." in client.get("/h/river/processors/").get_data(as_text=True)


def test_accountants_see_no_form_and_cannot_configure(river, client, login_as, db):
    host, _, accountant = river
    login_as(accountant)
    assert "Connect Stripe" not in client.get("/h/river/processors/").get_data(as_text=True)
    response = client.post_with_csrf("/h/river/processors/configure", {"processor": "stripe", "material": SECRET})
    assert response.status_code == 403 and stored(db, "stripe") is None
