"""Payment processors (Stripe, Wise, PayPal): connections, verified webhooks in, ledger writes out."""
