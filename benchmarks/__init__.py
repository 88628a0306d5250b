"""Benchmarks (`make bench`): figures, never assertions. Each module has main()."""
