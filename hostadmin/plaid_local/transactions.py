"""Transaction changes on an Item: history, adds, modifications, removals, pending→posted."""
import json
import random
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation

from . import generator, ids, objects
from .errors import invalid_field


def _to_cents(amount) -> int:
    """Plaid-signed amount (JSON number) to integer cents."""
    return int(round(float(amount) * 100))


def _exact_amount(amount) -> float:
    """A spec's amount as the JSON number Plaid would send, keeping every decimal (KWD has three)."""
    value = Decimal(str(amount))
    if not value.is_finite():
        raise ValueError(f"amount {amount!r} is not a number")
    return float(value)


# Keys Plaid may leave out of a Transaction; a spec's `omit` drops them from the wire object.
OMITTABLE = frozenset({"authorized_date", "authorized_datetime", "merchant_name", "merchant_entity_id",
                       "pending_transaction_id", "name", "iso_currency_code", "unofficial_currency_code",
                       "logo_url", "website", "check_number", "transaction_code", "account_owner",
                       "category", "category_id", "counterparties", "location", "payment_meta",
                       "personal_finance_category", "personal_finance_category_icon_url", "datetime"})


class TransactionOps:
    """Mixin for Emulator: every change goes through the Item's append-only change log."""

    def _append_history(self, conn, item_id, accounts, rng, days_requested) -> None:
        if not accounts:
            return
        months = max(1, min(int(days_requested), 730) // 30)
        txns = generator.history(rng, accounts, self.today(), months=months)
        self.log.append(conn, item_id, [("add", t, t["name"].upper()) for t in txns])

    def _account(self, item_id: str, account_id: str | None) -> dict:
        accounts = self.accounts(item_id)
        if account_id is None:
            depository = [a for a in accounts if a["type"] == "depository"]
            if not (depository or accounts):
                raise invalid_field("the item has no shared accounts")
            return (depository or accounts)[0]
        for account in accounts:
            if account["account_id"] == account_id:
                return account
        raise invalid_field(f"account {account_id} is not a shared account of this item")

    def transactions(self, item_id: str) -> dict[str, dict]:
        """Return the Item's current transactions {transaction_id: Transaction}, last-changed last."""
        rows = self.store.all("SELECT transaction_id, data FROM transactions WHERE item_id=? "
                              "ORDER BY rowid", (item_id,))
        return {r["transaction_id"]: json.loads(r["data"]) for r in rows}

    def add_transactions(self, item_id: str, *, count: int = 0, specs: list[dict] = (),
                         account_id: str | None = None, seed=None, days: int = 90,
                         pending_share: float = 0.15, notify: bool = True) -> list[str]:
        """Add `count` realistic transactions and/or explicit `specs`; returns their ids.

        A spec is {amount (Plaid sign), date, name, pending?, authorized_date?,
        merchant_name?, account_id?}.
        """
        self.item(item_id)
        rng = random.Random(seed)
        today = self.today()
        txns = []
        for _ in range(count):
            account = self._account(item_id, account_id)
            pending = rng.random() < pending_share
            day = today - timedelta(days=rng.randint(0, 2) if pending else rng.randint(1, days))
            txns.append(generator.new_transaction(rng, account, day, pending=pending))
        for spec in specs:
            txns.append(self._from_spec(item_id, spec, account_id))
        txns.sort(key=lambda t: t["date"])
        with self.store.write() as conn:
            self.log.append(conn, item_id, [("add", t, (t.get("name") or "").upper()) for t in txns])
        if notify and txns:
            self.changed(item_id)
        return [t["transaction_id"] for t in txns]

    def _from_spec(self, item_id, spec, account_id) -> dict:
        account = self._account(item_id, spec.get("account_id", account_id))
        try:
            day = date.fromisoformat(str(spec.get("date") or self.today()))
            authorized = spec.get("authorized_date")
            authorized = date.fromisoformat(str(authorized)) if authorized else day
            amount = _exact_amount(spec["amount"])
        except (KeyError, ValueError, TypeError, InvalidOperation) as exc:
            raise invalid_field(f"invalid transaction spec: {exc}") from None
        omit = set(spec.get("omit") or ())
        if omit - OMITTABLE:
            raise invalid_field(f"cannot omit {', '.join(sorted(omit - OMITTABLE))}")
        merchant = {"name": spec["merchant_name"]} if spec.get("merchant_name") else None
        unofficial = spec.get("unofficial_currency_code")
        # Plaid sets exactly one of the two codes: an unofficial one (crypto …) comes with a null ISO code.
        iso = spec.get("iso_currency_code", None if unofficial else account["balances"].get("iso_currency_code"))
        txn = objects.transaction(
            transaction_id=ids.plaid_id(), account_id=account["account_id"], amount_cents=0,
            txn_date=day, authorized_date=authorized,
            name=spec.get("name") or spec.get("description") or "TRANSACTION",
            pending=bool(spec.get("pending", False)), merchant=merchant,
            payment_channel=spec.get("payment_channel", "other"),
            iso_currency_code=iso)
        txn.update(amount=amount, unofficial_currency_code=unofficial)
        if "pending_transaction_id" in spec:
            txn["pending_transaction_id"] = spec["pending_transaction_id"]
        if "authorized_date" in spec and not spec["authorized_date"]:
            txn["authorized_date"] = None
        for key in omit:
            del txn[key]
        return txn

    def _current(self, transaction_ids) -> list[tuple[str, dict]]:
        """Return [(item_id, Transaction)] for ids, raising INVALID_FIELD on unknown ones."""
        out = []
        for tid in transaction_ids:
            row = self.store.one("SELECT item_id, data FROM transactions WHERE transaction_id=?",
                                 (tid,))
            if row is None:
                raise invalid_field(f"unknown transaction_id {tid}")
            out.append((row["item_id"], json.loads(row["data"])))
        return out

    def modify_transaction(self, transaction_id: str, **changes) -> dict:
        """Change fields of a transaction (amount in Plaid sign, name, date, merchant_name)."""
        ((item_id, txn),) = self._current([transaction_id])
        if "amount" in changes:
            txn["amount"] = objects.amount_from_cents(_to_cents(changes.pop("amount")))
        if "merchant_name" in changes:
            txn["merchant_name"] = changes.pop("merchant_name")
        for key in ("name", "date", "authorized_date", "personal_finance_category"):
            if key in changes:
                txn[key] = changes.pop(key)
        if changes:
            raise invalid_field(f"cannot modify {', '.join(changes)}")
        with self.store.write() as conn:
            self.log.append(conn, item_id, [("modify", txn, (txn.get("name") or "").upper())])
        self.changed(item_id)
        return txn

    def remove_transactions(self, transaction_ids: list[str]) -> None:
        """Remove transactions (e.g. a pending hold that drops off)."""
        by_item = {}
        for item_id, txn in self._current(transaction_ids):
            by_item.setdefault(item_id, []).append(
                ("remove", (txn["transaction_id"], txn["account_id"]), None))
        with self.store.write() as conn:
            for item_id, ops in by_item.items():
                self.log.append(conn, item_id, ops)
        for item_id in by_item:
            self.changed(item_id)

    def post_pending(self, transaction_ids: list[str], *, amount=None, name=None,
                     posted_date: str | None = None) -> list[str]:
        """Post pending transactions: all removals first, then the posted adds.

        Posting N at once therefore straddles a page boundary for a reader with count=N.
        """
        current = self._current(transaction_ids)
        if any(not txn["pending"] for _, txn in current):
            raise invalid_field("only pending transactions can be posted")
        posted_day = posted_date or self.today().isoformat()
        adds, by_item = [], {}
        for item_id, txn in current:
            posted = dict(txn, transaction_id=ids.plaid_id(), pending=False, date=posted_day,
                          pending_transaction_id=txn["transaction_id"],
                          authorized_date=txn["authorized_date"] or txn["date"])
            if amount is not None:
                posted["amount"] = objects.amount_from_cents(_to_cents(amount))
            if name is not None:
                posted["name"] = name
            by_item.setdefault(item_id, ([], []))
            by_item[item_id][0].append(("remove", (txn["transaction_id"], txn["account_id"]),
                                        None))
            by_item[item_id][1].append(("add", posted, (posted.get("name") or "").upper()))
            adds.append(posted["transaction_id"])
        with self.store.write() as conn:
            for item_id, (removes, posts) in by_item.items():
                self.log.append(conn, item_id, removes + posts)
        for item_id in by_item:
            self.changed(item_id)
        return adds

    def refresh(self, item_id: str, seed=None) -> None:
        """/transactions/refresh: dynamic sandbox users get new activity, others nothing."""
        item = self.item(item_id)
        if item["username"] != "user_transactions_dynamic":
            return
        rng = random.Random(seed)
        pending = [t for t in self.transactions(item_id).values() if t["pending"]]
        if pending:
            self.post_pending([t["transaction_id"] for t in pending])
        self.add_transactions(item_id, count=rng.randint(1, 3), pending_share=1.0,
                              seed=rng.random(), notify=False)
        posted = sorted((t for t in self.transactions(item_id).values() if not t["pending"]),
                        key=lambda t: t["transaction_id"])
        if posted:
            bump = rng.choice(posted)
            self.modify_transaction(bump["transaction_id"], amount=bump["amount"] + 1)
        else:
            self.changed(item_id)

    def busy_host(self, total: int = 100_000, *, institution_id: str = "ins_109508",
                  webhook: str | None = None, seed: int = 1, days: int = 730) -> str:
        """Create an Item holding `total` posted transactions over `days` (bulk insert)."""
        item_id = self.create_item(institution_id, webhook=webhook, history=False)
        rng = random.Random(seed)
        accounts = self.accounts(item_id)
        batch = 20_000
        for start in range(0, total, batch):
            txns = generator.busy_history(rng, accounts, self.today(), min(batch, total - start),
                                          start=start, total=total, days=days)
            with self.store.write() as conn:
                self.log.append(conn, item_id, [("add", t, None) for t in txns])
        return item_id
