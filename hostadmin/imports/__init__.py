"""Transactions imports and their rows: the staging area between the bank and the ledger."""
