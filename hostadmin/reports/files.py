"""Report files: written under a temporary name and renamed when complete, so no half file is ever offered."""
import os
from pathlib import Path

from flask import current_app

from hostadmin import csvsafe

FORMATS = ("csv", "xlsx")


def reports_dir():
    """REPORTS_DIR, else <instance>/reports (created on first use)."""
    path = Path(current_app.config.get("REPORTS_DIR") or Path(current_app.instance_path) / "reports")
    path.mkdir(parents=True, exist_ok=True)
    return path


def path_of(file_name):
    """The full path of a stored file name (names are ours, never a user's)."""
    return reports_dir() / file_name


def write(file_name, fmt, rows, on_row=None):
    """Write `rows` (header first) as CSV or XLSX to file_name atomically; return (data rows, size)."""
    return write_to(path_of(file_name), fmt, rows, on_row)


def write_to(final, fmt, rows, on_row=None):
    """Write `rows` to the path `final` through a temporary file in its directory; return (data rows, size)."""
    final = Path(final)
    partial = final.with_name(f".{final.name}.partial-{os.getpid()}")
    try:
        count = (_write_csv if fmt == "csv" else _write_xlsx)(partial, rows, on_row)
        os.replace(partial, final)
    finally:
        if partial.exists():
            partial.unlink()
    return count, final.stat().st_size


def write_chunks(final, chunks):
    """Write byte chunks (e.g. PostgreSQL COPY output) to `final` atomically; return the size."""
    final = Path(final)
    partial = final.with_name(f".{final.name}.partial-{os.getpid()}")
    try:
        with open(partial, "wb") as stream:
            for chunk in chunks:
                stream.write(chunk)
        os.replace(partial, final)
    finally:
        if partial.exists():
            partial.unlink()
    return final.stat().st_size


def remove(file_name):
    """Delete a stored file if it is there."""
    if file_name and path_of(file_name).exists():
        path_of(file_name).unlink()


def _write_csv(path, rows, on_row):
    count = -1
    with open(path, "w", encoding="utf-8", newline="") as stream:
        out = csvsafe.writer(stream, lineterminator="\n")
        for row in rows:
            out.writerow(row)
            count += 1
            if on_row and count:
                on_row(count)
    return max(count, 0)


def _write_xlsx(path, rows, on_row):
    import xlsxwriter  # only XLSX exports need it

    # constant_memory flushes each row to disk as it is written: flat memory whatever the size.
    workbook = xlsxwriter.Workbook(str(path), {"constant_memory": True, "strings_to_formulas": False,
                                              "strings_to_urls": False, "strings_to_numbers": False})
    sheet = workbook.add_worksheet("Report")
    count = -1
    for index, row in enumerate(rows):
        for column, value in enumerate(row):
            sheet.write_string(index, column, "" if value is None else str(value))
        count += 1
        if on_row and count:
            on_row(count)
    workbook.close()
    return max(count, 0)
