import pytest

from consentapp import create_app
from consentapp.settings import ConfigurationError


def test_testing_flag_comes_from_the_test_config(database_url):
    assert not create_app({"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": database_url}).testing
    assert create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url}).testing


def test_a_production_app_without_secret_key_refuses_to_start(monkeypatch, tmp_path):
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("CONSENT_DEVELOPMENT", raising=False)
    with pytest.raises(ConfigurationError, match="SECRET_KEY is not set"):
        create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/x.sqlite3"})


def test_environment_settings_are_read(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("CLINIC_NAME", "Harbour Dermatology")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite3")
    app = create_app()
    assert app.config["SECRET_KEY"] == "from-the-environment"
    assert app.config["CLINIC_NAME"] == "Harbour Dermatology"
    assert app.config["SQLALCHEMY_DATABASE_URI"].endswith("env.sqlite3")


def test_an_unknown_render_mode_is_refused(database_url):
    with pytest.raises(ConfigurationError, match="PDF_RENDER_MODE"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                    "PDF_RENDER_MODE": "sometimes"})


def test_session_cookie_is_strict_and_http_only(app):
    assert app.config["SESSION_COOKIE_SAMESITE"] == "Strict"
    assert app.config["SESSION_COOKIE_HTTPONLY"] is True
    assert app.config["MAX_CONTENT_LENGTH"] <= 4 * 1024 * 1024


def test_welcome_page_offers_the_procedure(client):
    page = client.get("/")
    assert page.status_code == 200
    assert "Microneedling" in page.text
    assert ">Start" in page.text


def test_creating_the_app_opens_no_database_connection(database_url):
    """gunicorn.conf.py preloads the app in its master and forks the workers from it: a
    connection opened here would be shared by every worker."""
    from consentapp.extensions import db

    app = create_app({"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": database_url})
    with app.app_context():
        pool = db.engine.pool
        assert pool.checkedout() == 0
        assert pool.checkedin() == 0
