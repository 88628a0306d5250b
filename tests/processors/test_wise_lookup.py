"""A Wise transfer no expense records is looked up through Wise's API (a local server answering as Wise does).

The transfer's reference (`expense-<id>`) names the expense; its target amount must be the expense's.
"""
import json

import pytest
from click.testing import CliRunner
from rq.job import Job
from sqlalchemy import select
from werkzeug.wrappers import Request, Response

from hostadmin.audit.models import AuditEntry
from hostadmin.extensions import db, queues
from hostadmin.processors import connections, wise_api
from hostadmin.processors.models import ProcessorConnection
from tests.processors.conftest import events, fresh, work
from tests.processors.test_stripe_fees import free_port
from tests.processors.test_wise_webhooks import expense, expense_of, wise_host, wise_sender  # noqa: F401
from tests.support.servers import serving

TOKEN = "wise-read-only-token"


class FakeWiseApi:
    """GET /v1/transfers/<id> for one bearer token, as Wise's API answers it."""

    def __init__(self):
        self.transfers, self.requests = {}, []

    def __call__(self, environ, start_response):
        request = Request(environ)
        self.requests.append((request.path, request.headers.get("Authorization")))
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            body, status = {"error": "unauthorized", "error_description": "Invalid token"}, 401
        else:
            found = self.transfers.get(request.path.rsplit("/", 1)[-1])
            body, status = (found, 200) if found else ({"errors": [{"code": "NOT_FOUND"}]}, 404)
        return Response(json.dumps(body), status, content_type="application/json")(environ, start_response)


@pytest.fixture
def wise_api_server(app):
    api = FakeWiseApi()
    with serving(api) as base:
        app.config["WISE_API_BASE"] = base
        yield api


@pytest.fixture
def with_token(wise_host):
    connection = db.session.scalar(select(ProcessorConnection))
    connections.configure(wise_host, "wise", material=connections.verification_of(connection).material,
                          api_key=TOKEN)
    return wise_host


def transfer(transfer_id=4242, reference="expense-{id}", value=25.0, currency="USD", **fields):
    return {"id": transfer_id, "reference": reference, "targetValue": value, "targetCurrency": currency,
            "sourceValue": value, "sourceCurrency": currency, "status": "outgoing_payment_sent", **fields}


def test_a_transfer_whose_reference_names_the_expense_pays_it(with_token, wise_sender, expense, wise_api_server):
    wise_api_server.transfers["4242"] = transfer(reference=f"expense-{expense}")
    wise_sender.send(transfer_id=4242)
    work()
    assert expense_of(expense).status == "PAID" and expense_of(expense).wise_transfer_id == "4242"
    assert [e.status for e in events()] == ["APPLIED"]
    assert wise_api_server.requests == [("/v1/transfers/4242", f"Bearer {TOKEN}")]
    audit = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "expense.wise_transfer"))
    assert audit.user_id is None and audit.data == {"wise_transfer_id": "4242"}


@pytest.mark.parametrize("reference", ["Expense 7", "expense #7", "EXPENSE-007", "  expense-7  "])
def test_the_reference_is_read_as_an_admin_types_it(reference):
    assert wise_api.expense_named_by({"reference": reference}) == (7, None)
    assert wise_api.expense_named_by({"details": {"reference": reference}}) == (7, None)


@pytest.mark.parametrize("reference,why", [
    ("", "its Wise reference is empty"), (None, "its Wise reference is empty"),
    ("rent november", "'rent november' names no expense"), ("expense-7 and 8", "names no expense"),
    ("expense-0", "names no expense"), ("expense-" + "9" * 19, "names no expense")])
def test_a_reference_that_names_no_expense_is_said(reference, why):
    found, said = wise_api.expense_named_by({"reference": reference})
    assert found is None and why in said


@pytest.mark.parametrize("answer,why", [
    (dict(value=25.01), "is not the expense's"), (dict(currency="EUR"), "is not the expense's"),
    (dict(reference="expense-999999"), "expense #999999, which is not this host's"),
    (dict(reference="thank you"), "'thank you' names no expense")])
def test_a_transfer_that_does_not_fit_the_expense_waits_saying_why(with_token, wise_sender, expense,
                                                                   wise_api_server, answer, why):
    wise_api_server.transfers["4242"] = transfer(**{"reference": f"expense-{expense}", **answer})
    wise_sender.send(transfer_id=4242)
    work()
    assert expense_of(expense).status == "APPROVED" and expense_of(expense).wise_transfer_id is None
    [event] = events()
    assert event.status == "WAITING" and event.error.startswith("waiting for 4242: ") and why in event.error


def test_a_transfer_wise_does_not_know_waits(with_token, wise_sender, expense, wise_api_server):
    wise_sender.send(transfer_id=4242)
    work()
    assert "Wise does not know this transfer" in events()[0].error


def test_without_a_token_nothing_is_asked_and_the_admin_matches_it(wise_host, wise_sender, expense,
                                                                     wise_api_server):
    wise_sender.send(transfer_id=4242)
    work()
    assert wise_api_server.requests == [] and events()[0].error == "waiting for 4242"


def test_while_wise_is_unreachable_a_retried_job_matches_it_later(app, with_token, wise_sender, expense):
    app.config["WISE_API_BASE"] = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    wise_sender.send(transfer_id=4242)
    work()
    [event] = events()
    assert event.status == "WAITING" and "Wise could not be asked yet" in event.error
    job = Job.fetch(f"wise-lookup-{fresh(with_token).id}-4242", connection=queues.connection)
    assert job.get_status() in ("scheduled", "queued", "deferred", "failed")

    api = FakeWiseApi()
    api.transfers["4242"] = transfer(reference=f"expense-{expense}")
    with serving(api) as base:
        app.config["WISE_API_BASE"] = base
        assert wise_api.lookup_job(fresh(with_token).id, "4242") == "matched"
    assert expense_of(expense).status == "PAID" and events()[0].status == "APPLIED"


def test_a_refund_of_a_known_transfer_does_not_ask_wise(with_token, wise_sender, expense, wise_api_server):
    from hostadmin.processors import service
    service.set_wise_transfer(fresh(with_token), None, expense, "4242")
    wise_sender.send(transfer_id=4242, state="funds_refunded")
    work()
    assert wise_api_server.requests == [] and events()[0].status == "WAITING"


def test_the_cli_configures_wise_with_an_api_token_and_sandbox(app, river, tmp_path):
    from tests.processors.keys import rsa_key_pair
    _, public = rsa_key_pair()
    key = tmp_path / "wise.pem"
    key.write_text(public)
    result = CliRunner().invoke(app.cli, ["processors", "configure", "wise", "--host", "river", "--public-key",
                                          str(key), "--api-token", TOKEN, "--sandbox"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    connection = db.session.scalar(select(ProcessorConnection))
    assert connection.sandbox and connections.verification_of(connection).api_key == TOKEN
    assert wise_api.api_base(connection) == app.config.get("WISE_API_BASE", wise_api.SANDBOX_BASE)
    assert TOKEN not in result.output
