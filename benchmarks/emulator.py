"""Benchmark: a 100,000-transaction full /transactions/sync read through plaid-python from the emulator.

Typed models are read for the first BENCH_TYPED_PAGES pages (all of them take
about four minutes) and extrapolated; the raw JSON read covers every page.
"""
import os

from hostadmin.plaid_local import bench_sync


def main():
    bench_sync.main(["--total", os.environ.get("BENCH_SYNC_TOTAL", "100000"),
                     "--typed-pages", os.environ.get("BENCH_TYPED_PAGES", "20")])
