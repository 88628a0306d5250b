"""`flask processors configure …`: connections per host, secrets encrypted and never printed."""
import pytest
from sqlalchemy import select

from hostadmin.processors import connections
from hostadmin.processors.models import ProcessorConnection
from tests.factories import make_host
from tests.processors.keys import ec_public_pem, rsa_key_pair

SECRET = "whsec_test_" + "a" * 32


@pytest.fixture
def cli(app, db):
    make_host(slug="river")
    db.session.commit()
    runner = app.test_cli_runner()
    return lambda *args: runner.invoke(args=list(args))


def stored(db, processor):
    db.session.expire_all()
    return db.session.scalar(select(ProcessorConnection).where(ProcessorConnection.processor == processor))


def test_configure_stripe_stores_the_secret_encrypted_and_never_prints_it(cli, db):
    result = cli("processors", "configure", "stripe", "--host", "river", "--webhook-secret", SECRET,
                 "--api-key", "rk_test_123")
    assert result.exit_code == 0, result.output
    assert SECRET not in result.output and "rk_test_123" not in result.output
    assert result.output.rstrip().endswith("/webhooks/stripe/river")
    connection = stored(db, "stripe")
    assert SECRET.encode() not in connection.verification_encrypted
    assert b"rk_test_123" not in connection.api_key_encrypted
    found = connections.verification_of(connection)
    assert (found.material, found.api_key, found.cleared_field) == (SECRET, "rk_test_123", "charge_created")


def test_configure_stripe_again_replaces_the_secret_and_keeps_the_cleared_choice(cli, db):
    cli("processors", "configure", "stripe", "--host", "river", "--webhook-secret", SECRET,
        "--cleared-at", "available_on")
    result = cli("processors", "configure", "stripe", "--host", "river", "--webhook-secret", SECRET + "b")
    assert result.exit_code == 0, result.output
    assert "cleared_at from available_on" in result.output
    found = connections.verification_of(stored(db, "stripe"))
    assert (found.material, found.cleared_field) == (SECRET + "b", "available_on")
    assert db.session.query(ProcessorConnection).count() == 1


@pytest.mark.parametrize("secret", ["", "sk_live_nope", "whsec_a b", "whsec_\x00x"])
def test_configure_stripe_refuses_what_is_not_a_signing_secret(cli, db, secret):
    result = cli("processors", "configure", "stripe", "--host", "river", "--webhook-secret", secret)
    assert result.exit_code == 1
    assert "secret" in result.output
    assert stored(db, "stripe") is None


def test_configure_refuses_an_unknown_host(cli, db):
    result = cli("processors", "configure", "stripe", "--host", "nowhere", "--webhook-secret", SECRET)
    assert result.exit_code == 1 and "no host with slug 'nowhere'" in result.output


def test_configure_wise_reads_an_rsa_public_key_file(cli, db, tmp_path):
    _, pem = rsa_key_pair()
    (tmp_path / "wise.pem").write_text(pem)
    result = cli("processors", "configure", "wise", "--host", "river", "--public-key", str(tmp_path / "wise.pem"))
    assert result.exit_code == 0, result.output
    assert "cleared_at from occurred_at" in result.output
    assert connections.verification_of(stored(db, "wise")).material == pem.strip()


@pytest.mark.parametrize("content,message", [("not a key", "PEM public key"), (None, "RSA key")])
def test_configure_wise_refuses_a_file_that_is_not_an_rsa_public_key(cli, db, tmp_path, content, message):
    (tmp_path / "wise.pem").write_text(content if content is not None else ec_public_pem())
    result = cli("processors", "configure", "wise", "--host", "river", "--public-key", str(tmp_path / "wise.pem"))
    assert result.exit_code == 1 and message in result.output
    assert stored(db, "wise") is None


def test_configure_wise_refuses_a_missing_file(cli, db, tmp_path):
    result = cli("processors", "configure", "wise", "--host", "river", "--public-key", str(tmp_path / "none.pem"))
    assert result.exit_code == 1 and "cannot read the public key file" in result.output


def test_configure_paypal_with_sandbox(cli, db):
    result = cli("processors", "configure", "paypal", "--host", "river", "--webhook-id", "4JH86294D6297924G",
                 "--sandbox")
    assert result.exit_code == 0, result.output
    found = connections.verification_of(stored(db, "paypal"))
    assert (found.material, found.sandbox, found.cleared_field) == ("4JH86294D6297924G", True, "create_time")


@pytest.mark.parametrize("webhook_id", ["", "x" * 101, "a;b", "١٢٣"])
def test_configure_paypal_refuses_a_malformed_webhook_id(cli, db, webhook_id):
    result = cli("processors", "configure", "paypal", "--host", "river", "--webhook-id", webhook_id)
    assert result.exit_code == 1 and "webhook id" in result.output
    assert stored(db, "paypal") is None


def test_the_cleared_date_choice_is_per_processor(cli, db):
    result = cli("processors", "configure", "paypal", "--host", "river", "--webhook-id", "WH1",
                 "--cleared-at", "available_on")
    assert result.exit_code == 2 and "Invalid value for '--cleared-at'" in result.output
    assert stored(db, "paypal") is None
