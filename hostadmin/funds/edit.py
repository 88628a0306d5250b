"""The edit preview: what an added-funds correction would write, shown before and after, then rolled back."""
from dataclasses import dataclass

from hostadmin.extensions import db
from hostadmin.funds import cleared, service
from hostadmin.ledger import service as ledger
from hostadmin.ledger.models import Account


@dataclass
class EditPreview:
    before: dict          # snapshot plus host_fee, net
    after: dict
    changed: list         # field names
    balances: list        # [(collective name, before, after)]
    reversed_rows: list   # [dict] rows the reversal cancels
    reversal_rows: list
    new_rows: list
    closed_note: str | None
    version: int


def preview_edit(host, user, order_id, **changes):
    """Run the edit for real inside the request's transaction, describe it, and roll it all back.

    The preview thus refuses what the confirm would refuse and shows the balances it would leave.
    """
    try:
        order = service._lock_paid_added_funds(host, [order_id], {order_id: changes.get("expected_version")})[0]
        version = order.version
        collectives = {order.to_account_id} | ({changes["collective"].id} if changes.get("collective") else set())
        before_balances = ledger.balances(host, sorted(collectives))
        edited = service._edit(host, user, order_id, **changes)
        after_balances = ledger.balances(host, sorted(collectives))
        names = {a.id: a.name for a in db.session.query(Account).filter(Account.id.in_(collectives))}
        reversal_day = edited.reversal_rows[0].cleared_at
        original_day = edited.reversed_rows[0].cleared_at
        note = None
        if reversal_day != original_day:
            note = (f"{cleared.month_name(cleared.month_of(host, original_day))} is closed: the reversal lands on "
                    f"today's date, {_day(host, reversal_day)}, not on {_day(host, original_day)}.")
        result = EditPreview(
            before=_with_fees({**edited.before, "collective": edited.original.to_account.name}),
            after=_with_fees({**edited.after, "collective": edited.corrected.to_account.name}), changed=list(edited.changed),
            balances=[(names[c], before_balances[c], after_balances[c]) for c in sorted(collectives, key=names.get)],
            reversed_rows=[_row(host, r) for r in edited.reversed_rows],
            reversal_rows=[_row(host, r) for r in edited.reversal_rows],
            new_rows=[_row(host, r) for r in edited.new_rows], closed_note=note, version=version)
    except Exception as error:
        db.session.rollback()
        service._refuse(error)
    db.session.rollback()
    return result


def _with_fees(snapshot):
    host_fee = ledger.host_fee_of(snapshot["amount"], snapshot["host_fee_bps"])
    return {**snapshot, "host_fee": host_fee, "net": snapshot["amount"] - host_fee - snapshot["processor_fee"]}


def _row(host, row):
    return {"kind": row.kind, "account": row.account.name, "counterparty": row.counterparty.name,
            "amount": row.amount, "currency": row.currency, "cleared_on": _day(host, row.cleared_at)}


def _day(host, moment):
    return moment.astimezone(cleared.zone_of(host)).date().isoformat()
