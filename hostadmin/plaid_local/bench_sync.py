"""Benchmark: a 100,000-transaction first sync through plaid-python against the emulator."""
import argparse
import json
import tempfile
import time
from pathlib import Path

from plaid.model.transactions_sync_request import TransactionsSyncRequest

from .testing import EmulatorServer


def read_all(client, access_token: str, *, raw: bool, max_pages: int = 0) -> tuple[int, int]:
    """Run the sync loop to the end (or `max_pages`); returns (transactions, pages)."""
    cursor, total, pages = "", 0, 0
    while True:
        kwargs = {"access_token": access_token, "count": 500}
        if cursor:
            kwargs["cursor"] = cursor
        request = TransactionsSyncRequest(**kwargs)
        if raw:
            page = json.loads(client.transactions_sync(request, _preload_content=False).data)
            total += len(page["added"]) + len(page["modified"]) + len(page["removed"])
            cursor, more = page["next_cursor"], page["has_more"]
        else:
            page = client.transactions_sync(request)
            total += len(page.added) + len(page.modified) + len(page.removed)
            cursor, more = page.next_cursor, page.has_more
        pages += 1
        if not more or pages == max_pages:
            return total, pages


def server_page_time(server, access_token: str, pages: int = 20) -> tuple[float, float]:
    """(first page, median page) server time in ms for 500-transaction pages (WSGI test client).

    The first page of a window also compacts the window; later pages reuse it.
    """
    client = server.app.test_client()
    headers = {"PLAID-CLIENT-ID": server.app.config["CLIENT_ID"],
               "PLAID-SECRET": server.app.config["SECRET"]}
    cursor, times = "", []
    for _ in range(pages):
        start = time.perf_counter()
        resp = client.post("/transactions/sync", headers=headers,
                           json={"access_token": access_token, "cursor": cursor, "count": 500})
        times.append(time.perf_counter() - start)
        cursor = resp.get_json()["next_cursor"]
    first = times[0] * 1000
    times.sort()
    return first, times[len(times) // 2] * 1000


def main(argv=None) -> None:
    """Create the busy item, then time both ways of reading it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--total", type=int, default=100_000)
    parser.add_argument("--typed-pages", type=int, default=0,
                        help="stop the typed-model read after N pages (0 = full; it is slow)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        with EmulatorServer(Path(tmp) / "bench.sqlite3", webhook_delivery="manual") as server:
            start = time.perf_counter()
            item = server.busy_host(args.total)
            print(f"generated {args.total:,} transactions in {time.perf_counter() - start:.1f} s")
            first, median = server_page_time(server, item.access_token)
            print(f"server time per 500-transaction page: first {first:.1f} ms "
                  f"(compacts the window), then median {median:.1f} ms")
            client = server.plaid_client()
            for raw in (False, True):
                label = "_preload_content=False + json" if raw else "typed models"
                start = time.perf_counter()
                total, pages = read_all(client, item.access_token, raw=raw,
                                        max_pages=0 if raw else args.typed_pages)
                elapsed = time.perf_counter() - start
                print(f"{label:32s} {total:,} tx in {pages} pages: {elapsed:.2f} s "
                      f"= {total / elapsed:,.0f} tx/s")


if __name__ == "__main__":
    main()
