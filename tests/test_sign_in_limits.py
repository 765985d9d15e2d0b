"""The sign-in limits on each store they can live in: the app's database (the default, shared
by every worker), Redis (when RATELIMIT_STORAGE_URI says so) and memory (one process).

Attempts are counted before the password is checked and given back when it was right, so
the limits are exact however many attempts arrive at once. tests/test_served.py runs the
default store through two gunicorn workers."""

from concurrent.futures import ThreadPoolExecutor

import pytest

from consentapp.extensions import limiter

from .conftest import STAFF_PASSWORD, sign_in

REDIS_URL = "redis://127.0.0.1:6379/14"  # a database number of this project's own


@pytest.fixture(params=["database://", REDIS_URL, "memory://"],
                ids=["database", "redis", "memory"])
def app_config(request, app_config):
    return {**app_config, "RATELIMIT_STORAGE_URI": request.param}


@pytest.fixture(autouse=True)
def _empty_store(app):
    with app.app_context():
        limiter.reset()
    yield
    with app.app_context():
        limiter.reset()


def test_the_store_is_the_one_configured(app):
    name = type(limiter.storage).__name__
    assert name == {"database://": "DatabaseStorage", REDIS_URL: "RedisStorage",
                    "memory://": "MemoryStorage"}[app.config["RATELIMIT_STORAGE_URI"]]


def test_five_failures_then_even_the_right_password_waits(auth):
    auth.create("victim@example.org")
    statuses = [auth.login("victim@example.org", password="wrong password!").status_code
                for _ in range(7)]
    assert statuses == [200] * 5 + [429] * 2
    assert auth.login("victim@example.org").status_code == 429
    assert auth.login("vic\x01tim@example.org").status_code == 429
    assert auth.login("victim@example.org\x00").status_code == 429


def test_right_passwords_are_given_back(auth):
    auth.create()
    for _ in range(8):
        assert auth.login().status_code == 302
        auth.logout()
    for _ in range(5):
        assert auth.login(password="wrong password!").status_code == 200
    assert auth.login().status_code == 429


def test_attempts_at_once_are_counted_exactly(app, auth):
    auth.create("victim@example.org")

    def attempt(_number: int) -> int:
        return sign_in(app.test_client(), "victim@example.org", "wrong password!").status_code

    with ThreadPoolExecutor(max_workers=6) as pool:
        statuses = list(pool.map(attempt, range(12)))
    assert sorted(statuses) == [200] * 5 + [429] * 7
    assert sign_in(app.test_client(), "victim@example.org", STAFF_PASSWORD).status_code == 429
