"""The emulator's service layer: items, accounts, tokens, login state and webhooks (no Flask)."""
import json
import random
import uuid
from datetime import datetime, timedelta, timezone

from . import ids, institutions, objects
from .errors import PlaidAPIError, error_body, invalid_field
from .faults import Faults
from .signing import KeyRing
from .store import Store
from .sync import ChangeLog
from .transactions import TransactionOps
from .webhooks import DEFECTS, Outbox

PUBLIC_TOKEN_TTL = timedelta(minutes=30)
LINK_TOKEN_TTL = timedelta(hours=4)
UPDATE_LINK_TOKEN_TTL = timedelta(minutes=30)


def utc_now() -> datetime:
    """Default clock: the real time, timezone-aware UTC."""
    return datetime.now(timezone.utc)


class Emulator(TransactionOps):
    """Everything the endpoints, control API, CLI and tests do to the emulated Plaid."""

    def __init__(self, state_path, *, environment="sandbox", clock=None, retry_scale=1.0,
                 max_attempts=7, webhook_timeout=10.0):
        self.environment = environment
        self.clock = clock or utc_now
        self.store = Store(state_path)
        self.log = ChangeLog(self.store)
        self.keys = KeyRing(self.store, self.clock)
        self.faults = Faults(self.store)
        self.outbox = Outbox(self.store, self.keys, self.clock, retry_scale=retry_scale,
                             max_attempts=max_attempts, timeout=webhook_timeout)

    def now(self) -> float:
        """Current emulator time as a unix timestamp."""
        return self.clock().timestamp()

    def today(self):
        """Current emulator date (UTC)."""
        return self.clock().date()

    def close(self) -> None:
        """Stop delivery and close the database."""
        self.outbox.stop()
        self.store.close()

    # -- items -----------------------------------------------------------------
    def create_item(self, institution_id=institutions.DEFAULT_INSTITUTION, *, webhook=None,
                    username="user_good", ready=True, share=None, client_user_id=None,
                    days_requested=90, seed=None, history=True) -> str:
        """Create an Item with checking, savings and credit accounts and some history.

        `share` lists template positions the user chose to share (default: all).
        """
        name = institutions.institution_name(institution_id)
        if name is None:
            raise PlaidAPIError("INVALID_INSTITUTION")
        item_id = ids.plaid_id()
        share = set(range(len(institutions.ACCOUNT_TEMPLATES)) if share is None else share)
        with self.store.write() as conn:
            conn.execute(
                "INSERT INTO items(item_id, access_token, institution_id, institution_name,"
                " webhook, username, client_user_id, ready, created_at, days_requested,"
                " last_successful_update) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                (item_id, ids.token("access", self.environment), institution_id, name, webhook,
                 username, client_user_id, int(ready), self.now(), days_requested, self.now()))
            for position, template in enumerate(institutions.ACCOUNT_TEMPLATES):
                self._insert_account(conn, item_id, position, template, position in share)
            if history:
                rng = random.Random(seed)
                self._append_history(conn, item_id, self.accounts(item_id), rng, days_requested)
        return item_id

    def _insert_account(self, conn, item_id, position, template, shared) -> str:
        name, official, kind, subtype, balance, limit = template
        account_id = ids.plaid_id()
        item = conn.execute("SELECT institution_id, username FROM items WHERE item_id=?",
                            (item_id,)).fetchone()
        # The same bank login shows the same real accounts: linking it twice gives new
        # account_ids but the same masks (and persistent ids, where the bank has them).
        login = f"{item['institution_id']}:{item['username']}:{position}"
        rng = random.Random(login)
        data = {"account_id": account_id, "name": name, "official_name": official,
                "type": kind, "subtype": subtype, "mask": f"{rng.randint(0, 9999):04d}",
                "balances": {"current": abs(balance), "limit": limit, "iso_currency_code": "USD",
                             "available": (limit - abs(balance)) if limit else balance}}
        if institutions.INSTITUTIONS[item["institution_id"]]["persistent_ids"]:
            data["persistent_account_id"] = "".join(rng.choice("abcdefghijklmnopqrstuvwxyz0123456789")
                                                    for _ in range(64))
        conn.execute("INSERT INTO accounts VALUES (?,?,?,?,?)",
                     (account_id, item_id, position, int(shared), json.dumps(data)))
        return account_id

    def item(self, item_id: str):
        """Return the items row for `item_id` or raise ITEM_NOT_FOUND."""
        row = self.store.one("SELECT * FROM items WHERE item_id=?", (item_id,))
        if row is None or row["removed"]:
            raise PlaidAPIError("ITEM_NOT_FOUND")
        return row

    def item_for_token(self, access_token) -> dict:
        """Return the items row for an access token, as Plaid validates it."""
        if not isinstance(access_token, str) or not access_token:
            raise PlaidAPIError("INVALID_ACCESS_TOKEN")
        row = self.store.one("SELECT * FROM items WHERE access_token=?", (access_token,))
        if row is None:
            raise PlaidAPIError("INVALID_ACCESS_TOKEN")
        if row["removed"]:
            raise PlaidAPIError("ITEM_NOT_FOUND")
        return row

    @staticmethod
    def require_healthy(item) -> None:
        """Raise the Item's error, as data endpoints do for an Item in error."""
        if item["error"]:
            error = json.loads(item["error"])
            raise PlaidAPIError(error["error_code"], error["error_message"])

    @staticmethod
    def item_error(item) -> dict | None:
        """Return the Item's PlaidError object (without request_id), or None."""
        return json.loads(item["error"]) if item["error"] else None

    def accounts(self, item_id: str, *, shared: bool | None = True) -> list[dict]:
        """Return the Item's stored account data, by default only the shared ones."""
        rows = self.store.all("SELECT shared, data FROM accounts WHERE item_id=? "
                              "ORDER BY position", (item_id,))
        out = []
        for row in rows:
            if shared is None or bool(row["shared"]) == shared:
                data = json.loads(row["data"])
                data["shared"] = bool(row["shared"])
                out.append(data)
        return out

    def add_account(self, item_id: str) -> str:
        """Open a new account at the bank (not shared yet) and send NEW_ACCOUNTS_AVAILABLE."""
        self.item(item_id)
        with self.store.write() as conn:
            position = conn.execute("SELECT COUNT(*) FROM accounts WHERE item_id=?",
                                    (item_id,)).fetchone()[0]
            extra = institutions.EXTRA_ACCOUNT_TEMPLATES
            template = extra[(position - len(institutions.ACCOUNT_TEMPLATES)) % len(extra)]
            account_id = self._insert_account(conn, item_id, position, template, False)
        self.notify(item_id, {"webhook_type": "ITEM", "webhook_code": "NEW_ACCOUNTS_AVAILABLE",
                              "error": None})
        return account_id

    def share_accounts(self, item_id: str, account_ids: list[str], seed=None) -> None:
        """Share accounts with the app (update-mode account selection); backfill their history."""
        known = {a["account_id"]: a for a in self.accounts(item_id, shared=None)}
        unknown = [a for a in account_ids if a not in known]
        if unknown:
            raise invalid_field(f"unknown account_ids: {', '.join(unknown)}")
        newly = [known[a] for a in account_ids if not known[a]["shared"]]
        if not newly:
            return
        item = self.item(item_id)
        with self.store.write() as conn:
            conn.executemany("UPDATE accounts SET shared=1 WHERE account_id=?",
                             [(a["account_id"],) for a in newly])
            has_history = {r[0] for r in conn.execute(
                "SELECT DISTINCT account_id FROM txlog WHERE item_id=?", (item_id,))}
            fresh = [a for a in newly if a["account_id"] not in has_history]
            self._append_history(conn, item_id, fresh, random.Random(seed),
                                 item["days_requested"])
        self.changed(item_id)

    def unshare_accounts(self, item_id: str, account_ids: list[str]) -> None:
        """Stop sharing accounts (deselected in update-mode account selection)."""
        if not account_ids:
            return
        self.item(item_id)
        with self.store.write() as conn:
            conn.executemany("UPDATE accounts SET shared=0 WHERE item_id=? AND account_id=?",
                             [(item_id, a) for a in account_ids])

    def reset_login(self, item_id: str) -> None:
        """Put the Item into ITEM_LOGIN_REQUIRED and send ITEM:ERROR."""
        self.item(item_id)
        error = error_body("ITEM_LOGIN_REQUIRED", with_request_id=False)
        with self.store.write() as conn:
            conn.execute("UPDATE items SET error=?, last_failed_update=? WHERE item_id=?",
                         (json.dumps(error), self.now(), item_id))
        webhook_error = error_body("ITEM_LOGIN_REQUIRED", with_request_id=False,
                                   status_field=True)
        self.notify(item_id, {"webhook_type": "ITEM", "webhook_code": "ERROR",
                              "error": webhook_error})

    def repair_login(self, item_id: str, *, via_link: bool = False) -> None:
        """Clear the Item's error; outside update-mode Link this sends LOGIN_REPAIRED."""
        item = self.item(item_id)
        if not item["error"]:
            return
        with self.store.write() as conn:
            conn.execute("UPDATE items SET error=NULL, last_successful_update=? WHERE item_id=?",
                         (self.now(), item_id))
        if not via_link:
            self.notify(item_id, {"webhook_type": "ITEM", "webhook_code": "LOGIN_REPAIRED"})

    def remove_item(self, item_id: str) -> None:
        """Remove the Item: its access token stops working."""
        with self.store.write() as conn:
            conn.execute("UPDATE items SET removed=1 WHERE item_id=?", (item_id,))

    def set_webhook(self, item_id: str, url: str | None) -> None:
        """Change the Item's webhook URL and acknowledge to the new URL."""
        with self.store.write() as conn:
            conn.execute("UPDATE items SET webhook=? WHERE item_id=?", (url, item_id))
        if url:
            self.notify(item_id, {"webhook_type": "ITEM",
                                  "webhook_code": "WEBHOOK_UPDATE_ACKNOWLEDGED", "error": None,
                                  "new_webhook_url": url})

    def set_ready(self, item_id: str, ready: bool = True) -> None:
        """Mark the Item's transactions ready (or not); readiness is announced by webhook."""
        item = self.item(item_id)
        with self.store.write() as conn:
            conn.execute("UPDATE items SET ready=? WHERE item_id=?", (int(ready), item_id))
        if ready and not item["ready"]:
            self.changed(item_id)

    def force_mutation(self, item_id: str) -> None:
        """Make the next paginated /transactions/sync read fail with the mutation error."""
        self.item(item_id)
        with self.store.write() as conn:
            conn.execute("UPDATE items SET force_mutation=1 WHERE item_id=?", (item_id,))

    def mark_sync_called(self, item) -> None:
        """Remember that the app called sync, which switches on SYNC_UPDATES_AVAILABLE."""
        if not item["sync_called"]:
            with self.store.write() as conn:
                conn.execute("UPDATE items SET sync_called=1 WHERE item_id=?", (item["item_id"],))

    # -- tokens ----------------------------------------------------------------
    def issue_public_token(self, item_id: str) -> str:
        """Mint a single-use public token for the Item, valid 30 minutes."""
        public_token = ids.token("public", self.environment)
        expires = (self.clock() + PUBLIC_TOKEN_TTL).timestamp()
        with self.store.write() as conn:
            conn.execute("INSERT INTO public_tokens VALUES (?,?,?,0)",
                         (public_token, item_id, expires))
        return public_token

    def exchange_public_token(self, public_token) -> tuple[str, str]:
        """Exchange a public token once for (access_token, item_id)."""
        with self.store.write() as conn:
            row = conn.execute("SELECT * FROM public_tokens WHERE token=?",
                               (public_token,)).fetchone()
            if row is None or row["used"] or row["expires_at"] < self.now():
                raise PlaidAPIError("INVALID_PUBLIC_TOKEN")
            conn.execute("UPDATE public_tokens SET used=1 WHERE token=?", (public_token,))
        item = self.item(row["item_id"])
        return item["access_token"], item["item_id"]

    def create_link_token(self, data: dict, item_id: str | None) -> tuple[str, datetime]:
        """Store a link token's configuration; returns (token, expiration)."""
        link_token = ids.token("link", self.environment)
        expiration = self.clock() + (UPDATE_LINK_TOKEN_TTL if item_id else LINK_TOKEN_TTL)
        with self.store.write() as conn:
            conn.execute("INSERT INTO link_tokens VALUES (?,?,?,?)",
                         (link_token, item_id, json.dumps(data), expiration.timestamp()))
        return link_token, expiration.replace(microsecond=0)

    def link_session(self, link_token: str) -> dict:
        """Return the stored configuration of a live link token."""
        row = self.store.one("SELECT * FROM link_tokens WHERE token=?", (link_token,))
        if row is None or row["expires_at"] < self.now():
            raise PlaidAPIError("INVALID_LINK_TOKEN")
        return {**json.loads(row["data"]), "item_id": row["item_id"], "link_token": link_token}

    def start_oauth(self, link_token: str, choice: dict) -> str:
        """Remember what was chosen before Link left for an OAuth bank; returns the oauth_state_id."""
        session = self.link_session(link_token)
        state_id = str(uuid.uuid4())
        data = {k: v for k, v in session.items() if k not in ("item_id", "link_token")}
        data["oauth"] = {"state_id": state_id, **choice}
        with self.store.write() as conn:
            conn.execute("UPDATE link_tokens SET data=? WHERE token=?", (json.dumps(data), link_token))
        return state_id

    def oauth_choice(self, link_token: str, state_id: str) -> dict:
        """What was chosen before the OAuth redirect, for the Link session resuming with state_id."""
        oauth = self.link_session(link_token).get("oauth") or {}
        if not state_id or oauth.get("state_id") != state_id:
            raise invalid_field("oauth_state_id does not belong to this link token")
        return oauth

    # -- webhooks --------------------------------------------------------------
    def notify(self, item_id: str, payload: dict) -> list[int]:
        """Queue a webhook for the Item (if it has a URL); applies an armed defect."""
        item = self.item(item_id)
        url = payload.get("new_webhook_url") or item["webhook"]
        if not url:
            return []
        body = {**payload, "item_id": item_id, "environment": self.environment}
        defect = item["webhook_defect"]
        if defect:
            with self.store.write() as conn:
                conn.execute("UPDATE items SET webhook_defect=NULL WHERE item_id=?", (item_id,))
        return self.outbox.enqueue(item_id, url, body, defect)

    def arm_webhook_defect(self, item_id: str, defect: str) -> None:
        """Make the Item's next webhook arrive with `defect` (see webhooks.DEFECTS)."""
        if defect not in DEFECTS:
            raise invalid_field(f"defect must be one of {', '.join(DEFECTS)}")
        self.item(item_id)
        with self.store.write() as conn:
            conn.execute("UPDATE items SET webhook_defect=? WHERE item_id=?", (defect, item_id))

    def changed(self, item_id: str) -> None:
        """After transaction changes: SYNC_UPDATES_AVAILABLE, once sync has been called."""
        item = self.item(item_id)
        with self.store.write() as conn:
            conn.execute("UPDATE items SET last_successful_update=? WHERE item_id=?",
                         (self.now(), item_id))
        if item["sync_called"] and item["ready"]:
            self.notify(item_id, {"webhook_type": "TRANSACTIONS",
                                  "webhook_code": "SYNC_UPDATES_AVAILABLE",
                                  "initial_update_complete": True,
                                  "historical_update_complete": True})

    def account_json(self, item_id: str) -> list[dict]:
        """Return the Item's shared accounts as AccountBase objects."""
        return [objects.account(a) for a in self.accounts(item_id)]
