"""The host dashboard: collectives and balances."""
