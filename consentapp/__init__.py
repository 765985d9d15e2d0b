"""Consent kiosk: a Flask application a clinic runs on its own server."""

from flask import Flask

from . import (
    cli,
    clinic_time,
    database,
    errors,
    health,
    i18n,
    patient,
    rate_limits,
    security,
    settings,
    staff,
)
from .extensions import babel, csrf, db, limiter, login_manager, migrate
from .paths import TEMPLATES_DIR


def create_app(test_config: dict | None = None) -> Flask:
    app = errors.ConsentFlask(
        __name__, instance_relative_config=True, template_folder=str(TEMPLATES_DIR)
    )
    settings.init_app(app, test_config)

    db.init_app(app)
    database.init_app(app)
    migrate.init_app(app, db)
    csrf.init_app(app)
    login_manager.init_app(app)
    rate_limits.init_app(app)  # before the limiter: its database:// store
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    i18n.init_app(app)
    clinic_time.init_app(app)

    patient.init_app(app)
    staff.init_app(app)
    health.init_app(app)
    security.init_app(app)
    errors.init_app(app)
    cli.init_app(app)
    return app
