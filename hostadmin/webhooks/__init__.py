"""The Plaid webhook endpoint: verification, the event log, dispatch to jobs."""
