"""The upload page: detection first, a corrected choice re-renders the preview from the stored file, confirm,
history; rows of the statement show its account label."""
import io
import re

import pytest

from hostadmin.extensions import db
from hostadmin.imports import csv_import
from hostadmin.imports.models import ImportRow
from tests.factories import make_host, make_user

STATEMENT = ("Kontoinhaber;Ada Lovelace\nIBAN;DE12 3456 7890 1234 5678 90\n\n"
             "Buchungstag;Empfänger;Verwendungszweck;Betrag;Soll/Haben\n"
             "22.02.18;Vermieter GmbH;Miete Februar;700,00;S\n13.02.18;Club e.V.;Spende;1.250,00;H\n"
             ";;Anfangssaldo;100,00;H\n").encode("cp1252")


@pytest.fixture
def page(client, login_as, db):
    host = make_host(slug="river", currency="EUR")
    admin = make_user(host)
    imp = csv_import.create_csv_import(host, admin, "Sparkasse", "DE12 3456")
    db.session.commit()
    login_as(admin)
    return imp


def token_of(html):
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_upload_detects_corrects_over_htmx_confirms_and_lists_the_upload(client, page):
    imp = page
    preview = client.post(f"/h/river/imports/{imp.id}/preview",
                          data={"csrf_token": client.csrf_token("/"), "file": (io.BytesIO(STATEMENT), "feb.csv")},
                          content_type="multipart/form-data")
    html = preview.get_data(as_text=True)

    assert preview.status_code == 200 and "Vermieter GmbH Miete Februar" in html  # two description columns
    assert 'data-count="new">2<' in html and 'data-count="skipped">1<' in html
    assert 'name="date" list="csv-columns" value="Buchungstag"' in html
    assert 'name="direction_column" list="csv-columns"\n             value="Soll/Haben"' in html
    token = token_of(html)
    form = {"token": token, "encoding": "cp1252", "delimiter": "semicolon", "header_line": "4",
            "date": "Buchungstag", "date_format": "%d.%m.%y", "amount": "Betrag", "description": "Empfänger",
            "direction_column": "Soll/Haben", "direction_in": "H", "decimal_comma": "1", "fixed_currency": "EUR",
            "skip": "Verwendungszweck = Anfangssaldo"}

    corrected = client.post_with_csrf(f"/h/river/imports/{imp.id}/preview", form, htmx=True)
    fragment = corrected.get_data(as_text=True)

    assert corrected.status_code == 200 and "<html" not in fragment and 'id="preview"' in fragment
    assert "Vermieter GmbH" in fragment and "Miete Februar" not in fragment
    done = client.post_with_csrf(f"/h/river/imports/{imp.id}/import", form)

    assert done.status_code == 302
    rows = db.session.query(ImportRow).order_by(ImportRow.date).all()
    assert [(r.amount, r.description, r.statement_line) for r in rows] == [(125000, "Club e.V.", 6),
                                                                          (-70000, "Vermieter GmbH", 5)]
    history = client.get(done.headers["Location"]).get_data(as_text=True)
    assert "feb.csv" in history and "2 new rows imported, 0 already imported, 0 invalid, 1 skipped" in history
    listed = client.get(f"/h/river/imports/{imp.id}/rows").get_data(as_text=True)
    assert '<td class="account">DE12 3456</td>' in listed


def test_a_later_file_that_does_not_fit_the_saved_mapping_is_detected_afresh_with_a_warning(client, page):
    imp = page
    first = client.post(f"/h/river/imports/{imp.id}/preview",
                        data={"csrf_token": client.csrf_token("/"), "file": (io.BytesIO(STATEMENT), "feb.csv")},
                        content_type="multipart/form-data").get_data(as_text=True)
    form = {"token": token_of(first), "date": "Buchungstag", "date_format": "%d.%m.%y", "amount": "Betrag",
            "description": "Verwendungszweck", "direction_column": "Soll/Haben", "direction_in": "H",
            "decimal_comma": "1", "fixed_currency": "EUR", "header_line": "4", "delimiter": "semicolon"}
    assert client.post_with_csrf(f"/h/river/imports/{imp.id}/import", form).status_code == 302

    other = b"When,What,Value\n2026-11-05,Gift,3.00\n"
    html = client.post(f"/h/river/imports/{imp.id}/preview",
                       data={"csrf_token": client.csrf_token("/"), "file": (io.BytesIO(other), "nov.csv")},
                       content_type="multipart/form-data").get_data(as_text=True)

    assert "detected afresh" in html and 'data-count="new">1<' in html


def test_standard_formats_preview_without_a_mapping(client, page):
    from tests.statements import builders
    imp = page
    data = builders.camt053([("R-1", "2026-11-02", "12.00", "Ada"), ("R-2", "2026-11-03", "-1.00", "Fee")])
    html = client.post(f"/h/river/imports/{imp.id}/preview",
                       data={"csrf_token": client.csrf_token("/"), "file": (io.BytesIO(data), "nov.xml")},
                       content_type="multipart/form-data").get_data(as_text=True)

    assert "CAMT.053" in html and 'data-count="new">2<' in html and 'name="date_format"' not in html
    done = client.post_with_csrf(f"/h/river/imports/{imp.id}/import", {"token": token_of(html)})
    assert done.status_code == 302 and db.session.query(ImportRow).count() == 2


def test_an_accountant_cannot_upload(client, login_as, db):
    from hostadmin.auth.models import Role
    host = make_host(slug="river")
    accountant = make_user(host, role=Role.ACCOUNTANT)
    imp = csv_import.create_csv_import(host, accountant, "Bank", "B")
    db.session.commit()
    login_as(accountant)
    response = client.post(f"/h/river/imports/{imp.id}/preview",
                           data={"csrf_token": client.csrf_token("/"),
                                 "file": (io.BytesIO(b"Date,Memo,Amount\n2026-11-01,Gift,1.00\n"), "a.csv")},
                           content_type="multipart/form-data")
    assert response.status_code == 403
