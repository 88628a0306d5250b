"""Monthly reports, ledger exports and the audit trail: built by jobs, downloaded by admins and accountants."""
