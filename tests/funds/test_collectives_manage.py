"""Renaming and archiving a collective: names unique on the host in any case, archived collectives take no
new money, and a change based on a stale page is refused (service, pages and CLI)."""
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hostadmin.audit.models import AuditEntry
from hostadmin.auth.models import Role
from hostadmin.extensions import db
from hostadmin.funds import collectives, contributions, expenses, service, versions
from hostadmin.funds.records import RecordError
from hostadmin.ledger.accounts import ValidationError, create_account
from hostadmin.ledger.models import Account, AccountKind
from tests.factories import make_collective, make_host, make_user

NOV_3 = datetime(2026, 11, 3, tzinfo=timezone.utc)


@pytest.fixture
def river(any_app):
    host = make_host(slug="river", host_fee_bps=0)
    rowers = make_collective(host, "River Rowers")
    swimmers = make_collective(host, "Lake Swimmers")
    admin = make_user(host)
    db.session.commit()
    return host, rowers, swimmers, admin


# --------------------------------------------------------------------------- names

def test_a_rename_keeps_the_slug_and_is_audited(river):
    host, rowers, _, admin = river
    collectives.rename(host, admin, rowers, "  River Rowing Club ")
    db.session.expire_all()
    renamed = db.session.get(Account, rowers.id)
    assert (renamed.name, renamed.slug) == ("River Rowing Club", rowers.slug)
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "collective.rename"))
    assert (entry.before, entry.after) == ({"name": "River Rowers"}, {"name": "River Rowing Club"})


@pytest.mark.parametrize("name", ["Lake Swimmers", "lake swimmers", "LAKE SWIMMERS", " lake Swimmers  "])
def test_a_collective_cannot_take_another_collectives_name_in_any_case(river, name):
    host, rowers, _, admin = river
    with pytest.raises(ValidationError, match="already has a collective named 'Lake Swimmers'") as refused:
        collectives.rename(host, admin, rowers, name)
    assert refused.value.field == "name"
    with pytest.raises(ValidationError, match="already has a collective named"):
        collectives.create_collective(host, "swimmers-2", name)
    db.session.expire_all()
    assert db.session.get(Account, rowers.id).name == "River Rowers"
    assert db.session.scalar(select(func.count()).select_from(AuditEntry)) == 0


def test_a_new_case_of_its_own_name_is_a_rename(river):
    host, rowers, _, admin = river
    collectives.rename(host, admin, rowers, "RIVER ROWERS")
    assert db.session.get(Account, rowers.id).name == "RIVER ROWERS"
    with pytest.raises(ValidationError, match="already called"):
        collectives.rename(host, admin, rowers, "RIVER ROWERS")


def test_a_blank_name_is_refused(river):
    host, rowers, _, admin = river
    with pytest.raises(ValidationError, match="give the collective a name"):
        collectives.rename(host, admin, rowers, " \x00 ")


def test_the_database_refuses_two_collectives_named_alike_even_past_the_check(river):
    """Two admins creating "Ada" at the same moment both pass the check; the unique index stops the second."""
    host, rowers, _, _ = river
    db.session.add(Account(host_id=host.id, kind="COLLECTIVE", slug="rowers-again", name="river ROWERS",
                           currency="USD"))
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()


def test_other_hosts_and_other_kinds_may_share_a_collectives_name(river):
    host, rowers, _, _ = river
    lake = make_host(slug="lake")
    make_collective(lake, "River Rowers")
    create_account(host, AccountKind.CONTRIBUTOR, "River Rowers")
    db.session.commit()
    assert db.session.scalar(select(func.count()).where(func.lower(Account.name) == "river rowers")) == 3


def test_a_collective_of_another_host_cannot_be_renamed(river):
    host, _, _, admin = river
    lake = make_host(slug="lake")
    theirs = make_collective(lake, "Lake Club")
    db.session.commit()
    with pytest.raises(ValidationError, match="choose one of the host's collectives"):
        collectives.rename(host, admin, theirs, "Mine now")
    assert db.session.get(Account, theirs.id).name == "Lake Club"


# --------------------------------------------------------------------------- archive

def test_an_archived_collective_keeps_its_history_and_takes_no_new_money(river):
    host, rowers, _, admin = river
    order = service.add_funds(host, admin, collective=rowers, amount=5000, cleared_at=NOV_3, description="Cash")
    service.revert_funds(host, admin, [order.id], reason="Bounced")
    collectives.archive(host, admin, rowers)

    assert rowers.archived_at is not None
    assert collectives.balances_at(host, None, [rowers.id])[0].balance == 0
    assert rowers not in collectives.open_collectives_of(host) and rowers in collectives.collectives_of(host)
    with pytest.raises(service.FundsError, match="archived: unarchive it"):
        service.add_funds(host, admin, collective=rowers, amount=100, cleared_at=NOV_3, description="More")
    with pytest.raises(RecordError, match="archived"):
        contributions.create_expected(host, admin, collective=rowers, contributor_name="Ann", amount=100)
    with pytest.raises(RecordError, match="archived"):
        expenses.record_expense(host, admin, collective=rowers, payee_name="Boat shop", amount=100,
                                description="Oars")

    collectives.unarchive(host, admin, rowers)
    assert rowers.archived_at is None
    service.add_funds(host, admin, collective=rowers, amount=100, cleared_at=NOV_3, description="Back")
    actions = db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("collective.%"))
                                 .order_by(AuditEntry.id)).all()
    assert actions == ["collective.archive", "collective.unarchive"]


def test_a_collective_holding_money_or_expecting_it_cannot_be_archived(river):
    host, rowers, swimmers, admin = river
    service.add_funds(host, admin, collective=rowers, amount=1250, cleared_at=NOV_3, description="Cash")
    with pytest.raises(ValidationError, match=r"a balance of 12.50 USD"):
        collectives.archive(host, admin, rowers)

    contributions.create_expected(host, admin, collective=swimmers, contributor_name="Ann", amount=100)
    expense = expenses.record_expense(host, admin, collective=swimmers, payee_name="Pool", amount=100,
                                      description="Lane hire")
    with pytest.raises(ValidationError, match="1 expected contribution and 1 unpaid expense"):
        collectives.archive(host, admin, swimmers)
    expenses.reject(host, admin, expense.id, reason="Duplicate")
    with pytest.raises(ValidationError, match="1 expected contribution$"):
        collectives.archive(host, admin, swimmers)
    assert db.session.get(Account, rowers.id).archived_at is None
    assert db.session.get(Account, swimmers.id).archived_at is None


def test_archiving_twice_or_unarchiving_an_open_collective_is_refused(river):
    host, rowers, _, admin = river
    with pytest.raises(ValidationError, match="is not archived"):
        collectives.unarchive(host, admin, rowers)
    collectives.archive(host, admin, rowers)
    with pytest.raises(ValidationError, match="already archived"):
        collectives.archive(host, admin, rowers)


# --------------------------------------------------------------------------- versions

def test_every_change_moves_a_collectives_version_and_a_stale_one_is_refused(river):
    host, rowers, _, admin = river
    seen = rowers.version
    collectives.rename(host, admin, rowers, "River Rowing Club", seen)
    assert rowers.version == seen + 1
    with pytest.raises(versions.StaleVersion, match="changed by someone else meanwhile"):
        collectives.rename(host, admin, rowers, "Second admin's name", seen)
    with pytest.raises(versions.StaleVersion):
        collectives.archive(host, admin, rowers, seen)
    db.session.expire_all()
    current = db.session.get(Account, rowers.id)
    assert (current.name, current.archived_at) == ("River Rowing Club", None)


# --------------------------------------------------------------------------- pages

@pytest.fixture
def pages(app):
    host = make_host(slug="river")
    rowers = make_collective(host, "River Rowers")
    make_collective(host, "Lake Swimmers")
    admin = make_user(host)
    accountant = make_user(host, role=Role.ACCOUNTANT, email="books@example.org")
    db.session.commit()
    return host, rowers, admin, accountant


def test_an_admin_renames_a_collective_from_its_page(pages, client, login_as):
    host, rowers, admin, _ = pages
    login_as(admin)
    page = client.get(f"/h/river/collectives/{rowers.slug}").get_data(as_text=True)
    assert "Rename or archive" in page and f'name="version" type="hidden" value="{rowers.version}"' in page

    response = client.post_with_csrf(f"/h/river/collectives/{rowers.slug}/rename",
                                     {"name": "River Rowing Club", "version": str(rowers.version)})
    assert response.status_code == 302
    follow = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "Renamed the collective to River Rowing Club." in follow and "<h1>River Rowing Club" in follow


def test_a_taken_name_is_shown_by_the_field(pages, client, login_as):
    host, rowers, admin, _ = pages
    login_as(admin)
    response = client.post_with_csrf(f"/h/river/collectives/{rowers.slug}/rename",
                                     {"name": "lake swimmers", "version": str(rowers.version)})
    html = response.get_data(as_text=True)
    assert response.status_code == 400
    assert 'id="name-error">This host already has a collective named &#39;Lake Swimmers&#39;.' in html
    assert 'value="lake swimmers"' in html  # what was typed stays in the box


def test_a_rename_from_a_stale_page_is_refused_with_the_current_name_shown(pages, client, login_as):
    host, rowers, admin, _ = pages
    seen = rowers.version
    collectives.rename(host, admin, rowers, "Renamed by Bea")
    login_as(admin)
    response = client.post_with_csrf(f"/h/river/collectives/{rowers.slug}/rename",
                                     {"name": "Renamed by Al", "version": str(seen)})
    html = response.get_data(as_text=True)
    assert response.status_code == 409
    assert "changed by someone else meanwhile" in html and "<h1>Renamed by Bea" in html
    assert f'name="version" type="hidden" value="{seen + 1}"' in html  # a second try is based on what is shown
    assert db.session.get(Account, rowers.id).name == "Renamed by Bea"


def test_an_admin_archives_and_unarchives_from_the_page(pages, client, login_as):
    host, rowers, admin, _ = pages
    login_as(admin)
    response = client.post_with_csrf(f"/h/river/collectives/{rowers.slug}/archive", {"version": str(rowers.version)})
    html = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "takes no new money until it is unarchived" in html and 'id="archived-badge"' in html
    assert ">Add funds<" not in html
    assert "River Rowers" not in client.get("/h/river/funds/add").get_data(as_text=True)

    db.session.expire_all()
    version = db.session.get(Account, rowers.id).version
    response = client.post_with_csrf(f"/h/river/collectives/{rowers.slug}/archive",
                                     {"version": str(version), "unarchive": "1"})
    assert "is no longer archived" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_archiving_a_collective_with_money_says_why_on_the_page(pages, client, login_as):
    host, rowers, admin, _ = pages
    service.add_funds(host, admin, collective=rowers, amount=1250, cleared_at=NOV_3, description="Cash")
    login_as(admin)
    response = client.post_with_csrf(f"/h/river/collectives/{rowers.slug}/archive", {"version": str(rowers.version)})
    assert response.status_code == 400
    assert "cannot be archived while it has a balance of 12.50 USD" in response.get_data(as_text=True)


def test_accountants_see_no_rename_and_cannot_post_one(pages, client, login_as):
    host, rowers, _, accountant = pages
    login_as(accountant)
    assert "Rename or archive" not in client.get(f"/h/river/collectives/{rowers.slug}").get_data(as_text=True)
    for action in ("rename", "archive"):
        response = client.post_with_csrf(f"/h/river/collectives/{rowers.slug}/{action}",
                                         {"name": "Mine", "version": str(rowers.version)})
        assert response.status_code == 403
    assert db.session.get(Account, rowers.id).name == "River Rowers"


def test_an_unknown_collective_is_404_for_every_action(pages, client, login_as):
    host, rowers, admin, _ = pages
    login_as(admin)
    for path in ("nobody/rename", "nobody/archive", "NUL%00/rename"):
        assert client.post_with_csrf(f"/h/river/collectives/{path}", {"name": "x"}).status_code == 404


# --------------------------------------------------------------------------- CLI

def test_the_cli_renames_archives_and_unarchives(pages, cli):
    host, rowers, _, _ = pages
    result = cli("collectives", "rename", "--host", "river", rowers.slug, "--name", "River Rowing Club")
    assert result.exit_code == 0 and result.output.strip().endswith(f"Renamed collective {rowers.slug} to River Rowing Club")
    refused = cli("collectives", "rename", "--host", "river", rowers.slug, "--name", "LAKE swimmers")
    assert refused.exit_code == 1 and "already has a collective named 'Lake Swimmers'" in refused.output
    assert cli("collectives", "archive", "--host", "river", rowers.slug).exit_code == 0
    again = cli("collectives", "archive", "--host", "river", rowers.slug)
    assert again.exit_code == 1 and "already archived" in again.output
    assert cli("collectives", "unarchive", "--host", "river", rowers.slug).exit_code == 0
    unknown = cli("collectives", "archive", "--host", "river", "nobody")
    assert unknown.exit_code == 1 and "no collective 'nobody'" in unknown.output
