"""Many tablets at once: every signature is kept exactly once, on SQLite and PostgreSQL."""

from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import ConsentRecord, JobStatus, RenderJob

from .journey import PatientJourney

TABLETS = 20


@pytest.fixture
def app_config(app_config):
    # Signing only commits; the PDFs are rendered afterwards, as in production.
    return {**app_config, "PDF_RENDER_MODE": "worker"}


def test_twenty_tablets_signing_at_once_lose_and_duplicate_nothing(app):
    journeys = [PatientJourney(app.test_client()) for _ in range(TABLETS)]
    for number, journey in enumerate(journeys):
        journey.to_signature(name=f"Patient Number{number:02d}")

    def sign_twice(item):
        number, journey = item
        form_page = journey.page
        first = journey.sign(name=f"Patient Number{number:02d}")
        journey.page = form_page  # and a double tap on top
        journey.sign(name=f"Patient Number{number:02d}")
        return first.request.path

    with ThreadPoolExecutor(max_workers=TABLETS) as pool:
        landed = list(pool.map(sign_twice, enumerate(journeys)))

    assert landed == ["/finished"] * TABLETS
    with app.app_context():
        names = db.session.scalars(select(ConsentRecord.patient_name)).all()
        assert sorted(names) == [f"Patient Number{n:02d}" for n in range(TABLETS)]
        # One render job queued for each record, none twice (rendering a queued job is
        # tests/test_render_jobs.py's matter; twenty renders here would only take time).
        jobs = db.session.execute(select(RenderJob.record_id, RenderJob.status)).all()
        records = db.session.scalars(select(ConsentRecord.id)).all()
        assert sorted(record_id for record_id, _ in jobs) == sorted(records)
        assert {status for _, status in jobs} == {JobStatus.PENDING}
