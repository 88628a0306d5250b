"""Reading ids and integers from requests: ASCII digits only, bounded to what the columns hold."""
import pytest

from hostadmin.params import MAX_ID, parse_id, parse_ids, parse_int
from tests.factories import make_bank_account, make_host, make_import, make_import_row, make_user


@pytest.mark.parametrize("text", ["", " ", "0", "-1", "+1", "²", "٣", "１２３", "1_000", "1e3", "1.0", "0x1F",
                                  "7\x00", str(MAX_ID + 1), "99999999999999999999", "9" * 400, None])
def test_anything_but_a_plain_number_in_range_is_not_an_id(text):
    assert parse_id(text) is None


def test_ids_and_integers_within_their_bounds_are_read():
    assert parse_id("42") == 42 and parse_id(" 42 ") == 42 and parse_id(str(MAX_ID)) == MAX_ID
    assert parse_ids(["3", "²", "x", "4", "99999999999999999999"]) == [3, 4]
    assert parse_int("-9223372036854775807", minimum=-(2**63 - 1)) == -(2**63 - 1)
    assert parse_int("9223372036854775808") is None and parse_int("-5") is None


def test_bad_numbers_in_urls_forms_and_cursors_are_4xx_or_ignored(app, db, client, login_as):
    host = make_host(slug="river")
    admin = make_user(host)
    row = make_import_row(make_import(host, bank_account=make_bank_account(host)))
    db.session.commit()
    login_as(admin)
    app.config["PROPAGATE_EXCEPTIONS"] = False

    assert client.get("/h/river/imports/row/99999999999999999999").status_code == 404
    assert client.get(f"/h/river/imports/row/{MAX_ID + 1}").status_code == 404
    assert client.get("/h/river/imports/row/٣").status_code == 404
    assert client.get("/h/river/connections/12345678901234567890").status_code == 404
    page = client.get("/h/river/imports/rows?status=ALL&max=99999999999999999999&account=²&after=1~²")
    assert page.status_code == 200 and "is too large" in page.get_data(as_text=True)
    assert "(ignored)" in page.get_data(as_text=True)
    assert f'id="row-{row.id}"' in page.get_data(as_text=True)
    bulk = client.post_with_csrf("/h/river/imports/bulk", {"action": "ignore", "row": ["²", "٣"]}, htmx=True)
    assert bulk.status_code == 422 and "Select some rows first." in bulk.get_data(as_text=True)
    link = client.post_with_csrf(f"/h/river/imports/row/{row.id}/link", {"target_id": "²"}, htmx=True)
    assert link.status_code == 422 and "Give the number to link to." in link.get_data(as_text=True)
    token = client.post_with_csrf("/h/river/connections/link-token", {"item_id": "99999999999999999999"},
                                  htmx=True)
    assert token.status_code == 404
