"""Consent kiosk: a Flask application a clinic runs on its own server."""

import secrets
from pathlib import Path

from flask import Flask

from . import cli, database, errors, i18n, rate_limits, security
from . import config as configuration
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .paths import DEFAULT_FORMS_DIR, TEMPLATES_DIR


def create_app(test_config: dict | None = None) -> Flask:
    app = errors.ConsentFlask(
        __name__, instance_relative_config=True, template_folder=str(TEMPLATES_DIR)
    )
    app.config.update(configuration.defaults(app.instance_path))
    if test_config is None:
        # The clinic's own settings file (flaskr's pattern), then the environment on top.
        app.config.from_pyfile("config.py", silent=True)
        app.config.update(configuration.from_environment())
    else:
        app.config.update(test_config)
    configuration.check(app.config)
    if not app.config.get("SECRET_KEY"):
        # Tests and development only (configuration.check refused all else): sessions
        # last as long as the process, which is what those runs need.
        app.config["SECRET_KEY"] = secrets.token_hex(32)
    app.config["FORMS_DIR"] = Path(app.config.get("FORMS_DIR") or DEFAULT_FORMS_DIR)
    if app.config["SQLALCHEMY_DATABASE_URI"] == configuration.default_database_uri(
        app.instance_path
    ):
        # The default SQLite file lives in instance/, which a fresh checkout does not have.
        Path(app.instance_path).mkdir(parents=True, exist_ok=True)

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    rate_limits.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)

    from .patient import bp as patient_bp
    from .staff import bp as staff_bp

    app.register_blueprint(patient_bp)
    app.register_blueprint(staff_bp)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
