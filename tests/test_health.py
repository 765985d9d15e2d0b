"""GET /healthz: the database, the render queue and the worker's heartbeat, without sign-in and
without patient data; 503 when the database is down or the worker has gone silent. And the
banner administrators see on the dashboard when PDFs are overdue."""

import os
import time
from datetime import timedelta

import pytest
from sqlalchemy import update

from consentapp import create_app
from consentapp.extensions import db
from consentapp.models import JobStatus, RenderJob, WorkerHeartbeat, utcnow
from consentapp.records.jobs import RenderWorker

SILENT_SECONDS = 1


@pytest.mark.renders_pdfs
def test_healthz_is_public_and_says_all_is_well(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["Cache-Control"] == "no-store"
    health = response.get_json()
    assert health["status"] == "ok" and health["problems"] == []
    assert health["database"]["reachable"] and health["database"]["migrated"]
    assert health["database"]["revision"] == health["database"]["head"]
    assert health["render_queue"] == {"depth": 0, "failed": 0, "oldest_job_age_seconds": None}
    # The tests render inline, in the signing request: no worker loop is needed.
    assert health["worker"]["mode"] == "inline" and health["worker"]["needed"] is False


@pytest.mark.renders_pdfs
def test_healthz_tells_nothing_about_patients_and_is_not_throttled(client, make_record):
    make_record("Henrietta Quayle", "1948-02-29")  # committed, its PDF not made yet
    for _ in range(40):  # a monitor polling it, well past any sign-in limit
        response = client.get("/healthz")
        assert response.status_code == 200
    text = response.text
    assert "Henrietta" not in text and "Quayle" not in text and "1948" not in text
    assert response.get_json()["render_queue"]["depth"] == 1


@pytest.fixture
def worker_app(app_config):
    app = create_app({**app_config, "PDF_RENDER_MODE": "worker",
                      "WORKER_SILENT_SECONDS": SILENT_SECONDS})
    yield app
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _health(app):
    response = app.test_client().get("/healthz")
    return response.status_code, response.get_json()


def test_healthz_turns_503_when_the_worker_stops_past_the_limit(worker_app):
    status, health = _health(worker_app)
    assert status == 503
    assert health["problems"] == ["no PDF worker has ever reported"]

    loop = RenderWorker(worker_app, poll_seconds=0.1)
    loop.start()
    try:
        deadline = time.monotonic() + 10
        while (status := _health(worker_app)[0]) != 200 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert status == 200
        # Alive for longer than the limit: it keeps beating.
        time.sleep(SILENT_SECONDS + 0.5)
        status, health = _health(worker_app)
        assert status == 200, health
        assert health["worker"]["alive"] and health["worker"]["seconds_since_heartbeat"] < 1
    finally:
        loop.stop()
        loop._thread.join(timeout=10)

    time.sleep(SILENT_SECONDS + 0.5)
    status, health = _health(worker_app)
    assert status == 503
    assert health["worker"]["alive"] is False
    assert health["problems"] == [
        f"the PDF worker has been silent for longer than {SILENT_SECONDS} s"
    ]


def test_healthz_turns_503_when_the_database_is_down(app_config):
    app = create_app({**app_config,
                      "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://nobody@127.0.0.1:1/none"})
    status, health = _health(app)
    assert status == 503
    assert health["database"]["reachable"] is False
    assert health["problems"] == ["the database cannot be reached"]
    assert health["render_queue"] is None and health["worker"] is None


def test_healthz_turns_503_when_the_database_is_not_migrated(app_config, tmp_path):
    app = create_app({**app_config,
                      "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'empty.sqlite3'}"})
    status, health = _health(app)
    assert status == 503
    assert health["database"]["reachable"] and not health["database"]["migrated"]
    assert health["database"]["revision"] is None
    assert "the database is not migrated: run `flask --app wsgi db upgrade`" in health["problems"]
    with app.app_context():
        db.engine.dispose()


def test_the_heartbeat_names_the_process_and_mode_only(worker_app):
    RenderWorker(worker_app).run_once()
    with worker_app.app_context():
        beat = db.session.scalars(db.select(WorkerHeartbeat)).one()
        assert beat.worker_id.endswith(f":{os.getpid()}")
        assert beat.mode == "worker"
        assert beat.beat_at >= beat.started_at


def _overdue_job(app, make_record):
    record_id = make_record("Olive Overdue")
    with app.app_context():
        db.session.execute(
            update(RenderJob).where(RenderJob.record_id == record_id)
            .values(created_at=utcnow() - timedelta(hours=1))
        )
        db.session.commit()


BANNER = "PDFs are overdue"


def test_administrators_see_a_banner_when_pdfs_are_overdue_or_failed(app, staff, make_record):
    admin = staff("admin")
    assert BANNER not in admin.get("/staff/").text
    _overdue_job(app, make_record)
    page = " ".join(admin.get("/staff/").text.split())
    assert BANNER in page
    assert "1 PDF of signed records has waited more than 2 minutes." in page
    # Other staff are not asked to act on it.
    assert BANNER not in staff("frontdesk").get("/staff/").text

    with app.app_context():
        db.session.execute(update(RenderJob).values(status=JobStatus.FAILED))
        db.session.commit()
    assert "1 of them failed after every attempt" in " ".join(admin.get("/staff/").text.split())
