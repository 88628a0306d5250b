"""Plaid's error codes (and the sync's own) in words a host admin can act on; the code stays beside them."""
from markupsafe import Markup, escape

# code -> what it means and what to do. Codes not listed keep Plaid's own message.
WORDS = {
    "ITEM_LOGIN_REQUIRED": "The bank wants you to sign in again (a changed password or an expired consent). "
                           "Reconnect to resume syncing.",
    "PENDING_EXPIRATION": "Your consent at the bank ends soon. Reconnect to keep syncing.",
    "PENDING_DISCONNECT": "The bank will stop sharing data soon. Reconnect to keep syncing.",
    "ACCESS_NOT_GRANTED": "The bank was connected without permission to share transactions. Reconnect and "
                          "allow transactions.",
    "NO_ACCOUNTS": "The bank shows no account this connection may read. Reconnect and choose the accounts.",
    "ITEM_NOT_FOUND": "Plaid no longer knows this connection (it was removed there). Connect the bank again.",
    "INVALID_ACCESS_TOKEN": "The stored key for this connection is no longer valid. Connect the bank again.",
    "USER_PERMISSION_REVOKED": "The account holder withdrew access at the bank. Connect it again or remove it.",
    "INSTITUTION_DOWN": "The bank's systems are down. Nothing to do: the sync is tried again later.",
    "INSTITUTION_NOT_RESPONDING": "The bank is not answering right now. Nothing to do: the sync is tried again later.",
    "INSTITUTION_NOT_AVAILABLE": "The bank is unavailable through Plaid for now. The sync is tried again later.",
    "RATE_LIMIT_EXCEEDED": "Too many requests to Plaid in a short time. The sync is tried again shortly.",
    "PRODUCT_NOT_READY": "The bank has not finished preparing the transactions yet. They arrive on a later sync.",
    "INTERNAL_SERVER_ERROR": "Plaid had an internal error. The sync is tried again later.",
    "PLANNED_MAINTENANCE": "Plaid is under planned maintenance. The sync is tried again later.",
    "MUTATION_PERSISTED": "The bank's data kept changing while it was read. The sync is tried again later.",
    "NETWORK_ERROR": "This server could not reach Plaid (network). The sync is tried again later.",
    "DATABASE_UNAVAILABLE": "The database could not be reached during the sync. It is tried again later.",
    "MALFORMED_RESPONSE": "Plaid sent an answer this app could not read. Tell whoever runs this server.",
    "DISCONNECTED": "This connection was disconnected: connect the bank again to sync.",
}


def in_words(code, message=None):
    """The explanation of `code` (or Plaid's `message` when the code is unknown), without the code."""
    return WORDS.get(code or "") or (message or "").strip() or "An error at the bank."


def explain(code, message=None):
    """HTML: the explanation, then the code in <code> (and Plaid's own words on hover, when replaced)."""
    words = in_words(code, message)
    if not code:
        return escape(words)
    title = f' title="{escape(message)}"' if message and code in WORDS else ""
    return Markup(f'{escape(words)} <code class="error-code"{title}>{escape(code)}</code>')
