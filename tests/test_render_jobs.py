"""Render jobs held with a lease: a dead worker's job is taken over, a live worker's is
not, only the holder of the current claim stores its PDF, and versions follow the events
they show. In one process (threads and a stopped clock stand in for dead workers); the
same in real processes, killed, is tests/test_crash_recovery.py."""

import threading
import time
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from consentapp.extensions import db
from consentapp.models import (
    ConsentRecord,
    JobStatus,
    RecordEvent,
    RecordPdf,
    RenderJob,
    utcnow,
)
from consentapp.records import jobs

LEASE = 0.6


@pytest.fixture
def app_config(app_config):
    return {**app_config, "PDF_RENDER_MODE": "worker", "PDF_RENDER_LEASE_SECONDS": LEASE}


@pytest.fixture
def record_id(app, make_record):
    return make_record("Leased Render")


def _job(app) -> RenderJob:
    with app.app_context():
        job = db.session.scalars(select(RenderJob)).one()
        db.session.expunge(job)
        return job


def _pdf_versions(app, record_id) -> list[int]:
    with app.app_context():
        return list(db.session.scalars(
            select(RecordPdf.version).where(RecordPdf.record_id == record_id)
            .order_by(RecordPdf.version)))


def _lapse_every_lease(app) -> None:
    """As if the holder stopped renewing a lease ago: it died."""
    with app.app_context():
        db.session.execute(update(RenderJob).values(lease_expires_at=utcnow() - timedelta(1)))
        db.session.commit()


def test_a_dead_workers_job_is_taken_over_once_its_lease_lapses(app, record_id):
    with app.app_context():
        dead = jobs.claim(_job(app).id)  # claimed, then its worker died: nobody renews it
        assert dead is not None
        assert jobs.process_pending() == 0  # still leased: nobody else may take it
    _lapse_every_lease(app)
    with app.app_context():
        assert jobs.process_pending() == 1
    job = _job(app)
    assert job.status == JobStatus.DONE and job.attempts == 2 and job.claimed_by != dead.token
    assert _pdf_versions(app, record_id) == [1]


def test_a_pdf_rendered_under_a_lapsed_claim_is_not_stored(app, record_id):
    with app.app_context():
        late = jobs.claim(_job(app).id)
    _lapse_every_lease(app)
    with app.app_context():
        assert jobs.process_pending() == 1  # another worker took it over and stored v1
        record = db.session.get(ConsentRecord, record_id)
        with pytest.raises(jobs.LostClaim):  # the first worker wakes up and finishes
            jobs.render_and_store(record, late)
    assert _pdf_versions(app, record_id) == [1]


def test_a_live_worker_keeps_its_job_however_long_it_renders(app, record_id, monkeypatch):
    real_render = jobs.render_pdf
    rendering = threading.Event()

    def slow_render(document):
        rendering.set()
        time.sleep(LEASE * 4)  # four leases long: renewed all the while
        return real_render(document)

    monkeypatch.setattr(jobs, "render_pdf", slow_render)

    def render():
        with app.app_context():
            return jobs.process_pending()

    holder = threading.Thread(target=render)
    holder.start()
    assert rendering.wait(30)
    others = []
    deadline = time.monotonic() + LEASE * 3
    while time.monotonic() < deadline:  # other workers look again and again meanwhile
        with app.app_context():
            others.append(jobs.pending_job_ids())
        time.sleep(LEASE / 4)
    holder.join()
    assert others and all(ids == [] for ids in others)
    job = _job(app)
    assert job.status == JobStatus.DONE and job.attempts == 1
    assert _pdf_versions(app, record_id) == [1]


def test_a_job_whose_worker_died_on_its_last_attempt_fails_and_rerender_saves_it(
    app, runner, record_id
):
    with app.app_context():
        job_id = _job(app).id
        db.session.execute(update(RenderJob).values(attempts=jobs.MAX_ATTEMPTS - 1))
        db.session.commit()
        assert jobs.claim(job_id) is not None
    _lapse_every_lease(app)
    with app.app_context():
        assert jobs.process_pending() == 0
        job = db.session.get(RenderJob, job_id)
        assert (job.status, job.last_error) == (JobStatus.FAILED, "WorkerLost")
        failed = db.session.scalars(select(RecordEvent.details).where(
            RecordEvent.kind == "pdf_render_failed")).one()
        assert failed == {"attempt": jobs.MAX_ATTEMPTS, "error": "WorkerLost"}

    result = runner.invoke(args=["records", "rerender"])
    assert result.exit_code == 0, result.output
    assert "stored 1 PDF(s)" in result.output
    assert _pdf_versions(app, record_id) == [1]


def test_rerender_waits_for_a_job_another_worker_holds_and_says_so_if_it_is_not_done(
    app, runner, record_id
):
    with app.app_context():
        jobs.claim(_job(app).id)  # held, by a worker that renews it (the lease is fresh)
    result = runner.invoke(args=["records", "rerender", "--wait", "0"])
    assert result.exit_code == 1
    assert "1 still not rendered" in result.output

    started = time.monotonic()  # with a wait, the lease lapses meanwhile and it is taken
    result = runner.invoke(args=["records", "rerender", "--wait", str(LEASE * 4)])
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < LEASE * 4 + 10
    assert _pdf_versions(app, record_id) == [1]


def test_of_two_renders_of_the_same_events_the_second_to_finish_stores_nothing(
    app, record_id, monkeypatch
):
    real_render = jobs.render_pdf
    both_read = threading.Barrier(2)

    def render_together(document):
        both_read.wait(30)  # both have read the record's events: they show the same
        return real_render(document)

    monkeypatch.setattr(jobs, "render_pdf", render_together)

    def render():
        with app.app_context():
            pdf = jobs.render_and_store(db.session.get(ConsentRecord, record_id))
            return pdf.version if pdf else None

    results = []
    threads = [threading.Thread(target=lambda: results.append(render())) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results, key=str) == [1, None]
    assert _pdf_versions(app, record_id) == [1]


def test_the_lease_must_be_a_positive_number_of_seconds(database_url):
    from consentapp import create_app
    from consentapp.settings import ConfigurationError

    from .conftest import _test_config

    with pytest.raises(ConfigurationError, match="PDF_RENDER_LEASE_SECONDS"):
        create_app(_test_config(database_url, PDF_RENDER_LEASE_SECONDS=0))
