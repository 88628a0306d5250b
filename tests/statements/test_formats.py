"""OFX/QFX, QIF, CAMT.053 and MT940: each gives import rows with stable ids; re-upload and overlap add only
new lines."""
from datetime import date

import pytest

from hostadmin.extensions import db
from hostadmin.imports.models import ImportRow
from hostadmin.statements import formats, service
from tests.factories import make_host, make_user
from tests.statements import builders

A = ("T-1", "2026-11-02", "125.00", "Ada Lovelace")
B = ("T-2", "2026-11-03", "-3.50", "Bank fee")
C = ("T-3", "2026-11-04", "-700.00", "Rent")
BUILD = {"ofx": builders.ofx_sgml, "ofx-xml": builders.ofx_xml, "camt053": builders.camt053,
         "mt940": builders.mt940, "qif": builders.qif}


@pytest.fixture
def world(db):
    host = make_host(slug="river", currency="EUR")
    admin = make_user(host)
    imp = service.find_or_create_import(host, admin, "Statements", "NL91")
    db.session.commit()
    return host, admin, imp


@pytest.mark.parametrize("kind", BUILD)
def test_each_format_is_sniffed_and_read_with_signs_dates_and_texts(world, kind):
    _, _, imp = world
    data = BUILD[kind]([A, B])

    result = service.read(imp, data)

    assert result.format == formats.sniff(data) == kind.split("-")[0]
    assert [(line.date, line.amount) for line in result.lines] == [(date(2026, 11, 2), 12500),
                                                                 (date(2026, 11, 3), -350)]
    assert "Ada Lovelace" in result.lines[0].description and result.invalid == []
    assert len({line.source_id for line in result.lines}) == 2


@pytest.mark.parametrize("kind", BUILD)
def test_re_upload_and_an_overlapping_statement_import_only_new_lines(world, kind):
    host, admin, imp = world
    _, first = service.upload(host, admin, imp, BUILD[kind]([A, B]), "a")
    _, again = service.upload(host, admin, imp, BUILD[kind]([A, B]), "a")
    _, overlap = service.upload(host, admin, imp, BUILD[kind]([B, C]), "b")

    assert [(r.added, r.duplicates) for r in (first, again, overlap)] == [(2, 0), (0, 2), (1, 1)]
    assert sorted(row.amount for row in db.session.query(ImportRow)) == [-70000, -350, 12500]


def test_ids_come_from_the_formats_own_identifiers(world):
    _, _, imp = world
    assert [l.source_id for l in service.read(imp, builders.ofx_sgml([A])).lines] == ["ofx:T-1"]
    assert [l.source_id for l in service.read(imp, builders.camt053([A, ("N:77", *B[1:])])).lines] == \
        ["camt:T-1", "camt:77"]
    mt = service.read(imp, builders.mt940([A, A])).lines
    assert [l.source_id.split(":")[1] for l in mt] == ["T-1/BT-1"] * 2 and mt[0].source_id != mt[1].source_id
    assert service.read(imp, builders.qif([A])).lines[0].source_id.startswith("h:")


def test_camt_pending_entries_are_skipped_and_currency_comes_from_the_file(world):
    _, _, imp = world
    result = service.read(imp, builders.camt053([A], currency="CHF", pending=[C]))

    assert [(l.amount, l.currency) for l in result.lines] == [(12500, "CHF")] and result.skipped == 1


def test_a_camt_file_with_an_entity_bomb_or_broken_xml_is_refused(world):
    _, _, imp = world
    bomb = (b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;">]>'
            b'<Document><BkToCstmrStmt><Stmt>&b;</Stmt></BkToCstmrStmt></Document>')
    for data in (bomb, b"<Document><BkToCstmrStmt><Stmt><Ntry>"):
        with pytest.raises(service.StatementError, match="CAMT.053 file cannot be read"):
            service.read(imp, data)


@pytest.mark.parametrize("kind", ["ofx", "ofx-xml"])
def test_an_ofx_evening_posting_keeps_the_banks_own_day(world, kind):
    # 20:00 in New York is 01:00 the next day in UTC: the statement means the bank's day, 2 November.
    _, _, imp = world
    data = (BUILD[kind]([A, B]).replace(b"20261102120000[-5:EST]", b"20261102200000[-5:EST]")
            .replace(b"<DTPOSTED>20261102<", b"<DTPOSTED>20261102200000[-5:EST]<"))
    assert b"20261102200000[-5:EST]" in data

    assert [line.date for line in service.read(imp, data).lines] == [date(2026, 11, 2), date(2026, 11, 3)]


def test_a_broken_ofx_file_is_a_clear_error(world):
    _, _, imp = world
    with pytest.raises(service.StatementError, match="OFX file cannot be read"):
        service.read(imp, b"OFXHEADER:100\nDATA:OFXSGML\n\n<OFX><BANKMSGSRSV1><STMTTRNRS>")


def test_a_qif_amount_that_is_not_one_is_an_invalid_line(world):
    _, _, imp = world
    data = b"!Type:Bank\nD11/02'26\nTabc\nPShop\n^\nD11/03'26\nT-1,234.50\nPRent\n^\n"
    result = service.read(imp, data)

    assert [l.amount for l in result.lines] == [-123450] and result.invalid[0]["line"] == 2


@pytest.fixture
def pg_world(pg_app):
    """The world fixture's host, admin and import, on PostgreSQL (where the binary COPY runs)."""
    host = make_host(slug="pg-river", currency="EUR")
    admin = make_user(host)
    imp = service.find_or_create_import(host, admin, "PG statements")
    db.session.commit()
    return host, admin, imp


@pytest.mark.postgres
def test_overlapping_camt_statements_on_postgresql(pg_world):
    host, admin, imp = pg_world
    service.upload(host, admin, imp, builders.camt053([A, B]), "a")
    _, run = service.upload(host, admin, imp, builders.camt053([B, C]), "b")

    assert (run.added, run.duplicates) == (1, 1)


@pytest.mark.postgres
def test_hostile_text_in_a_statement_is_cleaned_before_postgresql_copies_it(pg_world):
    # Control characters are removed at the boundary before the binary COPY (a NUL makes the file
    # "not a text file" before that: tests/statements/test_service.py).
    host, admin, imp = pg_world
    data = ("Date,Description,Amount,Currency\n"
            "2026-11-01,Bell\x07inside\x1b[31mred\x7f,1.00,EUR\n2026-11-02,Plain,2.00,EUR\n").encode()

    _, run = service.upload(host, admin, imp, data, "hostile.csv")

    assert (run.added, run.invalid) == (2, 0)
    assert sorted(row.description for row in db.session.query(ImportRow)) == ["Bellinside[31mred", "Plain"]
