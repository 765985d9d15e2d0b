"""The record service: facts committed before artefacts, append-only, locked-down rendering."""

from io import BytesIO

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import (
    AppendOnlyViolation,
    ConsentRecord,
    JobStatus,
    RecordEvent,
    RenderJob,
)
from consentapp.records import document as documents
from consentapp.records import events, jobs
from consentapp.records.jobs import RenderWorker, process_pending
from consentapp.records.render import PackagedFilesFetcher, render_pdf, typesetting

from .pdf import page_texts


def _fail_rendering(monkeypatch):
    def broken(document):
        raise RuntimeError("the renderer fell over")

    monkeypatch.setattr(jobs, "render_pdf", broken)


@pytest.mark.renders_pdfs
def test_a_render_failure_keeps_the_record_and_a_retry_makes_the_pdf(app, journey, monkeypatch):
    _fail_rendering(monkeypatch)
    page = journey.complete()
    assert page.request.path == "/finished"  # the patient never sees the failure

    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        assert record.is_signed and record.pdfs == []
        job = db.session.scalars(select(RenderJob)).one()
        assert job.status == JobStatus.PENDING and job.attempts == 1
        assert job.last_error == "RuntimeError"
        kinds = [event.kind for event in record.events]
        assert kinds == ["signed", "pdf_render_failed"]

    monkeypatch.undo()
    with app.app_context():
        assert process_pending() == 1
        record = db.session.scalars(select(ConsentRecord)).one()
        assert record.latest_pdf is not None
        assert db.session.scalars(select(RenderJob)).one().status == JobStatus.DONE


def test_staff_see_a_pending_pdf_instead_of_an_error(app, auth, client, journey, monkeypatch):
    _fail_rendering(monkeypatch)
    journey.complete()
    auth.create()
    auth.login()
    with app.app_context():
        record_id = db.session.scalars(select(ConsentRecord.id)).one()
    page = client.get(f"/staff/records/{record_id}")
    assert page.status_code == 200
    assert "The PDF is being prepared" in page.text
    assert client.get(f"/staff/records/{record_id}/pdf").status_code == 404


def test_a_job_that_keeps_failing_stops_after_its_attempts(app, journey, monkeypatch):
    _fail_rendering(monkeypatch)
    journey.complete()
    with app.app_context():
        for _ in range(jobs.MAX_ATTEMPTS):
            process_pending()
        job = db.session.scalars(select(RenderJob)).one()
        assert job.status == JobStatus.FAILED and job.attempts == jobs.MAX_ATTEMPTS
        assert process_pending() == 0


def test_the_background_worker_renders_what_was_committed(app, journey, monkeypatch):
    app.config["PDF_RENDER_MODE"] = "worker"  # signing leaves the job for a worker
    journey.complete()
    with app.app_context():
        assert db.session.scalars(select(ConsentRecord)).one().pdfs == []
    assert RenderWorker(app).run_once() == 1
    with app.app_context():
        assert db.session.scalars(select(ConsentRecord)).one().latest_pdf is not None


def test_records_and_events_cannot_be_changed_or_deleted(app, journey):
    journey.complete()
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        record.patient_name = "Someone Else"
        with pytest.raises(AppendOnlyViolation):
            db.session.commit()
        db.session.rollback()
        event = db.session.scalars(select(RecordEvent)).first()
        db.session.delete(event)
        with pytest.raises(AppendOnlyViolation):
            db.session.commit()
        db.session.rollback()
        assert db.session.scalars(select(ConsentRecord)).one().patient_name == "Maria Example"


@pytest.mark.parametrize(
    "url",
    [
        "file:///etc/passwd",
        "http://127.0.0.1:9/",
        "https://packaged.invalid/static/../../pyproject.toml",
        "https://packaged.invalid/etc/passwd",
        "https://example.org/static/css/pdf.css",
        "data:text/plain,hello",
    ],
)
def test_the_pdf_fetcher_refuses_anything_but_packaged_files(url):
    fetcher = PackagedFilesFetcher()
    with pytest.raises(ValueError):
        fetcher.fetch(url)
    assert fetcher.refused == [url]


def test_the_pdf_fetcher_serves_the_packaged_font():
    response = PackagedFilesFetcher().fetch(
        "https://packaged.invalid/static/fonts/LiberationSans-Regular.ttf"
    )
    assert len(response.read()) > 100_000


def test_markup_in_patient_text_is_printed_not_fetched(app, journey):
    hostile = (
        '<img src="file:///etc/passwd"><link rel="stylesheet" href="http://127.0.0.1:9/x.css">'
        "<style>@import url(http://127.0.0.1:9/y.css);</style>"
    )
    journey.start()
    journey.about()
    journey.concerns(goals=hostile)
    journey.screening()
    for step in ("outcome", "expect", "benefits"):
        journey.continue_(step)
    journey.risks()
    journey.after_alternatives()
    journey.sign()
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        fetcher = PackagedFilesFetcher()
        content = render_pdf(
            documents.document_for(record, events.events_of(record.id), code="TESTCODE00"),
            fetcher,
        )
    assert fetcher.refused == []  # escaped text is never even tried as a URL
    # The page itself fetches nothing: its fonts come from this thread's typesetting, which
    # loaded the packaged fonts, and nothing else, through a packaged-files fetcher of its own.
    assert fetcher.served == []
    assert typesetting.font_fetcher.refused == []
    assert sorted(typesetting.font_fetcher.served) == [
        "https://packaged.invalid/static/fonts/LiberationSans-Bold.ttf",
        "https://packaged.invalid/static/fonts/LiberationSans-Regular.ttf",
        "https://packaged.invalid/static/fonts/LiberationSerif-Italic.ttf",
    ]
    text = "".join(page_texts(content, folded=False))
    assert 'src="file:///etc/passwd"' in text.replace("\n", "")
    assert "@import url(http://127.0.0.1:9/y.css)" in text.replace("\n", "")


def test_the_pdf_is_rendered_from_plain_data_only(app, journey):
    import json

    journey.complete()
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        document = documents.document_for(record, events.events_of(record.id), code="TESTCODE00")
    assert json.loads(json.dumps(document)) == document  # nothing but dicts, lists, text


@pytest.fixture
def collections():
    """Every run of the cyclic garbage collector, by generation, while the test runs."""
    import gc

    runs: list[int] = []

    def note(phase, info):
        if phase == "start":
            runs.append(info["generation"])

    gc.callbacks.append(note)
    yield runs
    gc.callbacks.remove(note)


@pytest.fixture
def signed_document(app, journey) -> dict:
    """The plain document of a signed record's first PDF, ready to render again."""
    journey.complete()
    with app.app_context():
        record = db.session.scalars(select(ConsentRecord)).one()
        return documents.rebuild_document(record, 1)


@pytest.mark.renders_pdfs
def test_a_render_holds_the_collector_off_and_frees_its_cycles_with_one_young_collection(
    app, signed_document, collections
):
    import gc

    with app.app_context():
        collections.clear()
        pdf = render_pdf(signed_document)
        during_and_after = list(collections)
    assert during_and_after == [1]  # none during the render, one of the young objects after
    assert len(PdfReader(BytesIO(pdf)).pages) >= 3
    assert gc.isenabled()


@pytest.mark.renders_pdfs
def test_renders_in_two_threads_share_the_pause_and_leave_the_collector_as_it_was(
    app, signed_document
):
    import gc
    import threading

    results: list[bytes] = []

    def render():
        with app.app_context():
            results.append(render_pdf(signed_document))

    threads = [threading.Thread(target=render) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 2 and gc.isenabled()
    gc.disable()
    try:
        with app.app_context():
            render_pdf(signed_document)
        assert not gc.isenabled()  # someone else's choice stays
    finally:
        gc.enable()
