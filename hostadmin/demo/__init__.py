"""Demo data for the embedded mode."""
