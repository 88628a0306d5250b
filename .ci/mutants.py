"""`make mutants`: mutation testing of the money-critical modules, one focused test selection per module.

mutmut 2.5.1 (pinned in requirements-mutants.txt) changes one thing at a time in a module (a comparison, a
constant, a string, a removed call …) and runs that module's tests against each change; a change no test
notices ("survivor") is a bug the suite would let through. Runs happen in a scratch copy of the tree
(`.mutants/tree`), so a crash never leaves a mutated module in your work tree and you can keep editing.
One process, one mutant at a time: the machine is shared.

    python .ci/mutants.py                  # every module below
    python .ci/mutants.py decode ledger    # modules whose path contains one of the words

Writes mutants-report/summary.md (the table and every survivor's diff) and mutants-report/<package>-<module>.txt.
Mutants that only change the text of an error message, and those listed as equivalent below, are not run
(set MUTANTS_MESSAGES=1 to run the message-string ones too and get the score that counts them).
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
# MUTANTS_WORK / MUTANTS_REPORT (outside the work tree) let a second run work on other modules side by side.
WORK = Path(os.environ.get("MUTANTS_WORK") or ROOT / ".mutants")
TREE = WORK / "tree"
REPORT = Path(os.environ.get("MUTANTS_REPORT") or ROOT / "mutants-report")

# Each module with the tests that state its behaviour. Keep a selection to seconds per mutant: mutmut runs it
# once per mutant. Add a module by adding a line.
MODULES = {
    # Fast unit tests first: -x stops at the first failure, so most mutants never reach the sync tests.
    "hostadmin/banking/decode.py": ["tests/banking/test_decode_amounts.py", "tests/banking/test_decode_limits.py",
                                    "tests/banking/test_sync_fields.py", "tests/banking/test_sync.py"],
    "hostadmin/webhooks/verify.py": ["tests/webhooks/test_precheck.py", "tests/webhooks/test_verification.py"],
    "hostadmin/ledger/service.py": ["tests/ledger/test_sums.py", "tests/ledger/test_added_funds_rows.py",
                                    "tests/ledger/test_service_rules.py", "tests/ledger/test_ledger.py"],
    "hostadmin/imports/csv_import.py": ["tests/imports/test_csv_import.py",
                                        "tests/imports/test_csv_statement_rules.py"],
    # The money side, as it lands: amount parsing, cleared-date rules, closed months, reverse-and-recreate.
    "hostadmin/money.py": ["tests/test_money_parse.py", "tests/banking/test_decode_amounts.py"],
    "hostadmin/funds/cleared.py": ["tests/funds/test_cleared.py"],
    "hostadmin/funds/periods.py": ["tests/funds/test_cli_periods.py", "tests/funds/test_cleared.py"],
    "hostadmin/funds/service.py": ["tests/funds/test_service.py", "tests/imports/test_races.py"],
    # Statements: how a bank's amount and date cells become minor units and days.
    "hostadmin/statements/amounts.py": ["tests/statements/test_amounts.py"],
    "hostadmin/statements/dates.py": ["tests/statements/test_csv_reader.py"],
    # Processor webhooks: each signature check and the timestamp rules, with their focused tests.
    "hostadmin/processors/stripe.py": ["tests/processors/test_stripe_verify.py",
                                       "tests/processors/test_stripe_webhooks.py"],
    "hostadmin/processors/wise.py": ["tests/processors/test_wise_verify.py", "tests/processors/test_wise_webhooks.py"],
    "hostadmin/processors/paypal.py": ["tests/processors/test_paypal_events.py",
                                       "tests/processors/test_paypal_webhooks.py"],
    "hostadmin/processors/paypal_certs.py": ["tests/processors/test_paypal_webhooks.py"],
    "hostadmin/processors/timestamps.py": ["tests/processors/test_timestamps.py"],
}
# Browser tests are slow and test pages; the rules above are all stated by the SQLite tests.
MARKERS = "not browser and not postgres"

# Mutants that cannot change behaviour: (module, source line, mutated line, reason). Lines are compared
# stripped; they are excluded from the score and listed in the report with the reason.
DECODE, LEDGER, CSV = "hostadmin/banking/decode.py", "hostadmin/ledger/service.py", "hostadmin/imports/csv_import.py"
FUNDS, VERIFY = "hostadmin/funds/service.py", "hostadmin/webhooks/verify.py"
PART = ("any part size near a billion splits every amount exactly and keeps both parts' sums of up to a billion rows "
        "in 64 bits; only a much finer split (tests/ledger/test_sums.py) overflows")
SAME_GROUP = "every row a group's list holds has the group's one group_id"
QUOTED = "only how much of the refused value the error message quotes"
SAME_DATE = "every row of a ledger group has the same cleared_at, so any row of it gives the same date"
EQUIVALENT = [
    (DECODE, 'iso_currency_code: str | None = None', 'iso_currency_code: str | None = ""',
     "read only by currency_of(), where an empty code falls through `or` exactly like None"),
    (DECODE, 'unofficial_currency_code: str | None = None', 'unofficial_currency_code: str | None = ""',
     "read only by currency_of(), where an empty code falls through `or` exactly like None"),
    (DECODE, 'pending_transaction_id: str | None = None', 'pending_transaction_id: str | None = ""',
     "bank_line() reads it as `… if transaction.pending_transaction_id else None`: '' falls through like None"),
    (DECODE, 'name: str | None = None', 'name: str | None = ""',
     "read only as `name or merchant_name or ''`: an empty name falls through like None"),
    (DECODE, 'merchant_name: str | None = None', 'merchant_name: str | None = ""',
     "bank_line() turns an empty merchant into None and the description falls through `or` alike"),
    (DECODE, 'class BankLine(msgspec.Struct, frozen=True, array_like=True):',
     'class BankLine(msgspec.Struct, frozen=False, array_like=True):',
     "no code assigns to a BankLine; frozen only guards against that"),
    (DECODE, 'class BankLine(msgspec.Struct, frozen=True, array_like=True):',
     'class BankLine(msgspec.Struct, frozen=True, array_like=False):',
     "only the spool's byte layout changes; the spool is written and read by the same class in one run"),
    (LEDGER, 'type=(EntryType.CREDIT if entry.amount > 0 else EntryType.DEBIT).value,',
     'type=(EntryType.CREDIT if entry.amount >= 0 else EntryType.DEBIT).value,',
     "a zero amount is refused a few lines above, so > 0 and >= 0 agree on every row written"),
    (LEDGER, '@dataclass(frozen=True)', '@dataclass(frozen=False)',
     "no code assigns to an Entry; frozen only guards against that"),
    (LEDGER, 'first = originals[0]', 'first = originals[1]',
     "every row of a group has the same currency, description, order and expense (a group has >= 2 rows)"),
    (LEDGER, 'def record_group(host, entries, *, currency, cleared_at, description="", created_by=None,',
     'def record_group(host, entries, *, currency, cleared_at, description="", created_by="",',
     'created_by is only read as `created_by.id if created_by else None`: "" and None both give None'),
    (LEDGER, 'order=None, expense=None, refunds=None, reason=None):',
     'order="", expense=None, refunds=None, reason=None):',
     'order is only read as `order.id if order else None`: "" and None both give None'),
    (LEDGER, 'order=None, expense=None, refunds=None, reason=None):',
     'order=None, expense="", refunds=None, reason=None):',
     'expense is only read as `expense.id if expense else None`: "" and None both give None'),
    (LEDGER, 'def record_order_paid(order, *, cleared_at, created_by=None):',
     'def record_order_paid(order, *, cleared_at, created_by=""):',
     "passed on to record_group, which reads '' like None"),
    (LEDGER, 'def record_expense_paid(expense, *, cleared_at, created_by=None):',
     'def record_expense_paid(expense, *, cleared_at, created_by=""):',
     "passed on to record_group, which reads '' like None"),
    (LEDGER, 'def reverse_group(host, group_id, *, reason, cleared_at=None, created_by=None):',
     'def reverse_group(host, group_id, *, reason, cleared_at="", created_by=None):',
     "read only as `cleared_at or utcnow()`: '' falls through like None"),
    (LEDGER, 'def reverse_group(host, group_id, *, reason, cleared_at=None, created_by=None):',
     'def reverse_group(host, group_id, *, reason, cleared_at=None, created_by=""):',
     "passed on to record_group, which reads '' like None"),
    (LEDGER, 'def unbalanced_groups(session=None):', 'def unbalanced_groups(session=""):',
     "read only as `session or db.session`: '' falls through like None"),
    (CSV, 'new: bool = True', 'new: bool = False',
     "preview() sets `new` on every line before anything reads it; the default is never seen"),
    (CSV, 'new: bool = True', 'new: bool = None',
     "preview() sets `new` on every line before anything reads it; the default is never seen"),
    (CSV, 'error: str | None = None', 'error: str | None = ""',
     "every reader tests `result.error` for truth (import_csv, the route, the template): '' reads as None"),
    (CSV, 'dialect = csv.excel', 'dialect = None',
     "csv.reader(…, None) reads with its default dialect, which is csv.excel"),
    (CSV, 'def guess_mapping(header, saved=None):', 'def guess_mapping(header, saved=""):',
     "read only as `dict(saved or {})`: '' falls through like None"),
    (CSV, r'dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")',
     r'dialect = csv.Sniffer().sniff(text[:4097], delimiters=",;\t|")',
     "one more character of sample for the delimiter sniffer"),
    (CSV, 'key = (line.date, line.amount, line.currency, " ".join(line.description.lower().split()))',
     'key = (line.date, line.amount, line.currency, "XX XX".join(line.description.lower().split()))',
     "the key only counts repeats: any separator keeps equal descriptions equal and others apart"),
    (CSV, 'ImportRow.import_id == imp.id, ImportRow.source_id.in_(ids[start:start + 5000]))))',
     'ImportRow.import_id == imp.id, ImportRow.source_id.in_(ids[start:start + 5001]))))',
     "chunks of the lookup overlap by one id; the set of found ids is the same"),
    (CSV, 'statement = insert(ImportRow).values(values[start:start + 1000]).on_conflict_do_nothing(',
     'statement = insert(ImportRow).values(values[start:start + 1001]).on_conflict_do_nothing(',
     "batches overlap by one row, which ON CONFLICT DO NOTHING skips; RETURNING counts it once"),
    # funds/service.py: every row of a ledger group has the same cleared_at (record_group writes one, the
    # invariants checked after every test refuse anything else), so which row it is read from cannot matter.
    (FUNDS, 'audit.record(host, user, "funds.add", order, after=snapshot(order, group[0].cleared_at))',
     'audit.record(host, user, "funds.add", order, after=snapshot(order, group[1].cleared_at))', SAME_DATE),
    (FUNDS, 'before = snapshot(original, rows[0].cleared_at)', 'before = snapshot(original, rows[1].cleared_at)',
     SAME_DATE),
    (FUNDS, '"cleared_at": (cleared_at or rows[0].cleared_at).isoformat(),',
     '"cleared_at": (cleared_at or rows[1].cleared_at).isoformat(),', SAME_DATE),
    (FUNDS, 'cleared_at = rows[0].cleared_at', 'cleared_at = rows[1].cleared_at', SAME_DATE),
    (FUNDS, 'if contributor is None and contributor_name is not None and clean_line(contributor_name, 200).strip() \\',
     'if contributor is None and contributor_name is not None and clean_line(contributor_name, 201).strip() \\',
     "only tested for being non-blank: a name cut at 200 or 201 characters is blank exactly when it is all blank"),
    (FUNDS, 'and clean_line(contributor_name, 200).strip().lower() != original.from_account.name.lower():',
     'and clean_line(contributor_name, 201).strip().lower() != original.from_account.name.lower():',
     "a name the 201-character cut lets through is cut to 200 by _contributor, which finds the same account"),
    (FUNDS, '@dataclass(frozen=True)', '@dataclass(frozen=False)', "no code assigns to a Reverted's fields"),
    (FUNDS, 'corrected.data = {**corrected.data, "group_id": group[0].group_id}',
     'corrected.data = {**corrected.data, "group_id": group[1].group_id}', SAME_GROUP),
    (FUNDS, '"replaced_by_group_id": group[0].group_id, "reversal_group_id": reversal[0].group_id}',
     '"replaced_by_group_id": group[1].group_id, "reversal_group_id": reversal[0].group_id}', SAME_GROUP),
    (FUNDS, '"replaced_by_group_id": group[0].group_id, "reversal_group_id": reversal[0].group_id}',
     '"replaced_by_group_id": group[0].group_id, "reversal_group_id": reversal[1].group_id}', SAME_GROUP),
    (FUNDS, '_move_bank_link(original, corrected, group[0].group_id)',
     '_move_bank_link(original, corrected, group[1].group_id)', SAME_GROUP),
    (DECODE, 'fields = None', 'fields = ""', "the next line turns anything but a dict into {}"),
    (DECODE, 'raise InvalidLine(f"currency code {shorten(repr(currency), 40)} cannot be stored")',
     'raise InvalidLine(f"currency code {shorten(repr(currency), 41)} cannot be stored")', QUOTED),
    (DECODE, 'raise InvalidLine(f"{field} {shorten(repr(value), 60)} cannot be stored "',
     'raise InvalidLine(f"{field} {shorten(repr(value), 61)} cannot be stored "', QUOTED),
    (DECODE, 'pending_source_id=(_identifier(transaction.pending_transaction_id, "pending_transaction_id")',
     'pending_source_id=(_identifier(transaction.pending_transaction_id, "XXpending_transaction_idXX")',
     "only the field's name in the refusal's message"),
    (VERIFY, '@dataclass(frozen=True)', '@dataclass(frozen=False)', "no code assigns to a verification result"),
    (VERIFY, 'public_key = _public_key(json.dumps(jwk, sort_keys=True))',
     'public_key = _public_key(json.dumps(jwk, sort_keys=False))',
     "the JSON text is only the key of _public_key's cache: another key order loads the same key"),
    (FUNDS, '"replaced_by_group_id": group[0].group_id, "reversal_group_id": reversal[0].group_id}',
     '"replaced_by_group_id": group[0].group_id, "reversal_group_id": reversal[1].group_id}', SAME_GROUP),
    (FUNDS, '"reversal_group_id": reversal[0].group_id, "new_group_id": group[0].group_id,',
     '"reversal_group_id": reversal[1].group_id, "new_group_id": group[0].group_id,', SAME_GROUP),
    (FUNDS, '"reversal_group_id": reversal[0].group_id, "new_group_id": group[0].group_id,',
     '"reversal_group_id": reversal[0].group_id, "new_group_id": group[1].group_id,', SAME_GROUP),
    (FUNDS, '"reversal_cleared_at": reversal[0].cleared_at.isoformat()})',
     '"reversal_cleared_at": reversal[1].cleared_at.isoformat()})', SAME_DATE),
    (VERIFY, 'options={"require": ["iat", "request_body_sha256"], "verify_iat": False,',
     'options={"XXrequireXX": ["iat", "request_body_sha256"], "verify_iat": False,',
     "precheck() refuses a token without a numeric iat or a well-formed request_body_sha256 before this"),
    (VERIFY, 'raise VerificationError("JWT alg is not ES256", repr(str(header.get("alg"))[:20]))',
     'raise VerificationError("JWT alg is not ES256", repr(str(header.get("alg"))[:21]))', QUOTED),
    (VERIFY, 'return json.loads(base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4)), parse_constant=_not_json)',
     'return json.loads(base64.urlsafe_b64decode(segment + "=" * (+len(segment) % 4)), parse_constant=_not_json)',
     "Python's base64 decoder accepts surplus padding: both give the same bytes"),
    (VERIFY, '@functools.lru_cache(maxsize=32)', '@functools.lru_cache(maxsize=33)', "only the size of a cache"),
    (VERIFY, 'deepest, stack = 0, [(value, 1)]', 'deepest, stack = 1, [(value, 1)]',
     "the body is a JSON object (checked before), so its depth is at least 1 either way"),
    (LEDGER, '_PART = 10**9', '_PART = 11**9', PART),
    (LEDGER, '_PART = 10**9', '_PART = 10**10', PART),
    (VERIFY, '@functools.lru_cache(maxsize=32)', '', "only a cache of parsed keys"),
    (FUNDS, 'versions_module.check(order, (versions or {}).get(order_id), f"contribution #{order_id}")',
     'versions_module.check(order, (versions or {}).get(order_id), f"XXcontribution #{order_id}XX")',
     "only how the refusal's message names the contribution"),
    (FUNDS, 'description = clean_line(description or "", 500).strip()',
     'description = clean_line(description or "", 501).strip()',
     "create_order cuts the description to its 500-character column again, with the same ellipsis"),
    (FUNDS, 'db.session.execute(update(Order).where(Order.host_id == host.id, Order.id.in_(ids))',
     'db.session.execute(update(Order).where(Order.host_id != host.id, Order.id.in_(ids))',
     "the no-op UPDATE is there for SQLite, which takes the database's write lock for any UPDATE statement "
     "whatever rows it matches; on PostgreSQL the SELECT ... FOR UPDATE below locks the host's rows"),
    (FUNDS, '.with_for_update().execution_options(populate_existing=True))}',
     '.with_for_update().execution_options(populate_existing=False))}',
     "every caller (a request, a job, a command) reads the orders first here in a fresh session: nothing stale "
     "is in the identity map to refresh"),
]

STATUS = {"ok_killed": "killed", "bad_timeout": "timeout", "ok_suspicious": "suspicious",
          "bad_survived": "survived", "skipped": "skipped", "untested": "untested"}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("only", nargs="*", help="run only modules whose path contains one of these words")
    parser.add_argument("--pytest", action="store_true", help="(mutmut's runner) run the given tests")
    parser.add_argument("--messages", action="store_true", help="run message-string mutants too")
    parser.add_argument("--fresh", action="store_true", help="forget the results of earlier runs")
    parser.add_argument("--report-only", action="store_true",
                        help="write the report from the last (possibly interrupted) run")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # run_module's cleanup runs on SIGTERM too
    if args.pytest:
        sys.exit(run_tests(args.only))
    modules = {m: t for m, t in MODULES.items() if not args.only or any(word in m for word in args.only)}
    if not modules:
        sys.exit(f"no module matches {args.only}; modules: {', '.join(MODULES)}")
    if args.messages:
        os.environ["MUTANTS_MESSAGES"] = "1"
    if not args.report_only:
        copy_tree(args.fresh)
        for module, tests in modules.items():
            run_module(module, [t for t in tests if (TREE / t).exists()])
    results = collect(MODULES)  # every module with results in the cache, run now or before
    write_report(results)
    print((REPORT / "summary.md").read_text().split("\n## ")[0])


def copy_tree(fresh):
    """A fresh copy of every tracked or new (not ignored) file, so the run sees exactly the work tree.

    mutmut's cache is kept unless `fresh`: modules not run this time keep their results for the report, and
    killed mutants of unchanged code are not run again.
    """
    cache = WORK / "mutmut-cache.keep"
    if not fresh and (TREE / ".mutmut-cache").exists():
        shutil.move(TREE / ".mutmut-cache", cache)
    shutil.rmtree(TREE, ignore_errors=True)
    TREE.mkdir(parents=True)
    if cache.exists():
        shutil.move(cache, TREE / ".mutmut-cache")
    listed = subprocess.run(["git", "ls-files", "-z", "-co", "--exclude-standard"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for name in filter(None, listed):
        source = ROOT / name
        if name == ".venv" or not source.exists() and not source.is_symlink():
            continue
        target = TREE / name
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(source, target, follow_symlinks=False)
    # mutmut imports mutmut_config from its working directory and calls pre_mutation before each mutant.
    (TREE / "mutmut_config.py").write_text(
        "import sys\nsys.path.insert(0, '.ci')\nfrom mutants import pre_mutation  # noqa: E402,F401\n")


def pre_mutation(context):
    """mutmut hook: skip mutants that are known equivalent or, unless asked, only change a message."""
    from mutmut import Context, mutate

    mutated, _ = mutate(Context(source=context.source, filename=context.filename,
                                mutation_id=context.mutation_id, dict_synonyms=[]))
    pairs = [(a, b) for a, b in zip(context.source.split("\n"), mutated.split("\n")) if a != b]
    before, after = "\n".join(a for a, _ in pairs).strip(), "\n".join(b for _, b in pairs).strip()
    if equivalent_reason(context.filename, before, after):
        context.skip = True
    elif is_message_only(before, after) and os.environ.get("MUTANTS_MESSAGES") != "1":
        context.skip = True


def run_module(module, tests):
    """mutmut over one module with its test selection; results accumulate in .mutants/tree/.mutmut-cache."""
    runner = " ".join([sys.executable, ".ci/mutants.py", "--pytest", *tests])
    print(f"\n== {module}: {' '.join(tests)}", flush=True)
    started = time.monotonic()
    # The migrated SQLite database is made by the clean run and copied by every mutant's run (migrations
    # import none of the mutated modules), which saves each mutant the seconds of running the migrations.
    template = WORK / "template.sqlite3"
    template.unlink(missing_ok=True)
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HOSTADMIN_TEST_SQLITE_TEMPLATE": str(template)}
    # A mutant times out at 10x the clean run; -m/-b only decide when a killed one is flagged "suspicious".
    # mutmut in a session of its own: stopping this script (Ctrl-C, SIGTERM) stops its worker processes too,
    # which would otherwise go on mutating the scratch tree under the next run.
    process = subprocess.Popen([sys.executable, "-m", "mutmut", "run", "--paths-to-mutate", module,
                                "--tests-dir", "tests", "--runner", runner, "-m", "3", "-b", "20", "--simple-output",
                                "--no-progress"], cwd=TREE, env=env, start_new_session=True)
    try:
        process.wait()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    print(f"   {time.monotonic() - started:.0f} s", flush=True)


def run_tests(tests):
    """One mutant's test run: stop at the first failure; any failure is exit code 1."""
    import pytest

    # Tests parametrised over both databases run their SQLite half: the rules are the same code on both.
    args = ["-x", "-q", "-p", "no:randomly", "-p", "no:cacheprovider", "-m", MARKERS, "-k", "not postgres",
            "--timeout=120", *tests]
    flakes = FlakeWatch()
    code = pytest.main(args, plugins=[flakes])
    if code and flakes.only_flakes():
        code = pytest.main(args)
    # mutmut 2 counts only exit code 1 as "tests failed": a mutant that breaks the import (pytest's 2)
    # would otherwise pass for a survivor.
    return 0 if code == 0 else 1


class FlakeWatch:
    """Tells whether every failure was CPython 3.11's thread-unsafe ast bug, not the mutant."""

    FLAKE = "AST constructor recursion depth mismatch"

    def __init__(self):
        self.failures = []

    def pytest_runtest_logreport(self, report):
        if report.failed:
            self.failures.append(str(report.longrepr))

    def only_flakes(self):
        return bool(self.failures) and all(self.FLAKE in text for text in self.failures)


def collect(modules):
    """{module: [(status, diff), …]} read from mutmut's cache."""
    for module in modules:  # an interrupted run leaves its last mutant applied, the original beside it
        if (TREE / f"{module}.bak").exists():
            shutil.move(TREE / f"{module}.bak", TREE / module)
    os.chdir(TREE)
    sys.path.insert(0, str(TREE))
    from mutmut import cache
    from pony.orm import db_session, select

    cache.init_db(lambda: None)()
    results = {module: [] for module in modules}
    with db_session:
        for mutant in select(m for m in cache.Mutant).order_by(lambda m: (m.line.line_number, m.index)):
            filename = mutant.line.sourcefile.filename
            if filename not in results:
                continue
            diff = cache.get_unified_diff(mutant.id, dict_synonyms=[], update_cache=False)
            status = STATUS.get(mutant.status, mutant.status)
            results[filename].append((mutant.line.line_number, status, diff))
    os.chdir(ROOT)
    return results


def changed_lines(diff):
    before = [line[1:] for line in diff.splitlines() if line.startswith("-") and not line.startswith("---")]
    after = [line[1:] for line in diff.splitlines() if line.startswith("+") and not line.startswith("+++")]
    return "\n".join(before).strip(), "\n".join(after).strip()


def is_message_only(before, after):
    """The mutant only wraps the text of an error message in XX…XX.

    A message is words for a human: three or more, or any words in a raise / an error constructor /
    an "error" entry. Shorter strings elsewhere ("booking date", "h:", "|") are data, and count.
    """
    match = re.search(r"XX(.*?)XX", after)
    if not match or after.replace("XX", "", 2) != before:
        return False
    text = match.group(1)
    if " " not in text.strip() or not any(ch.isalpha() for ch in text):
        return False
    return len(text.split()) >= 3 or bool(re.search(r"\braise\b|Error\(|[\"']error[\"']", before))


def equivalent_reason(module, before, after):
    for mod, source, mutated, reason in EQUIVALENT:
        if mod == module and source.strip() == before and mutated.strip() == after:
            return reason
    return None


def score(killed, total):
    return f"{100 * killed / total:.0f} %" if total else "–"


def write_report(results):
    REPORT.mkdir(exist_ok=True)
    table = ["| module | mutants | killed | score | without message-string mutants | equivalent "
             "| survivors |",
             "| --- | --- | --- | --- | --- | --- | --- |"]
    details = []
    for module, mutants in results.items():
        killed = messages = messages_killed = 0
        equivalents, survivors = [], []
        messages_run = True
        untested = sum(1 for _, status, _ in mutants if status == "untested")
        for line_number, status, diff in mutants:
            if status == "untested":  # an interrupted run: neither killed nor survived
                continue
            before, after = changed_lines(diff)
            reason = equivalent_reason(module, before, after)
            caught = status in ("killed", "timeout")
            if reason and not caught:
                equivalents.append((line_number, before, after, reason))
                continue
            killed += caught
            if is_message_only(before, after):
                messages += 1
                messages_killed += caught
                messages_run = messages_run and status != "skipped"
            elif not caught:
                survivors.append((line_number, status, diff))
        total = len(mutants) - len(equivalents) - untested
        # Without --messages the message-string mutants were not run: no score that counts them.
        overall = score(killed, total) if messages_run else f"(not run: {messages} message mutants)"
        table.append(f"| {module.removeprefix('hostadmin/')} | {total} ({messages} message) | {killed} "
                     f"| {overall} | "
                     f"{score(killed - messages_killed, total - messages)} | {len(equivalents)} | "
                     f"{len(survivors)} |" + (f" ({untested} not run yet)" if untested else ""))
        section = [f"## {module}", "",
                   f"{len(survivors)} surviving mutants (message-string mutants not listed):", ""]
        for line_number, status, diff in survivors:
            section += [f"line {line_number} ({status}):", "```diff", *diff.splitlines()[2:], "```", ""]
        if equivalents:
            section += ["Equivalent mutants (not counted):", ""]
            section += [f"- line {n}: `{b}` → `{a}`: {reason}" for n, b, a, reason in equivalents] + [""]
        details.append("\n".join(section))
        # ledger/service.py and funds/service.py share a stem: the report file is named by the path.
        name = module.removeprefix("hostadmin/").removesuffix(".py").replace("/", "-")
        (REPORT / f"{name}.txt").write_text("\n".join(section) + "\n")
    summary = ["# Mutation testing (make mutants)", "", *table, "",
               "Killed counts timeouts. Message-string mutants only change the text of an error message.", "",
               *details]
    (REPORT / "summary.md").write_text("\n".join(summary) + "\n")


if __name__ == "__main__":
    main()
