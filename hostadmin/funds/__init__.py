"""Money operations on the ledger: added funds and their corrections, cleared dates, closed months."""
