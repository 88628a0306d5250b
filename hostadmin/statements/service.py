"""Read any statement file and import its new lines: the one path the CLI (and later the page) takes."""
from dataclasses import dataclass, field

from hostadmin.audit import service as audit
from hostadmin.clock import utcnow
from hostadmin.extensions import db
from hostadmin.ledger.models import Host
from hostadmin.imports.models import ImportRun, ImportSource, RunOutcome, TransactionsImport
from hostadmin.statements import camt053, csv_reader, encoding, formats, ids, mt940, ofx, qif, store, table

STALE_MAPPING = "The file does not fit the import's saved mapping; its mapping was detected afresh."


class StatementError(ValueError):
    """A file that cannot be read as a statement at all; the message says why."""


@dataclass
class Reading:
    """A statement read under a mapping, its lines marked new or already imported."""

    format: str
    mapping: dict
    columns: list = field(default_factory=list)
    lines: list = field(default_factory=list)
    invalid: list = field(default_factory=list)
    skipped: int = 0
    warnings: list = field(default_factory=list)
    error: str | None = None  # a CSV mapping that does not fit yet (the page shows it by the mapping)

    @property
    def new_lines(self):
        """Valid lines not imported before."""
        return [line for line in self.lines if line.new]

    @property
    def already_imported(self):
        """Valid lines whose id is already in the import."""
        return sum(1 for line in self.lines if not line.new)


def find_or_create_import(host, user, name, account=None):
    """The host's statement import called `name`, created (account label = `account` or the name) if missing."""
    name = (name or "").strip()[:200]
    if not name:
        raise StatementError("Give the import a name, such as the bank account it comes from.")
    imp = db.session.query(TransactionsImport).filter_by(host_id=host.id, name=name).first()
    if imp is not None:
        if imp.source != ImportSource.CSV.value:
            raise StatementError(f"The import “{name}” is a bank connection, not a statement import.")
        return imp
    imp = TransactionsImport(host_id=host.id, source=ImportSource.CSV.value, name=name,
                             csv_mapping={"account": (account or name).strip()[:200]})
    db.session.add(imp)
    db.session.flush()
    audit.record(host, user, "import.create_csv", imp, after={"name": imp.name})
    return imp


def read(imp, data, given=None, default_currency=None):
    """The Reading of statement bytes: the given mapping, else the import's saved one if the file fits it,
    else the detected one (with a warning when a saved mapping did not fit)."""
    warnings = []
    default_currency = default_currency or db.session.get(Host, imp.host_id).currency
    kind = formats.sniff(data)
    if kind != "csv":
        result = _read_standard(kind, data, given or {}, default_currency)
        ids.assign(result.lines, ids.account_label(imp))
        result.lines = store.mark_new(imp, result.lines, result.invalid)
        return result
    saved = {k: v for k, v in (imp.csv_mapping or {}).items() if k in csv_reader.KEYS}
    if given is not None:
        attempts = [given]
    else:
        attempts = [saved, None] if set(saved) - {"account"} else [None]
    for position, attempt in enumerate(attempts):
        last = position == len(attempts) - 1
        try:
            result = _read_csv(data, attempt, default_currency)
        except (csv_reader.MappingError, encoding.EncodingError, table.TableError) as error:
            if last:
                raise StatementError(str(error)) from None
            warnings.append(STALE_MAPPING)
            continue
        if not last and (result.error or len(result.invalid) * 2 > len(result.lines) + len(result.invalid)):
            warnings.append(STALE_MAPPING)
            continue
        break
    result.warnings = warnings + result.warnings
    ids.assign(result.lines, ids.account_label(imp))
    result.lines = store.mark_new(imp, result.lines, result.invalid)
    return result


def _read_standard(kind, data, given, default_currency):
    """A standard-format statement: the format's own fields, no mapping to choose (QIF takes a currency)."""
    currency = str(given.get("fixed_currency") or default_currency).upper()
    mapping, skipped = {"format": kind}, 0
    try:
        if kind == "ofx":
            lines, invalid = ofx.read(data, currency)
        elif kind == "camt053":
            lines, invalid, skipped = camt053.read(data, currency)
        else:
            text, used = encoding.decode(data, given.get("encoding"))
            mapping["encoding"] = used
            if kind == "mt940":
                lines, invalid = mt940.read(table.normalise(text))
            else:
                mapping["fixed_currency"] = currency
                lines, invalid, skipped = qif.read(table.normalise(text), currency)
    except (ofx.FormatError, encoding.EncodingError) as error:
        raise StatementError(str(error)) from None
    return Reading(format=kind, mapping=mapping, lines=lines, invalid=invalid, skipped=skipped)


def _read_csv(data, given, default_currency):
    given = dict(given or {})
    text, used_encoding = encoding.decode(data, given.get("encoding"))
    reading = csv_reader.read(table.normalise(text), given, default_currency)
    reading.mapping = {"encoding": used_encoding, **reading.mapping}
    return Reading(format="csv", mapping=reading.mapping, columns=reading.columns, lines=reading.lines,
                   invalid=reading.invalid, skipped=reading.skipped, warnings=reading.warnings,
                   error=reading.error)


def upload(host, user, imp, data, filename, given=None, dry_run=False, trigger="upload", progress=None, run=None):
    """(Reading, ImportRun or None): import the new lines, remember the mapping, record the run (one transaction).

    With `dry_run` nothing is written (the caller's transaction is rolled back). `run`: the run a
    background upload recorded when it was queued (statements.background), filled in here.
    """
    result = read(imp, data, given, default_currency=host.currency)
    if result.error:
        db.session.rollback()
        raise StatementError(result.error)
    if dry_run:
        db.session.rollback()
        return result, None
    now = utcnow()
    if run is None:
        run = ImportRun(import_id=imp.id, host_id=host.id, trigger=trigger, started_at=now,
                        filename=(filename or "statement")[:300],
                        uploaded_by=(getattr(user, "email", None) or None) if user is not None else None)
        db.session.add(run)
        db.session.flush()
    added = store.insert(host, imp, run, result.lines, now, progress=progress)
    run.added = added
    run.duplicates = result.already_imported + (len(result.new_lines) - added)
    run.invalid, run.invalid_details = len(result.invalid), result.invalid[:500] or None
    run.skipped = result.skipped
    run.outcome, run.finished_at, run.error = RunOutcome.SUCCEEDED.value, now, None
    # The account label is fixed when the import is created: it is part of every hashed source id.
    if result.format == "csv":  # a standard format has no mapping to remember
        imp.csv_mapping = {**result.mapping, "account": ids.account_label(imp)}
    imp.last_synced_at = now
    audit.record(host, user, "import.upload_csv", imp,
                 data={"run_id": run.id, "filename": run.filename, "format": result.format, "added": run.added,
                       "already_imported": run.duplicates, "invalid": run.invalid, "skipped": run.skipped})
    db.session.commit()
    return result, run


def history(imp, limit=50):
    """The import's uploads, newest first, with their counts and invalid lines."""
    return (db.session.query(ImportRun).filter(ImportRun.import_id == imp.id, ImportRun.filename.isnot(None))
            .order_by(ImportRun.id.desc()).limit(limit).all())
