"""Storage: migrations match the models, SQLite is set up for concurrency, backups restore,
and every PDF still owed can be caught up."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import func, select, text

from consentapp import create_app
from consentapp.database import not_optional
from consentapp.extensions import db
from consentapp.models import ConsentRecord, JobStatus, RecordPdf, RenderJob
from consentapp.records import jobs

from .conftest import _test_config
from .journey import PatientJourney


def _sqlite_app(path):
    app = create_app(_test_config(f"sqlite:///{path}"))
    with app.app_context():
        upgrade()
    return app


def test_the_migrated_schema_matches_the_models(app):
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": not_optional})
        differences = compare_metadata(context, db.metadata)
    assert differences == []


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    app = _sqlite_app(tmp_path / "wal.sqlite3")
    with app.app_context(), db.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA busy_timeout")).scalar() == 15000
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        db.engine.dispose()


def test_a_backup_taken_while_running_restores_every_record_and_pdf(tmp_path):
    app = _sqlite_app(tmp_path / "live.sqlite3")
    PatientJourney(app.test_client()).complete(name="Backed Up", dob="1950-06-06")
    with app.app_context():
        original = db.session.execute(select(RecordPdf.record_id, RecordPdf.sha256)).all()

    result = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
    assert result.exit_code == 0, result.output
    assert "To restore: stop the app" in result.output
    again = app.test_cli_runner().invoke(args=["backup", str(tmp_path / "copy.sqlite3")])
    assert again.exit_code == 1 and "already exists" in again.output

    restored = create_app(_test_config(f"sqlite:///{tmp_path / 'copy.sqlite3'}"))
    with restored.app_context():
        assert db.session.execute(select(RecordPdf.record_id, RecordPdf.sha256)).all() == original
        record = db.session.scalars(select(ConsentRecord)).one()
        assert record.patient_name == "Backed Up" and record.is_signed
        db.engine.dispose()
    with app.app_context():
        db.engine.dispose()


def test_backup_on_postgresql_points_to_pg_dump():
    app = create_app(_test_config("postgresql+psycopg://nobody@127.0.0.1:1/nothing"))
    result = app.test_cli_runner().invoke(args=["backup", "out.sqlite3"])
    assert result.exit_code == 1
    assert "pg_dump" in result.output


def test_records_rerender_catches_up_failed_and_missing_pdfs(app, runner, journey, monkeypatch):
    def broken(document):
        raise RuntimeError("renderer down")

    monkeypatch.setattr(jobs, "render_pdf", broken)
    journey.complete(name="First Patient")
    journey.complete(name="Second Patient")
    with app.app_context():
        for _ in range(jobs.MAX_ATTEMPTS):
            jobs.process_pending()
        statuses = db.session.scalars(select(RenderJob.status)).all()
        assert statuses == [JobStatus.FAILED, JobStatus.FAILED]

    # Each pass waits a sixth of the lease (at most 1 s) before trying again, 5 attempts:
    # a short lease while nothing renders keeps the broken run to under a second.
    monkeypatch.setitem(app.config, "PDF_RENDER_LEASE_SECONDS", 1.2)
    result = runner.invoke(args=["records", "rerender"])
    assert result.exit_code == 1  # still broken: it says so and fails
    assert "2 still not rendered" in result.output

    monkeypatch.undo()  # the renderer and the lease as they were
    result = runner.invoke(args=["records", "rerender"])
    assert result.exit_code == 0, result.output
    assert "stored 2 PDF(s)" in result.output and "0 still not rendered" in result.output
    with app.app_context():
        assert db.session.scalar(select(func.count()).select_from(RecordPdf)) == 2
