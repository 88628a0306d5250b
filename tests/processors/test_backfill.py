"""`processors backfill-cleared-at`: missing cleared dates filled from stored raw timestamps, by the host's choice."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from hostadmin.extensions import db
from hostadmin.funds import periods
from hostadmin.ledger.models import Account, LedgerTransaction
from hostadmin.processors import connections
from hostadmin.processors.models import ProcessorPayment
from tests.factories import make_contributor
from tests.ledger.test_backfill import insert_legacy_group, legacy_inserts_allowed, legacy_inserts_done
from tests.processors.conftest import STRIPE_SECRET

CREATED = int(datetime(2026, 10, 10, 12, tzinfo=timezone.utc).timestamp())
AVAILABLE = int(datetime(2026, 10, 12, tzinfo=timezone.utc).timestamp())


@pytest.fixture
def legacy(river):
    """Two Stripe payments recorded before cleared_at was kept: one readable, one with an absurd timestamp."""
    connections.configure(river, "stripe", material=STRIPE_SECRET, cleared_field="available_on")
    rowers = db.session.scalar(select(Account).where(Account.slug == "river-rowers"))
    giver = make_contributor(river)
    legacy_inserts_allowed()
    recorded = datetime(2026, 10, 15, tzinfo=timezone.utc)
    good, good_ids = insert_legacy_group(river, rowers, giver, 5000, created_at=recorded)
    refund, _ = insert_legacy_group(river, giver, rowers, 5000, created_at=recorded, reverses=good_ids)
    bad, _ = insert_legacy_group(river, rowers, giver, 700, created_at=recorded)
    db.session.add_all([
        ProcessorPayment(host_id=river.id, processor="stripe", ref="ch_old", kind="CONTRIBUTION", amount=5000,
                         currency="USD", group_id=good, raw_timestamps={"created": CREATED, "available_on": AVAILABLE}),
        ProcessorPayment(host_id=river.id, processor="stripe", ref="ch_bad", kind="CONTRIBUTION", amount=700,
                         currency="USD", group_id=bad, raw_timestamps={"created": 0}),
    ])
    legacy_inserts_done()
    yield {"good": good, "refund": refund, "bad": bad}
    _date_the_rest(good, refund, bad)


def cleared_of(group_id):
    db.session.expire_all()
    return set(db.session.scalars(select(LedgerTransaction.cleared_at).where(LedgerTransaction.group_id == group_id)))


def cli(app, *args):
    return app.test_cli_runner().invoke(args=["processors", "backfill-cleared-at", *args])


def test_a_dry_run_counts_per_processor_and_kind_and_writes_nothing(app, legacy):
    result = cli(app, "--host", "river", "--dry-run")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Dry run, nothing written: would back-fill cleared_at on 2 groups of processor payments"
    assert "  stripe CONTRIBUTION: 1 group (2 rows)" in lines and "  stripe REFUND: 1 group (2 rows)" in lines
    assert any("skipped group ch_bad: no usable raw timestamp" in line for line in lines)
    assert cleared_of(legacy["good"]) == {None}


def test_the_hosts_choice_fills_the_group_and_its_reversal_and_a_second_run_changes_nothing(app, legacy):
    assert cli(app, "--host", "river").exit_code == 0
    expected = datetime.fromtimestamp(AVAILABLE, timezone.utc)
    assert cleared_of(legacy["good"]) == {expected} and cleared_of(legacy["refund"]) == {expected}
    assert cleared_of(legacy["bad"]) == {None}  # absurd raw timestamp: left for a person
    payment = db.session.scalar(select(ProcessorPayment).where(ProcessorPayment.ref == "ch_old"))
    assert (payment.cleared_at, payment.cleared_field) == (expected, "available_on")
    again = cli(app, "--host", "river")
    assert again.output.splitlines()[0] == "Back-filled cleared_at on 0 groups of processor payments"


def test_a_date_in_a_closed_month_is_left_alone(app, legacy):
    from hostadmin.ledger.models import Host
    periods.close_month(db.session.scalar(select(Host).where(Host.slug == "river")), None, "2026-10")
    result = cli(app, "--host", "river")
    assert "October 2026 is closed" in result.output
    assert cleared_of(legacy["good"]) == {None}
    periods.reopen_month(db.session.scalar(select(Host).where(Host.slug == "river")), None, "2026-10",
                         "so the teardown may date what is left")


def _date_the_rest(*group_ids):
    """Leave no undated group behind: the teardown checks the ledger invariants (through the back-fill gate)."""
    from sqlalchemy import text, update
    from hostadmin.ledger.guards import BACKFILL_OPTION
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text("SET LOCAL hostadmin.backfill = 'on'"))
    db.session.execute(update(LedgerTransaction.__table__).where(LedgerTransaction.group_id.in_(group_ids),
                                                                 LedgerTransaction.cleared_at.is_(None))
                       .values(cleared_at=datetime(2026, 10, 15, tzinfo=timezone.utc))
                       .execution_options(**{BACKFILL_OPTION: True}))
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(LedgerTransaction.cleared_at.is_(None))) == 0
