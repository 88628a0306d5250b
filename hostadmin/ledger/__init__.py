"""Hosts, collectives, contributors, orders, expenses and the immutable ledger."""
