"""Bank statements: readers for CSV, OFX/QFX, QIF, CAMT.053 and MT940 that all yield StatementLine."""
