"""The database is evidence too: what an intruder with write access to it can and cannot do.

Every edit here goes straight to the tables with SQL, past the app (as someone holding the
database's password would), and every check is made the way the clinic makes it: the
`audit check` and `verify` commands, the staff pages, the render worker and `records rerender`.
Nothing here reaches into the app's internals; only the table and column names are assumed.
"""

import hashlib
import json

import pytest
from sqlalchemy import text

from consentapp.extensions import db

from .conftest import csrf_token

# These tests read the PDFs that signing renders.
pytestmark = pytest.mark.renders_pdfs


def _sql(app, statement: str, **params):
    """Straight to the database, past the ORM's append-only guard, as an intruder would."""
    with app.app_context(), db.engine.begin() as connection:
        return connection.execute(text(statement), params).all() if statement.lstrip(
        ).upper().startswith("SELECT") else connection.execute(text(statement), params)


def _one(app, statement: str, **params):
    rows = _sql(app, statement, **params)
    assert len(rows) == 1, rows
    return rows[0]


def _record_id(app) -> str:
    return _one(app, "SELECT id FROM consent_records")[0]


def _pdfs(app, record_id: str) -> list[tuple[int, bytes]]:
    return [(version, bytes(content)) for version, content in _sql(
        app, "SELECT version, content FROM record_pdfs WHERE record_id = :r ORDER BY version",
        r=record_id,
    )]


def _kinds(app, record_id: str) -> list[str]:
    return [kind for (kind,) in _sql(
        app, "SELECT kind FROM record_events WHERE record_id = :r ORDER BY id", r=record_id
    )]


def _audit(runner):
    result = runner.invoke(args=["audit", "check"])
    return result.exit_code, result.output


@pytest.fixture
def signed(app, journey, built_once) -> str:
    """One signed record that needs a clinician's review (diabetes), with its first PDF."""

    def sign_and_seal():
        journey.complete("diabetes", name="Maria Example", dob="1971-04-09")
        return _record_id(app)

    return built_once(sign_and_seal)


# -- what `audit check` names ------------------------------------------------------------------


def test_an_untouched_database_checks_out(runner, signed):
    code, output = _audit(runner)
    assert code == 0, output
    assert "1 record" in output and "1 PDF version" in output


@pytest.mark.parametrize("forgery", [
    "UPDATE consent_records SET answers = :answers",
    "UPDATE consent_records SET patient_dob = '1950-01-01'",
    "UPDATE consent_records SET signature = :signature",
], ids=["answers", "date_of_birth", "signature"])
def test_an_sql_edit_of_a_record_is_named_by_audit_check(app, runner, signed, forgery):
    answers, signature = _one(app, "SELECT answers, signature FROM consent_records")
    answers = json.loads(answers) if isinstance(answers, str) else answers
    signature = json.loads(signature) if isinstance(signature, str) else signature
    answers["diabetes"] = "no"  # the reason the clinician had to review it, gone
    signature["strokes"][0][0] = [signature["strokes"][0][0][0] + 50, 10]
    _sql(app, forgery + " WHERE id = :id", id=signed, answers=json.dumps(answers),
         signature=json.dumps(signature))

    code, output = _audit(runner)
    assert code == 1, output
    line = next(line for line in output.splitlines() if signed in line)
    assert "content" in line and "no longer matches" in line, output
    # The chain itself was not touched, and the check says so rather than blaming it.
    assert "event" not in line.split(signed)[0]


def test_every_column_of_a_record_is_covered(app, runner, signed):
    """Whatever column an intruder changes, the record is named; put back, it checks out."""
    with app.app_context():
        columns = [column.name for column in db.metadata.tables["consent_records"].columns]
    (original,) = _sql(app, "SELECT * FROM consent_records")
    original = dict(original._mapping)
    changed = {
        "submission_key": "another-draft", "procedure_slug": "laser",
        "procedure_title": "Laser", "definition_version": "0.1", "language": "es",
        "patient_name": "Someone Else", "patient_name_search": "someone else",
        "patient_dob": "1950-01-01", "patient_contact": "intruder@example.org",
        "answers": "{}", "outcome": "eligible", "outcome_reasons": "[]",
        "acknowledged_risks": "[]", "accepted_statements": "[]", "signer_name": "Someone Else",
        "signature": "null", "signature_method": "typed",
        "representative": '{"name": "X", "relationship": "parent"}',
        "interpreter": '{"name": "Y", "language": "French"}', "witness": '{"name": "Z"}',
        "teach_back": "[]", "esign_agreement": "{}", "photo_consent": '{"clinical": true}',
        "signed_at": "2020-01-01 00:00:00.000000", "completed_at": "2020-01-01 00:00:00.000000",
        "user_agent": "forged", "screened_on": "2020-01-01",
        "clinic_contact": '{"phone": "(555) 010-9999"}',
    }
    # The id is what everything else points at; the definition's hash is a foreign key (its
    # text is checked on its own, below). Every other column must have a forgery here.
    assert set(columns) - set(changed) == {"id", "definition_sha256"}
    for column, forged in changed.items():
        _sql(app, f"UPDATE consent_records SET {column} = :v WHERE id = :id", v=forged, id=signed)
        code, output = _audit(runner)
        assert code == 1 and signed in output, (column, output)
        value = original[column]
        if isinstance(value, dict | list):
            value = json.dumps(value)
        _sql(app, f"UPDATE consent_records SET {column} = :v WHERE id = :id", v=value, id=signed)
    code, output = _audit(runner)
    assert code == 0, output


def test_an_edited_definition_text_is_named(app, runner, signed):
    """What the patient was shown is the stored definition: its text must match its hash."""
    _sql(app, "UPDATE definition_snapshots SET source = replace(source, 'bruising', 'nothing')")
    code, output = _audit(runner)
    assert code == 1
    assert signed in output and "definition" in output


def test_a_deleted_pdf_version_is_named(app, runner, signed):
    _sql(app, "DELETE FROM record_pdfs WHERE record_id = :r AND version = 1", r=signed)
    code, output = _audit(runner)
    assert code == 1
    line = next(line for line in output.splitlines() if signed in line)
    assert "PDF version 1" in line and "missing" in line


def test_changed_pdf_bytes_are_named(app, runner, signed):
    ((_version, content),) = _pdfs(app, signed)
    forged = content.replace(b"Maria Example", b"Maria Exampel", 1)
    assert forged != content
    # Even with the stored hash column made to match, the event in the chain does not.
    _sql(app, "UPDATE record_pdfs SET content = :c, sha256 = :h WHERE record_id = :r",
         c=forged, h=hashlib.sha256(forged).hexdigest(), r=signed)
    code, output = _audit(runner)
    assert code == 1
    line = next(line for line in output.splitlines() if signed in line)
    assert "PDF version 1" in line and "no longer matches" in line


def test_an_extra_pdf_row_with_no_event_is_named(app, runner, signed):
    ((_version, content),) = _pdfs(app, signed)
    _sql(app, "INSERT INTO record_pdfs (record_id, version, sha256, content, renderer, "
         "created_at) VALUES (:r, 2, :h, :c, 'forged', '2026-01-01 00:00:00')",
         r=signed, h=hashlib.sha256(content).hexdigest(), c=content)
    code, output = _audit(runner)
    assert code == 1
    line = next(line for line in output.splitlines() if signed in line)
    assert "PDF version 2" in line and "no pdf_rendered event" in line


def test_a_record_inserted_with_no_history_is_named(app, runner, signed):
    (row,) = _sql(app, "SELECT * FROM consent_records")
    values = dict(row._mapping)
    values.update(id="00000000-0000-4000-8000-000000000000", submission_key="planted")
    for key, value in values.items():
        if isinstance(value, dict | list):
            values[key] = json.dumps(value)
    _sql(app, f"INSERT INTO consent_records ({', '.join(values)}) VALUES "
         f"({', '.join(':' + key for key in values)})", **values)
    code, output = _audit(runner)
    assert code == 1
    assert "00000000-0000-4000-8000-000000000000" in output


def test_each_problem_is_named_not_only_the_first(app, runner, journey):
    journey.complete(name="Maria Example")
    journey.complete(name="Ana Other")
    first, second = (rid for (rid,) in _sql(app, "SELECT id FROM consent_records ORDER BY id"))
    _sql(app, "UPDATE consent_records SET patient_name = 'X' WHERE id = :id", id=first)
    _sql(app, "DELETE FROM record_pdfs WHERE record_id = :id", id=second)
    _sql(app, "UPDATE record_events SET actor = 'x' WHERE id = (SELECT max(id) FROM "
         "record_events)")
    code, output = _audit(runner)
    assert code == 1
    assert first in output and second in output
    assert "was changed after it was written" in output


# -- nothing renders or seals a forged record --------------------------------------------------


def _forge_answers(app, record_id: str) -> None:
    (answers,) = _one(app, "SELECT answers FROM consent_records WHERE id = :id", id=record_id)
    answers = json.loads(answers) if isinstance(answers, str) else answers
    answers["diabetes"] = "no"
    _sql(app, "UPDATE consent_records SET answers = :a, patient_dob = '1950-01-01' "
         "WHERE id = :id", a=json.dumps(answers), id=record_id)


def test_a_clinician_decision_on_a_forged_record_renders_nothing_and_says_why(
    app, staff, signed
):
    clinician = staff("clinician", "dr.ruiz@example.org", full_name="Dr Ana Ruiz")
    _forge_answers(app, signed)
    page = clinician.get(f"/staff/records/{signed}")
    assert page.status_code == 200
    assert "no longer matches" in page.text  # staff are warned before they decide
    response = clinician.post(f"/staff/records/{signed}/review", data={
        "decision": "approved", "note": "Looks fine.", "csrf_token": csrf_token(page.text),
    })
    assert response.status_code == 409
    assert "no longer matches what was signed" in response.text
    assert [version for version, _ in _pdfs(app, signed)] == [1]
    assert "approved" not in _kinds(app, signed)
    page = clinician.get(f"/staff/records/{signed}")
    countersigned = clinician.post(f"/staff/records/{signed}/countersign", data={
        "clinician_name": "Dr Ana Ruiz", "signature": "", "csrf_token": csrf_token(page.text),
    })
    assert countersigned.status_code == 409
    assert [version for version, _ in _pdfs(app, signed)] == [1]


def test_the_pdf_rendered_before_the_edit_stays_valid(app, runner, signed, tmp_path):
    ((_version, before),) = _pdfs(app, signed)
    _forge_answers(app, signed)
    path = tmp_path / "v1.pdf"
    path.write_bytes(before)
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("VALID")


def test_the_worker_refuses_a_record_forged_before_its_pdf_and_keeps_the_job_failed(
    app, runner, journey, caplog
):
    app.config["PDF_RENDER_MODE"] = "worker"  # signing leaves the job for the worker
    journey.complete(name="Maria Example")
    record_id = _record_id(app)
    _forge_answers(app, record_id)

    result = runner.invoke(args=["worker", "--once"])
    assert result.exit_code == 0, result.output
    assert _pdfs(app, record_id) == []  # nothing forged is ever sealed
    status, error = _one(app, "SELECT status, last_error FROM render_jobs")
    assert status == "failed"
    assert "content no longer matches" in error
    assert "pdf_render_refused" in _kinds(app, record_id)
    assert f"record {record_id}" in caplog.text and "Maria" not in caplog.text

    result = runner.invoke(args=["records", "rerender"])
    assert result.exit_code == 1
    assert "refused" in result.output and record_id in result.output
    assert _pdfs(app, record_id) == []


def test_a_pending_job_planted_for_a_forged_record_is_refused(app, runner, signed):
    _forge_answers(app, signed)
    _sql(app, "INSERT INTO render_jobs (record_id, status, attempts, created_at) VALUES "
         "(:r, 'pending', 0, '2026-01-01 00:00:00')", r=signed)
    runner.invoke(args=["worker", "--once"])
    assert [version for version, _ in _pdfs(app, signed)] == [1]
    assert ("failed",) in _sql(app, "SELECT status FROM render_jobs")


# -- verify needs a stored version whose hash is in the chain -----------------------------------


def test_verify_refuses_a_stored_pdf_whose_event_is_gone(app, runner, signed, tmp_path):
    """A PDF row planted (or kept) with no pdf_rendered event in the chain is not VALID."""
    ((_version, content),) = _pdfs(app, signed)
    path = tmp_path / "v1.pdf"
    path.write_bytes(content)
    forged = json.dumps({"version": 7, "sha256": "0" * 64, "events_through": None})
    _sql(app, "UPDATE record_events SET details = :d WHERE record_id = :r AND "
         "kind = 'pdf_rendered'", d=forged, r=signed)
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 1, result.output
    assert not result.output.startswith("VALID")


def test_verify_of_a_pdf_whose_stored_copy_was_deleted_says_so(app, runner, signed, tmp_path):
    ((_version, content),) = _pdfs(app, signed)
    path = tmp_path / "v1.pdf"
    path.write_bytes(content)
    _sql(app, "DELETE FROM record_pdfs WHERE record_id = :r", r=signed)
    result = runner.invoke(args=["verify", str(path)])
    assert result.exit_code == 1, result.output
    assert result.output.startswith(
        f"NOT VALID: this file is version 1 of record {signed}, but its stored copy was "
        "deleted from the database (the record's history still lists it)."
    ), result.output


# -- records kept before content hashes ---------------------------------------------------------

CONTENT_HASH_MIGRATION = "e9b3c5a27d14"  # record_content_hashes


def test_records_kept_before_content_hashes_are_trusted_as_of_the_migration(
    tmp_path, seal_key_dir
):
    """The migration hashes each older record once; from then on an edit is caught."""
    from datetime import date, datetime
    from pathlib import Path

    from alembic.script import ScriptDirectory
    from flask_migrate import upgrade

    from consentapp import create_app
    from consentapp.models import ConsentRecord
    from consentapp.records.events import append_event

    from .conftest import _test_config

    url = f"sqlite:///{tmp_path / 'old.sqlite3'}"
    app = create_app(_test_config(url, SEAL_KEY_DIR=seal_key_dir))
    migrations = Path(__file__).resolve().parent.parent / "consentapp" / "migrations"
    before = ScriptDirectory(str(migrations)).get_revision(CONTENT_HASH_MIGRATION).down_revision
    source = (migrations.parent.parent / "forms" / "microneedling" / "en.toml").read_bytes()
    sha = hashlib.sha256(source).hexdigest()
    with app.app_context():
        upgrade(revision=before)
        with db.engine.begin() as connection:
            connection.execute(text(
                "INSERT INTO definition_snapshots (sha256, slug, version, language, source, "
                "first_seen_at) VALUES (:sha, 'microneedling', '1', 'en', :source, "
                "'2026-01-01 00:00:00')"), {"sha": sha, "source": source.decode()})
        # A record as the app wrote them before: no content hash in its signed event.
        record = ConsentRecord(
            submission_key="old", procedure_slug="microneedling", procedure_title="Microneedling",
            definition_version="1", definition_sha256=sha, language="en",
            patient_name="Olga Older", patient_name_search="olga older",
            patient_dob=date(1960, 2, 2), patient_contact=None, answers={"diabetes": "no"},
            outcome="eligible", outcome_reasons=[], acknowledged_risks=["bruising"],
            accepted_statements=[], signer_name="Olga Older", signature=None,
            signature_method="typed", signed_at=datetime(2026, 1, 2, 3, 4, 5, 678),
            completed_at=datetime(2026, 1, 2, 3, 4, 5, 678), user_agent="tablet",
        )
        db.session.add(record)
        db.session.flush()
        record_id = record.id
        append_event(record_id, "signed", "patient", {"outcome": "eligible", "address": ""})
        db.session.commit()
        upgrade()
        db.session.remove()
    runner = app.test_cli_runner()
    code, output = _audit(runner)
    assert code == 0, output
    assert _kinds(app, record_id) == ["signed", "content_hash_recorded"]
    # Still renderable: the rerender makes its first PDF, from the trusted row.
    result = runner.invoke(args=["records", "rerender"])
    assert result.exit_code == 0, result.output
    assert [version for version, _ in _pdfs(app, record_id)] == [1]
    _sql(app, "UPDATE consent_records SET answers = '{\"diabetes\": \"yes\"}'")
    code, output = _audit(runner)
    assert code == 1 and record_id in output and "content_hash_recorded" in output
    with app.app_context():
        db.engine.dispose()
