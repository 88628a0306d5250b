"""Uploading statements through the shared service: ids, idempotence, saved mappings, runs."""
from datetime import date

import pytest

from hostadmin.extensions import db
from hostadmin.imports import csv_import
from hostadmin.imports.models import ImportRow, ImportRun
from hostadmin.statements import service
from tests.factories import make_host, make_user

BANK = ("Account;CZ65 0800 0000 1920 0014 5399\nPeriod;01.11.2026 - 30.11.2026\n\n"
        "Datum;Popis;Částka;Měna\n")


def statement(*lines):
    return (BANK + "".join(line + "\n" for line in lines)).encode("cp1250")


@pytest.fixture
def world(db):
    host = make_host(slug="river", currency="CZK")
    admin = make_user(host)
    imp = service.find_or_create_import(host, admin, "Fio checking", "CU 1234")
    db.session.commit()
    return host, admin, imp


def test_the_new_reader_keeps_the_pinned_ids_of_todays_csv_import(world):
    host, admin, _ = world
    text = "Date,Description,Amount,Reference\n2026-11-03,Grant ACME,1000.00,\n2026-11-03,Grant ACME,1000.00,\n"
    old = csv_import.create_csv_import(host, admin, "Old", "CU 1234")
    mapping = {"date": "Date", "date_format": "%Y-%m-%d", "description": "Description", "amount": "Amount",
               "fixed_currency": "USD"}

    via_csv = [line.source_id for line in csv_import.preview(old, text, {**mapping, "reference": ""}).lines]
    via_statements = [line.source_id for line in service.read(old, text.encode(), mapping).lines]

    assert via_csv == via_statements == ["h:f04f72880e83d59a85befc739fd512b790b8f590",
                                         "h:162e2b887a84cfa7f7ad3507aeebdf975f69ef43"]


def test_re_upload_and_overlap_import_only_new_lines(world):
    host, admin, imp = world
    first = statement("01.11.2026;Dar od Ady;1 250,00;CZK", "02.11.2026;Poplatek;-35,00;CZK")
    overlap = statement("02.11.2026;Poplatek;-35,00;CZK", "03.11.2026;Nájem;-7 000,00;CZK")

    _, run = service.upload(host, admin, imp, first, "nov-1.csv")
    assert (run.added, run.duplicates, run.invalid, run.skipped) == (2, 0, 0, 0)
    _, again = service.upload(host, admin, imp, first, "nov-1.csv")
    assert (again.added, again.duplicates) == (0, 2)
    result, third = service.upload(host, admin, imp, overlap, "nov-2.csv")

    assert (third.added, third.duplicates) == (1, 1)
    rows = db.session.query(ImportRow).order_by(ImportRow.date).all()
    assert [(r.date, r.amount, r.currency, r.description, r.statement_line) for r in rows] == [
        (date(2026, 11, 1), 125000, "CZK", "Dar od Ady", 5), (date(2026, 11, 2), -3500, "CZK", "Poplatek", 6),
        (date(2026, 11, 3), -700000, "CZK", "Nájem", 6)]


def test_the_mapping_is_remembered_and_a_file_that_does_not_fit_is_detected_afresh(world):
    host, admin, imp = world
    service.upload(host, admin, imp, statement("01.11.2026;Dar;1,00;CZK"), "a.csv")
    saved = dict(imp.csv_mapping)
    assert (saved["encoding"], saved["delimiter"], saved["header_line"], saved["account"], saved["amount"]) == \
        ("cp1250", ";", 4, "CU 1234", "Částka")

    same = service.read(imp, statement("02.11.2026;Dar;2,00;CZK"))
    assert same.warnings == [] and [line.amount for line in same.lines] == [200]

    other = "When,What,Value\n2026-11-05,Gift,3.00\n".encode()
    fresh = service.read(imp, other)
    assert fresh.warnings == [service.STALE_MAPPING]
    assert [(line.date, line.amount, line.currency) for line in fresh.lines] == [(date(2026, 11, 5), 300, "CZK")]


def test_dry_run_writes_nothing_and_a_bad_file_is_a_clear_error(world):
    host, admin, imp = world
    result, run = service.upload(host, admin, imp, statement("01.11.2026;Dar;1,00;CZK"), "a.csv", dry_run=True)

    assert run is None and len(result.new_lines) == 1
    assert db.session.query(ImportRow).count() == 0 and db.session.query(ImportRun).count() == 0
    with pytest.raises(service.StatementError, match="not a text file"):
        service.read(imp, b"\x00\x01\x02PK\x00\x00\x00")
    with pytest.raises(service.StatementError, match="The file is empty"):
        service.read(imp, b"   \n")


def test_a_plaid_import_takes_no_statement(world):
    from tests.factories import make_import
    host, admin, _ = world
    make_import(host, name="Plaid checking")

    with pytest.raises(service.StatementError, match="bank connection"):
        service.find_or_create_import(host, admin, "Plaid checking")


def test_a_mapping_that_does_not_fit_is_shown_and_refused_on_import(world):
    host, admin, imp = world
    data = "Date,Memo,Amount\n2026-11-01,Gift,5.00\n".encode()

    result = service.read(imp, data, {"amount": "Betrag"})

    assert result.error == "The amount column “Betrag” is not in this file." and result.columns[0] == "Date"
    with pytest.raises(service.StatementError, match="Betrag"):
        service.upload(host, admin, imp, data, "a.csv", {"amount": "Betrag"})
    assert db.session.query(ImportRow).count() == 0
