"""Sessions end: logout, a new password and deactivation end every copy; idle sessions expire."""
import pytest

from hostadmin.auth.models import Role
from tests.factories import PASSWORD, make_host, make_user


@pytest.fixture
def admin(db):
    host = make_host(slug="river", name="River Host")
    user = make_user(host, Role.ADMIN, email="admin@river.org")
    db.session.commit()
    return user


def copy_of_session(app, client):
    """Another client holding a copy of `client`'s session cookie (as a thief would)."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def test_a_session_cookie_copied_before_logout_is_dead_after_it(app, client, admin, login_as):
    login_as(admin)
    thief = copy_of_session(app, client)
    assert thief.get("/h/river/").status_code == 200

    client.post_with_csrf("/logout")

    response = thief.get("/h/river/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")


def test_logout_ends_the_users_sessions_on_other_devices_too(app, client, admin, login_as):
    login_as(admin)
    laptop = app.test_client()
    assert laptop.login("admin@river.org", PASSWORD).status_code == 302

    client.post_with_csrf("/logout")

    assert laptop.get("/h/river/").status_code == 302


@pytest.mark.parametrize("command", [["users", "password", "admin@river.org", "--password", "a new password!"],
                                     ["users", "deactivate", "admin@river.org"]])
def test_a_new_password_or_deactivation_ends_every_session(app, client, admin, login_as, command):
    login_as(admin)
    assert client.get("/h/river/").status_code == 200

    result = app.test_cli_runner().invoke(args=command)
    assert result.exit_code == 0, result.output

    assert client.get("/h/river/").status_code == 302


def test_the_new_password_signs_in_and_the_old_one_does_not(app, client, admin):
    app.test_cli_runner().invoke(args=["users", "password", "admin@river.org", "--password", "a new password!"])
    assert client.login("admin@river.org", PASSWORD).status_code == 401
    assert client.login("admin@river.org", "a new password!").status_code == 302


def test_a_deactivated_user_cannot_sign_in(app, client, admin):
    app.test_cli_runner().invoke(args=["users", "deactivate", "admin@river.org"])
    assert client.login("admin@river.org", PASSWORD).status_code == 401


def test_a_session_idle_longer_than_the_limit_ends(app, client, admin, login_as, clock):
    assert app.config["SESSION_IDLE_MINUTES"] == 120
    login_as(admin)
    clock.advance(minutes=121)

    response = client.get("/h/river/")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")
    assert "Your session expired" in client.get(response.headers["Location"]).get_data(as_text=True)


def test_activity_keeps_a_session_alive_past_the_idle_limit(app, client, admin, login_as, clock):
    login_as(admin)
    for _ in range(4):
        clock.advance(minutes=100)
        assert client.get("/h/river/").status_code == 200


def test_the_idle_limit_comes_from_the_configuration(app, client, admin, login_as, clock):
    app.config["SESSION_IDLE_MINUTES"] = 5
    login_as(admin)
    clock.advance(minutes=4)
    assert client.get("/h/river/").status_code == 200
    clock.advance(minutes=6)
    assert client.get("/h/river/").status_code == 302
