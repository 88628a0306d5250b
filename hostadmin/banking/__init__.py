"""Plaid connections: items, bank accounts, the sync engine, connect and new-account flows."""
