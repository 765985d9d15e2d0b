"""The hash-chained event history and `flask --app wsgi audit check`."""

import json
import threading

import pytest
from flask_migrate import upgrade
from sqlalchemy import create_engine, select, text

from consentapp import create_app
from consentapp.extensions import db
from consentapp.models import ConsentRecord, EventChainHead, RecordEvent
from consentapp.records.events import GENESIS_HASH, append_event, check_chain, event_hash

from .conftest import _test_config


@pytest.fixture
def history(app, journey, auth, client, built_once) -> list[int]:
    """Two patients' records, viewed and downloaded by staff: ids of all events, in order."""

    def sign_view_and_download():
        journey.complete(name="Maria Example")
        journey.complete(name="Ana Other")
        auth.create()
        auth.login()
        with app.app_context():
            record_ids = db.session.scalars(select(ConsentRecord.id)).all()
        for record_id in record_ids:
            client.get(f"/staff/records/{record_id}")
            client.get(f"/staff/records/{record_id}/pdf")
        with app.app_context():
            return list(db.session.scalars(select(RecordEvent.id).order_by(RecordEvent.id)))

    return built_once(sign_view_and_download)


def _sql(app, statement: str, **params) -> None:
    """Straight to the database, past the ORM's append-only guard, as an intruder would."""
    with app.app_context(), db.engine.begin() as connection:
        connection.execute(text(statement), params)


@pytest.mark.renders_pdfs
def test_every_event_is_chained_to_the_one_before(app, history):
    assert len(history) == 2 * 4  # signed, pdf_rendered, viewed, downloaded per record
    with app.app_context():
        events = db.session.scalars(select(RecordEvent).order_by(RecordEvent.id)).all()
        previous = GENESIS_HASH
        for event in events:
            assert event.prev_hash == previous
            assert event.hash == event_hash(
                event.record_id, event.kind, event.actor, event.created_at, event.details,
                event.prev_hash,
            )
            previous = event.hash
        head = db.session.get(EventChainHead, 1)
        assert (head.last_hash, head.last_event_id, head.event_count) == (
            previous, events[-1].id, len(events)
        )


@pytest.mark.renders_pdfs
def test_audit_check_passes_an_untouched_history(runner, history):
    result = runner.invoke(args=["audit", "check"])
    assert result.exit_code == 0, result.output
    assert result.output == (f"ok: {len(history)} events, the hash chain is intact; 2 records "
                             "and 2 PDF versions match it.\n")


def test_audit_check_names_an_event_edited_in_the_database(app, runner, history):
    edited = history[3]
    _sql(app, "UPDATE record_events SET actor = 'someone.else@example.org' WHERE id = :id",
         id=edited)
    result = runner.invoke(args=["audit", "check"])
    assert result.exit_code == 1
    assert f"event {edited} (" in result.output and "was changed after it was written" in (
        result.output
    )


def test_audit_check_names_an_event_whose_details_and_hash_were_rewritten(app, runner, history):
    """An intruder who also recomputes the edited event's own hash breaks the next link."""
    edited = history[2]
    with app.app_context():
        event = db.session.get(RecordEvent, edited)
        forged_details = {**event.details, "address": "10.9.9.9"}
        forged = event_hash(
            event.record_id, event.kind, event.actor, event.created_at, forged_details,
            event.prev_hash,
        )
    _sql(app, "UPDATE record_events SET details = :d, hash = :h WHERE id = :id",
         d=json.dumps(forged_details), h=forged, id=edited)
    result = runner.invoke(args=["audit", "check"])
    assert result.exit_code == 1
    assert f"event {history[3]} (" in result.output
    assert "an earlier event was deleted or its hash was changed" in result.output


@pytest.mark.renders_pdfs
def test_audit_check_names_the_event_after_one_deleted_in_the_database(app, runner, history):
    _sql(app, "DELETE FROM record_events WHERE id = :id", id=history[4])
    result = runner.invoke(args=["audit", "check"])
    assert result.exit_code == 1
    assert f"BROKEN: event {history[5]} (" in result.output
    assert "(4 events before it check out)" in result.output


def test_audit_check_notices_the_newest_event_deleted(app, runner, history):
    _sql(app, "DELETE FROM record_events WHERE id = :id", id=history[-1])
    result = runner.invoke(args=["audit", "check"])
    assert result.exit_code == 1
    assert f"the newest event (id {history[-1]}) is missing" in result.output


def test_the_orm_still_refuses_to_edit_events(app, history):
    with app.app_context():
        event = db.session.get(RecordEvent, history[0])
        event.actor = "someone"
        with pytest.raises(Exception, match="append-only"):
            db.session.commit()


def test_concurrent_appends_keep_one_unbroken_chain(app, history):
    """Writers in parallel (threads here, app servers in production) never fork the chain."""
    with app.app_context():
        record_id = db.session.scalars(select(ConsentRecord.id)).first()
    errors: list[BaseException] = []

    def writer(number: int) -> None:
        try:
            with app.app_context():
                for index in range(10):
                    append_event(record_id, "viewed", f"writer{number}@example.org",
                                 {"n": index})
                    db.session.commit()
                db.session.remove()
        except BaseException as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    with app.app_context():
        report = check_chain()
        assert report.intact, report.problem
        assert report.checked == len(history) + 40


def test_the_migration_chains_events_that_existed_before_it(tmp_path, seal_key_dir):
    """Upgrading a database that already has events gives them a valid chain."""
    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(_test_config(url, SEAL_KEY_DIR=seal_key_dir))
    with app.app_context():
        upgrade(revision="27a76eced181")
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO definition_snapshots VALUES ('d', 'm', '1', 'en', 'x', "
                "'2024-01-01 00:00:00')"
            ))
            connection.execute(text(
                "INSERT INTO consent_records (id, submission_key, procedure_slug, "
                "procedure_title, definition_version, definition_sha256, language, "
                "patient_name, patient_dob, answers, outcome, outcome_reasons, "
                "acknowledged_risks, accepted_statements, completed_at, user_agent) VALUES "
                "('r1', 'k', 'm', 'M', '1', 'd', 'en', 'P', '1970-01-01', '{}', 'eligible', "
                "'[]', '[]', '[]', '2024-01-01 00:00:00', '')"
            ))
            for second, kind in enumerate(("signed", "pdf_rendered", "viewed")):
                connection.execute(text(
                    "INSERT INTO record_events (record_id, kind, actor, created_at, details) "
                    f"VALUES ('r1', '{kind}', 'patient', '2024-01-01 00:00:0{second}.000000', "
                    "'{\"n\": 1}')"
                ))
        engine.dispose()
        upgrade()
        report = check_chain()
        # The three events, and the content hash the record_content_hashes migration added.
        assert report.intact and report.checked == 4
        kinds = db.session.scalars(select(RecordEvent.kind).order_by(RecordEvent.id)).all()
        assert kinds == ["signed", "pdf_rendered", "viewed", "content_hash_recorded"]
        append_event("r1", "viewed", "staff@example.org")
        db.session.commit()
        assert check_chain().intact and check_chain().checked == 5
        db.session.remove()
        db.engine.dispose()
