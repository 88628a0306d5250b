"""CSV statement uploads: column mapping, a preview that validates every line, then the import.

Source ids are stable across uploads: the bank's reference when one is mapped,
otherwise a hash of account, date, amount, currency and description plus the
occurrence number of identical lines in the file. Re-uploading the same or an
overlapping statement therefore imports only the lines not seen before, and the
database's (import_id, source_id) unique key refuses duplicates even under a race.
"""
import csv
import io
from dataclasses import dataclass, field
from datetime import datetime

from hostadmin.audit import service as audit
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.imports.forms import InputError
from hostadmin.imports.models import ImportRow, ImportRun, ImportSource, RunOutcome, TransactionsImport
from hostadmin.money import AmountError, is_currency, parse_amount
from hostadmin.statements import ids, store
from hostadmin.statements.line import StatementLine
from hostadmin.text import clean_line, clean_text

DATE_FORMATS = {"%Y-%m-%d": "2026-11-20", "%m/%d/%Y": "11/20/2026", "%d/%m/%Y": "20/11/2026",
                "%d.%m.%Y": "20.11.2026", "%Y/%m/%d": "2026/11/20"}
MAPPING_KEYS = ("date", "date_format", "description", "amount", "debit", "credit", "currency",
                "fixed_currency", "reference", "negate", "decimal_comma")
GUESSES = {"date": ("date", "posted", "booking date", "transaction date", "value date"),
           "description": ("description", "details", "memo", "payee", "narrative", "name"),
           "amount": ("amount", "value"), "debit": ("debit", "withdrawal", "money out", "paid out"),
           "credit": ("credit", "deposit", "money in", "paid in"), "currency": ("currency", "ccy"),
           "reference": ("reference", "id", "transaction id", "ref", "fitid")}
# A bank statement has a handful of columns and short lines; these bounds keep a hostile or
# mistaken file (a million-column header) from costing gigabytes of memory and page.
MAX_COLUMNS = 200
MAX_LINE_LENGTH = 10_000


Line = StatementLine  # the name this module has always used


@dataclass
class Preview:
    columns: list
    lines: list = field(default_factory=list)
    invalid: list = field(default_factory=list)  # {"line": n, "error": text}
    error: str | None = None

    @property
    def new_lines(self):
        """Valid lines not imported before."""
        return [line for line in self.lines if line.new]

    @property
    def already_imported(self):
        """Valid lines whose source id is already in the import."""
        return sum(1 for line in self.lines if not line.new)


def create_csv_import(host, user, name, account=""):
    """A new CSV import (one per bank account statement series)."""
    name = (name or "").strip()
    if not name:
        raise InputError("Give the import a name, such as the bank account it comes from.")
    imp = TransactionsImport(host_id=host.id, source=ImportSource.CSV.value, name=name[:200],
                             csv_mapping={"account": (account or name).strip()[:200]})
    db.session.add(imp)
    db.session.flush()
    audit.record(host, user, "import.create_csv", imp, after={"name": imp.name})
    db.session.commit()
    return imp


def read_table(content):
    """(header, rows) of CSV text, sniffing the delimiter; InputError if unreadable or too wide."""
    # Control characters out; CR LF and lone CR (old Mac exports) become LF, which csv reads.
    text = clean_text(content.lstrip("\ufeff"))
    if not text.strip():
        raise InputError("The file is empty.")
    long_line = next((number for number, line in enumerate(text.split("\n"), start=1)
                      if len(line) > MAX_LINE_LENGTH), None)
    if long_line is not None:
        raise InputError(f"Line {long_line:,} is longer than {MAX_LINE_LENGTH:,} characters: "
                         "this does not look like a bank statement.")
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    try:
        rows = list(reader)
    except csv.Error as error:  # e.g. a quoted field over many lines beyond the csv module's limit
        raise InputError(f"Line {reader.line_num:,} cannot be read as CSV ({error}).") from None
    header = [column.strip() for column in rows[0]]
    if len(header) < 2:
        raise InputError("The file needs a header line and at least two columns.")
    if len(header) > MAX_COLUMNS:
        raise InputError(f"The header has {len(header):,} columns; a statement can have at most "
                         f"{MAX_COLUMNS} columns.")
    return header, rows[1:]


def guess_mapping(header, saved=None):
    """The saved mapping of the import, else columns guessed from the header names."""
    mapping = dict(saved or {})
    lowered = {column.lower(): column for column in header}
    for key, names in GUESSES.items():
        if not mapping.get(key) or mapping[key] not in header:
            mapping[key] = next((lowered[n] for n in names if n in lowered), "")
    if mapping.get("amount") and (mapping.get("debit") or mapping.get("credit")):
        mapping["debit"] = mapping["credit"] = ""
    mapping.setdefault("date_format", "%Y-%m-%d")
    return mapping


def mapping_from_form(form):
    """The mapping fields of a submitted form."""
    mapping = {key: clean_line(form.get(key) or "").strip() for key in MAPPING_KEYS}
    mapping["negate"] = bool(form.get("negate"))
    mapping["decimal_comma"] = bool(form.get("decimal_comma"))
    mapping["fixed_currency"] = mapping["fixed_currency"].upper()
    return mapping


def preview(imp, content, mapping):
    """Validate every line against the mapping and mark the ones already imported; writes nothing."""
    try:
        header, rows = read_table(content)
    except InputError as error:
        return Preview(columns=[], error=str(error))
    result = Preview(columns=header)
    problem = _mapping_problem(header, mapping)
    if problem:
        result.error = problem
        return result
    index = {column: position for position, column in enumerate(header)}
    for number, values in enumerate(rows, start=2):
        if not any(value.strip() for value in values):
            continue
        try:
            line = _parse_line(number, values, index, mapping)
        except InputError as error:
            result.invalid.append({"line": number, "error": str(error)})
            continue
        line.reference = _cell(values, index, mapping.get("reference"))
        result.lines.append(line)
    ids.assign(result.lines, ids.account_label(imp))
    result.lines = store.mark_new(imp, result.lines, result.invalid)
    return result


def import_csv(host, user, imp, content, mapping, filename):
    """Import the new lines of a previewed file, remember the mapping, record an ImportRun."""
    result = preview(imp, content, mapping)
    if result.error:
        raise InputError(result.error)
    now = utcnow()
    run = ImportRun(import_id=imp.id, host_id=host.id, trigger="upload", started_at=now,
                    filename=(filename or "upload.csv")[:300])
    db.session.add(run)
    db.session.flush()
    added = store.insert(host, imp, run, result.lines, now)
    new_count = len(result.new_lines)
    run.added, run.duplicates = added, result.already_imported + (new_count - added)
    run.invalid, run.invalid_details = len(result.invalid), result.invalid[:500] or None
    run.outcome, run.finished_at = RunOutcome.SUCCEEDED.value, now
    # The account label is fixed when the import is created: it is part of every hashed source id.
    imp.csv_mapping = {**mapping, "account": (imp.csv_mapping or {}).get("account", "")}
    imp.last_synced_at = now
    audit.record(host, user, "import.upload_csv", imp,
                 data={"run_id": run.id, "filename": run.filename, "added": run.added,
                       "already_imported": run.duplicates, "invalid": run.invalid})
    db.session.commit()
    return run


def _mapping_problem(header, mapping):
    for key in ("date", "description"):
        if mapping.get(key) not in header:
            return f"Choose the {key} column."
    if not mapping.get("amount") and not (mapping.get("debit") or mapping.get("credit")):
        return "Choose the amount column, or the debit and credit columns."
    for key in ("amount", "debit", "credit", "currency", "reference"):
        if mapping.get(key) and mapping[key] not in header:
            return f"The {key} column “{mapping[key]}” is not in this file."
    if not mapping.get("currency") and len(mapping.get("fixed_currency") or "") != 3:
        return "Choose the currency column or give the currency (three letters, such as USD)."
    if mapping.get("date_format") not in DATE_FORMATS:
        return "Choose the date format."
    return None


def _cell(values, index, column):
    if not column:
        return ""
    position = index[column]
    return values[position].strip() if position < len(values) else ""


def _parse_line(number, values, index, mapping):
    raw_date = _cell(values, index, mapping["date"])
    try:
        # strptime reads any Unicode digit ("２０２６"): only ASCII dates are dates here.
        day = datetime.strptime(raw_date if raw_date.isascii() else "", mapping["date_format"]).date()
    except ValueError:
        raise InputError(f"“{raw_date}” is not a date like {DATE_FORMATS[mapping['date_format']]}") from None
    # The currency first: it says how many decimals the amount may have (JPY none, KWD three).
    currency = (_cell(values, index, mapping.get("currency")) or mapping.get("fixed_currency") or "").upper()
    if not is_currency(currency):
        raise InputError("the currency is missing" if not currency else f"“{currency}” is not a currency code")
    try:
        amount = _amount(values, index, mapping, currency)
    except AmountError as error:
        raise InputError(str(error)) from None
    if amount == 0:
        raise InputError("the amount is zero")
    description = _cell(values, index, mapping["description"])
    if not description:
        raise InputError("the description is empty")
    return Line(number, day, amount, currency, description, source_id="")


def _amount(values, index, mapping, currency):
    """The line's amount in minor units, positive = money in (AmountError if unreadable or out of bounds)."""
    comma = bool(mapping.get("decimal_comma"))
    if mapping.get("amount"):
        amount = parse_amount(_cell(values, index, mapping["amount"]), currency, comma)
        return -amount if mapping.get("negate") else amount
    debit, credit = _cell(values, index, mapping.get("debit")), _cell(values, index, mapping.get("credit"))
    if bool(debit) == bool(credit):
        raise AmountError("exactly one of debit and credit must be filled in")
    return -abs(parse_amount(debit, currency, comma)) if debit else abs(parse_amount(credit, currency, comma))
