"""The shared tablet: drafts expire on the server too, finishing clears the browser, the idle
script gets its settings from configuration, and a patient reaches nothing but their own form."""

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from consentapp import create_app
from consentapp.extensions import db
from consentapp.models import ConsentRecord, PatientDraft, utcnow
from consentapp.patient.draft import purge_stale_drafts
from consentapp.records.jobs import RenderWorker
from consentapp.settings import ConfigurationError

CLEARED = '"cache", "storage"'


def _drafts() -> int:
    return db.session.scalar(select(func.count()).select_from(PatientDraft))


def _age_every_draft(app, seconds: int) -> None:
    with app.app_context():
        for draft in db.session.scalars(select(PatientDraft)):
            draft.updated_at = utcnow() - timedelta(seconds=seconds)
        db.session.commit()


def test_a_draft_left_longer_than_the_reset_time_is_gone_when_next_used(app, journey):
    journey.start()
    journey.about(name="Stale Stella")
    _age_every_draft(app, app.config["PATIENT_IDLE_RESET_SECONDS"] + 1)

    page = journey.get("/step/concerns")

    assert page.request.path == "/"
    assert "we cleared the form because nobody used it" in page.text
    assert "Stale Stella" not in page.text and "already started" not in page.text
    with app.app_context():
        assert _drafts() == 0


def test_a_draft_used_within_the_reset_time_is_kept(app, journey):
    journey.start()
    journey.about(name="Busy Bea")
    _age_every_draft(app, app.config["PATIENT_IDLE_RESET_SECONDS"] - 30)
    page = journey.get("/step/concerns")
    assert page.request.path == "/step/concerns"
    assert "cleared the form" not in page.text


def test_every_saved_step_counts_as_use(app, journey):
    journey.start()
    _age_every_draft(app, app.config["PATIENT_IDLE_RESET_SECONDS"] - 5)
    journey.about()
    with app.app_context():
        draft = db.session.scalars(select(PatientDraft)).one()
        assert utcnow() - draft.updated_at < timedelta(seconds=5)


def test_i_need_more_time_keeps_the_draft_alive_and_the_page_as_it_is(app, journey):
    journey.start()
    journey.about()
    _age_every_draft(app, app.config["PATIENT_IDLE_RESET_SECONDS"] - 5)

    response = journey.post("/still-here", {}, follow_redirects=False)

    assert response.status_code == 204  # a form posting this stays on its page
    with app.app_context():
        draft = db.session.scalars(select(PatientDraft)).one()
        assert utcnow() - draft.updated_at < timedelta(seconds=5)


def test_more_time_for_a_draft_already_gone_leads_to_the_welcome_screen(app, journey):
    journey.start()
    page = journey.page
    _age_every_draft(app, app.config["PATIENT_IDLE_RESET_SECONDS"] + 1)
    journey.page = page
    response = journey.post("/still-here", {}, follow_redirects=False)
    assert response.status_code == 302 and response.headers["Location"] == "/"


def test_the_idle_reset_wipes_the_draft_clears_the_browser_and_says_why(app, journey):
    journey.start()
    journey.about(name="Walked Away")

    response = journey.post("/timed-out", {}, follow_redirects=False)

    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert response.headers["Clear-Site-Data"] == CLEARED
    page = journey.get("/")
    assert "we cleared the form because nobody used it" in page.text
    assert "Walked Away" not in page.text
    with app.app_context():
        assert _drafts() == 0


def test_the_idle_reset_without_a_csrf_token_changes_nothing(app, journey, client):
    journey.start()
    response = client.post("/timed-out", data={})
    assert response.status_code == 400
    with app.app_context():
        assert _drafts() == 1


def test_stale_drafts_are_purged_and_fresh_ones_kept(app, journey):
    journey.start()  # one draft that will go stale
    _age_every_draft(app, 3600)
    journey.start()  # a new patient: the old draft was discarded, this one is fresh
    with app.app_context():
        db.session.add(PatientDraft(
            id="abandoned", definition_sha256=db.session.scalars(
                select(PatientDraft.definition_sha256)).first(),
            data={"about": {"full_name": "Gone Away"}},
            updated_at=utcnow() - timedelta(hours=2),
        ))
        db.session.commit()
        assert _drafts() == 2
        assert purge_stale_drafts(timedelta(seconds=app.config["PATIENT_IDLE_RESET_SECONDS"])) == 1
        remaining = db.session.scalars(select(PatientDraft.id)).all()
    assert remaining and "abandoned" not in remaining


def test_the_render_worker_loop_purges_stale_drafts(app, journey):
    journey.start()
    _age_every_draft(app, app.config["PATIENT_IDLE_RESET_SECONDS"] + 60)
    RenderWorker(app).run_once()
    with app.app_context():
        assert _drafts() == 0


def test_the_purge_command_reports_what_it_removed(app, journey, runner):
    journey.start()
    _age_every_draft(app, app.config["PATIENT_IDLE_RESET_SECONDS"] + 60)
    result = runner.invoke(args=["purge-drafts"])
    assert result.exit_code == 0, result.output
    assert "Removed 1 abandoned draft(s)." in result.output
    with app.app_context():
        assert _drafts() == 0


def test_signing_clears_the_browser_on_the_way_out(app, journey):
    journey.to_signature()
    journey.sign()
    redirect = journey.page.history[0]
    assert redirect.status_code == 302
    assert redirect.headers["Clear-Site-Data"] == CLEARED
    assert journey.page.request.path == "/finished"
    assert journey.page.headers["Clear-Site-Data"] == CLEARED
    assert journey.page.headers["Cache-Control"] == "no-store"


def test_a_screened_out_finish_clears_the_browser_too(app, journey):
    journey.start()
    journey.about()
    journey.concerns()
    page = journey.screening("sunburn")
    assert "hand the tablet back" in page.text
    assert page.headers["Clear-Site-Data"] == CLEARED


def test_patient_pages_pass_the_idle_settings_to_the_script(app, journey):
    app.config.update(PATIENT_IDLE_WARNING_SECONDS=45, PATIENT_IDLE_RESET_SECONDS=75)
    journey.start()
    page = journey.page.text
    assert 'data-idle-warning="45"' in page and 'data-idle-reset="75"' in page
    assert 'src="/static/js/idle.js"' in page
    assert 'id="idle-reset"' in page and 'action="/timed-out"' in page
    assert "<script>" not in page and " on" + "click=" not in page  # no inline script
    page = journey.complete().text
    assert 'data-idle-reset="75"' in page and "data-idle-warning" not in page


@pytest.mark.parametrize(
    ("warning", "reset"), [(180, 120), (120, 120), (0, 180), ("soon", 180)]
)
def test_idle_settings_must_warn_before_they_reset(database_url, warning, reset):
    with pytest.raises(ConfigurationError, match="PATIENT_IDLE_WARNING_SECONDS"):
        create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                    "PATIENT_IDLE_WARNING_SECONDS": warning,
                    "PATIENT_IDLE_RESET_SECONDS": reset})


def test_idle_settings_come_from_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path}/env.sqlite3")
    monkeypatch.setenv("PATIENT_IDLE_WARNING_SECONDS", "30")
    monkeypatch.setenv("PATIENT_IDLE_RESET_SECONDS", "50")
    app = create_app()
    assert (app.config["PATIENT_IDLE_WARNING_SECONDS"], app.config["PATIENT_IDLE_RESET_SECONDS"]) \
        == (30, 50)
    monkeypatch.setenv("PATIENT_IDLE_RESET_SECONDS", "a minute")
    with pytest.raises(ConfigurationError, match="PATIENT_IDLE_RESET_SECONDS cannot be read"):
        create_app()


def test_the_defaults_warn_at_two_minutes_and_reset_at_three(app):
    from consentapp.settings import Settings

    settings = Settings().model_dump()
    assert settings["PATIENT_IDLE_WARNING_SECONDS"] == 120
    assert settings["PATIENT_IDLE_RESET_SECONDS"] == 180


def test_a_patient_reaches_no_other_record(app, journey, client):
    journey.complete(name="First Patient")
    with app.app_context():
        record_id = db.session.scalars(select(ConsentRecord.id)).one()
    journey.start()
    journey.about(name="Second Patient")
    for url in (f"/staff/records/{record_id}", f"/staff/records/{record_id}/pdf", "/finished"):
        response = client.get(url, follow_redirects=True)
        assert "First Patient" not in response.text, url
        assert response.request.path in ("/staff/login", "/"), url


def test_patient_text_fields_do_not_feed_the_browsers_autofill(journey):
    journey.start()
    page = journey.page.text
    assert 'autocomplete="off"' in page
    assert 'autocomplete="name"' not in page and 'autocomplete="bday"' not in page
