"""No patient data in logs: a whole journey, a failure and a crash, logged at DEBUG."""

import logging

import pytest

from consentapp.records import jobs

NAME, DOB, GOAL = "Xiomara Quillfeather", "1958-12-31", "Fade the scar on my chin"


@pytest.fixture
def all_logs(caplog):
    caplog.set_level(logging.DEBUG)
    return caplog


def _assert_no_patient_data(caplog):
    logged = "\n".join(
        f"{record.getMessage()} {record.exc_text or ''}" for record in caplog.records
    )
    for secret in (NAME, "Quillfeather", DOB, GOAL):
        assert secret not in logged


def test_a_whole_journey_logs_no_patient_data(app, journey, auth, client, all_logs):
    journey.to_signature(name=NAME, dob=DOB)
    journey.get("/step/concerns")
    journey.concerns(goals=GOAL)
    journey.continue_("review")
    journey.sign(name=NAME)
    auth.create()
    auth.login()
    client.get("/staff/")
    assert NAME in client.get("/staff/").text  # staff see it; the logs must not
    _assert_no_patient_data(all_logs)


@pytest.mark.renders_pdfs
def test_a_render_failure_quoting_patient_text_is_logged_without_it(
    app, journey, monkeypatch, all_logs
):
    def broken(document):
        raise ValueError(f"cannot lay out {document['patient']['name']}")

    monkeypatch.setattr(jobs, "render_pdf", broken)
    journey.complete(name=NAME, dob=DOB)
    assert any("ValueError" in record.getMessage() for record in all_logs.records)
    _assert_no_patient_data(all_logs)


def test_an_unexpected_crash_is_logged_without_its_message(app, journey, monkeypatch, all_logs):
    from consentapp.patient import steps

    def crash(*args, **kwargs):
        raise RuntimeError(f"boom while saving {NAME}")

    journey.start()
    monkeypatch.setattr(steps, "_complete", crash)
    app.config["PROPAGATE_EXCEPTIONS"] = False
    page = journey.about(name=NAME, dob=DOB)
    assert page.status_code == 500
    assert "Something went wrong" in page.text
    assert any("RuntimeError" in record.getMessage() for record in all_logs.records)
    _assert_no_patient_data(all_logs)
