"""CSV uploads that are not what a bank exports: a clear message on the page, never a 500 or a huge page."""
import io
import re

import pytest

from hostadmin.imports import csv_import
from hostadmin.imports.models import ImportRow
from tests.factories import make_host, make_user

GOOD = ("Date,Description,Amount,Currency\n"
        "2026-11-01,Gift from Grace,40.00,USD\n2026-11-02,Bank fee,-3.50,USD\n")


@pytest.fixture
def upload(app, db, client, login_as):
    """upload(bytes) posts a statement to a CSV import's preview as the browser does; returns the response."""
    host = make_host(slug="river")
    admin = make_user(host)
    imp = csv_import.create_csv_import(host, admin, "Credit Union", "CU 1")
    db.session.commit()
    login_as(admin)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    def send(data, filename="statement.csv"):
        return client.post(f"/h/river/imports/{imp.id}/preview",
                           data={"csrf_token": client.csrf_token("/"), "file": (io.BytesIO(data), filename)},
                           content_type="multipart/form-data")
    send.imp = imp
    return send


def test_a_binary_file_is_refused_with_a_message(upload):
    response = upload(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x01\x00" + bytes(range(256)) * 40)
    assert response.status_code == 422
    assert "not a text file" in response.get_data(as_text=True)


def test_a_file_with_cr_only_line_ends_is_read_like_any_other(upload):
    response = upload(GOOD.replace("\n", "\r").encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 200, html
    assert 'data-count="new">2<' in html and 'data-count="invalid">0<' in html


def test_a_utf16_file_with_a_byte_order_mark_is_read(upload):
    response = upload(GOOD.replace(",", "\t").encode("utf-16"))  # Excel's "Unicode text"
    assert response.status_code == 200 and 'data-count="new">2<' in response.get_data(as_text=True)


def test_a_128_kib_field_is_refused_with_the_line_number(upload):
    response = upload((GOOD + '2026-11-03,"' + "x" * 131_073 + '",1.00,USD\n').encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "Line 4" in html and "characters" in html


def test_control_characters_in_a_line_are_removed(upload, db):
    response = upload(GOOD.replace("Gift from Grace", "Gift\x07 from\x1b Grace").encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and "Gift from Grace" in html and "\x00" not in html


def test_a_million_column_header_is_refused_with_a_small_page(upload):
    header = ",".join(f"c{i}" for i in range(1_000_000)).encode()
    response = upload(header + b"\n" + b"1," * 999_999 + b"1\n")
    html = response.get_data(as_text=True)
    assert response.status_code == 422
    assert "at most 200 columns" in html or "characters" in html
    assert len(html) < 50_000


def test_too_many_columns_are_refused_and_200_make_a_bounded_page(upload):
    wide = ",".join(["Date", "Description", "Amount", "Currency"] + [f"extra {i}" for i in range(197)])
    refused = upload((wide + "\n2026-11-01,Gift,1.00,USD" + ",x" * 197 + "\n").encode())
    assert refused.status_code == 422 and "201 columns" in refused.get_data(as_text=True)
    fits = ",".join(["Date", "Description", "Amount", "Currency"] + [f"extra {i}" for i in range(196)])
    response = upload((fits + "\n2026-11-01,Gift,1.00,USD" + ",x" * 196 + "\n").encode())
    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'data-count="new">1<' in html
    assert html.count('"extra 195"') == 1  # each column is listed once, not once per field
    assert len(html) < 200_000


def test_a_forged_or_other_imports_token_and_a_content_field_import_nothing(upload, client, app, db):
    imp = upload.imp
    html = upload(GOOD.encode()).get_data(as_text=True)
    token = re.search(r'name="token" value="([^"]+)"', html).group(1)
    other = csv_import.create_csv_import(imp_host(imp), None, "Other", "O 1")
    db.session.commit()
    form = {"csrf_token": client.csrf_token("/"), "content": GOOD, "date": "Date", "date_format": "%Y-%m-%d",
            "description": "Description", "amount": "Amount", "currency": "Currency"}
    for target, fields in ((imp.id, {}), (imp.id, {"token": "../" * 11 + "etc/passwd"}),
                           (imp.id, {"token": "A" * 32}), (other.id, {"token": token})):
        for action in ("preview", "import"):
            response = client.post(f"/h/river/imports/{target}/{action}", data={**form, **fields})
            assert response.status_code == 422 and "no longer kept" in response.get_data(as_text=True)
    assert ImportRow.query.count() == 0


def test_a_stored_upload_expires_after_a_day_and_the_next_upload_sweeps_it(tmp_path):
    from datetime import datetime, timedelta, timezone

    from hostadmin.statements import uploads
    now = datetime(2026, 11, 20, 12, tzinfo=timezone.utc)
    token = uploads.store(tmp_path, 1, 2, b"data", "a.csv", now)

    assert uploads.load(tmp_path, token, 1, 2, now + timedelta(days=1)) == (b"data", "a.csv")
    assert uploads.load(tmp_path, token, 1, 3, now) is None and uploads.load(tmp_path, token, 9, 2, now) is None
    assert uploads.load(tmp_path, token, 1, 2, now + timedelta(days=1, seconds=1)) is None
    uploads.store(tmp_path, 1, 2, b"later", "b.csv", now + timedelta(days=1, seconds=1))
    assert not (tmp_path / f"{token}.bin").exists() and len(list(tmp_path.glob("*.bin"))) == 1


def imp_host(imp):
    from hostadmin.extensions import db
    from hostadmin.ledger.models import Host
    return db.session.get(Host, imp.host_id)
