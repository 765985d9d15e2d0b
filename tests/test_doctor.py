"""`flask --app wsgi doctor`: one line per check, each problem named with what to do, exit 1.

Each test breaks one thing and reads that check's line. The whole good install (HTTPS through
Caddy included) passes in tests/test_https_front.py.
"""

import socket
import stat
from collections import namedtuple
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from consentapp import create_app
from consentapp.extensions import db
from consentapp.models import JobStatus, RenderJob, utcnow
from consentapp.records.clinic_key import CERT_FILE, KEY_FILE, generate_self_signed
from consentapp.records.jobs import RenderWorker

from .conftest import _test_config

GOOD_KEY = "a" * 8 + "f3c9e1d27b4a65089c1e2d3f4a5b6c7d"


def doctor(app) -> tuple[int, dict[str, str]]:
    """The exit code, and each check's line (without its name) by name."""
    result = app.test_cli_runner().invoke(args=["doctor"])
    lines = {}
    for line in result.output.splitlines():
        if line.endswith("problem(s)."):  # the summary, on stderr
            continue
        state, rest = line.split(None, 1)
        name, text = rest.split(": ", 1)
        assert state in ("ok", "PROBLEM"), line
        lines[name] = f"{state} {text}"
    return result.exit_code, lines


@pytest.fixture
def configure(app_config, tmp_path):
    """configure(**settings) -> an app like the test one, with its own seal key and backups."""
    apps = []

    def make(**settings):
        app = create_app({
            **app_config,
            "SECRET_KEY": GOOD_KEY,
            "SEAL_KEY_DIR": str(tmp_path / "seal"),
            "BACKUP_DIR": str(tmp_path / "backups"),
            **settings,
        })
        apps.append(app)
        return app

    yield make
    for app in apps:
        with app.app_context():
            db.session.remove()
            db.engine.dispose()


def test_every_check_has_one_line_and_a_problem_exits_1(configure):
    code, lines = doctor(configure())
    assert list(lines) == [
        "secret key", "database", "seal key", "backups", "public address", "clinic name",
        "clinic phone", "time zone", "PDF worker", "PDFs", "disk space", "sign-in throttling",
    ]
    assert code == 1  # no public address, no phone, no backup, ... in the test config


@pytest.mark.parametrize(("key", "problem"), [
    ("test-secret-key-not-for-production", "an example value"),
    ("changeme", "an example value"),
    ("short-but-not-an-example", "has 24 characters; use at least 32"),
])
def test_secret_key(configure, key, problem):
    assert problem in doctor(configure(SECRET_KEY=key))[1]["secret key"]
    assert doctor(configure())[1]["secret key"] == "ok set (40 characters)"


def test_secret_key_in_development_mode(configure):
    line = doctor(configure(DEVELOPMENT=True))[1]["secret key"]
    assert line.startswith("PROBLEM development mode")


def test_database_not_migrated_and_unreachable(configure, tmp_path):
    line = doctor(configure(SQLALCHEMY_DATABASE_URI=f"sqlite:///{tmp_path / 'new.sqlite3'}"))[1]
    assert line["database"].startswith("PROBLEM at revision none")
    assert "run `flask --app wsgi db upgrade`" in line["database"]
    down = doctor(configure(SQLALCHEMY_DATABASE_URI="postgresql+psycopg://x@127.0.0.1:1/none"))
    assert down[1]["database"].startswith("PROBLEM cannot be reached (OperationalError)")
    assert doctor(configure())[1]["database"].startswith("ok ")


def test_seal_key_missing_and_readable_by_others(configure, tmp_path):
    app = configure()
    assert "PROBLEM none in" in doctor(app)[1]["seal key"]
    assert "forms preview" in doctor(app)[1]["seal key"]
    generate_self_signed(tmp_path / "seal", "Riverside Skin Clinic")
    assert doctor(app)[1]["seal key"].startswith("ok present in")
    (tmp_path / "seal" / KEY_FILE).chmod(0o644)
    line = doctor(app)[1]["seal key"]
    assert line == f"PROBLEM {tmp_path / 'seal' / KEY_FILE} can be read by others: chmod 600 " \
                   "it (owner: the app's user)"


def test_seal_key_of_the_clinic_s_own_file_that_is_missing(configure, tmp_path):
    line = doctor(configure(SEAL_PKCS12_FILE=str(tmp_path / "clinic.p12")))[1]["seal key"]
    assert line == f"PROBLEM SEAL_PKCS12_FILE {tmp_path / 'clinic.p12'} does not exist"


def test_backups_none_then_one_then_a_new_key_then_old(configure, tmp_path):
    app = configure()
    generate_self_signed(tmp_path / "seal", "Riverside Skin Clinic")
    line = doctor(app)[1]["backups"]
    assert line.startswith(f"PROBLEM none in {tmp_path / 'backups'}")
    result = app.test_cli_runner().invoke(args=["backup", "--dir", str(tmp_path / "backups")])
    if db_is_postgresql(app):
        assert result.exit_code == 1 and "pg_dump" in result.output
    else:
        assert result.exit_code == 0, result.output
    assert doctor(app)[1]["backups"].startswith("ok ")

    # A new key (the folder lost and made again): the backup no longer holds it.
    for name in (KEY_FILE, CERT_FILE):
        (tmp_path / "seal" / name).unlink()
    (tmp_path / "seal").rmdir()
    generate_self_signed(tmp_path / "seal", "Riverside Skin Clinic")
    assert "the seal key was made or changed after the newest backup" in doctor(app)[1]["backups"]

    with app.app_context():
        from consentapp.health import doctor as checks

        later = datetime.now(UTC) + timedelta(days=3)
        app.test_cli_runner().invoke(args=["backup", "--dir", str(tmp_path / "backups")])
        finding = checks.backup(app.config, now=later)
    assert not finding.ok and "is consentapp-backup.timer enabled?" in finding.text


def db_is_postgresql(app) -> bool:
    return app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_public_address_unset_plain_http_and_unreachable(configure):
    assert "PROBLEM PUBLIC_BASE_URL is not set" in doctor(configure())[1]["public address"]
    plain = doctor(configure(PUBLIC_BASE_URL="http://consent.clinic.lan"))[1]["public address"]
    assert plain.startswith("PROBLEM PUBLIC_BASE_URL http://consent.clinic.lan is not https://")
    nobody = f"https://127.0.0.1:{free_port()}"
    line = doctor(configure(PUBLIC_BASE_URL=nobody))[1]["public address"]
    assert line.startswith(f"PROBLEM {nobody} cannot be reached")
    assert "is Caddy running" in line


def test_clinic_name_phone_and_time_zone_left_at_their_defaults(configure):
    lines = doctor(configure(CLINIC_NAME="Your Clinic", CLINIC_TIMEZONE="UTC"))[1]
    assert lines["clinic name"].startswith("PROBLEM CLINIC_NAME is 'Your Clinic', the default")
    assert lines["clinic phone"].startswith("PROBLEM CLINIC_PHONE is not set")
    assert lines["time zone"].startswith("PROBLEM CLINIC_TIMEZONE is UTC, the default")
    lines = doctor(configure(CLINIC_PHONE="(555) 010-0199", CLINIC_TIMEZONE="America/Chicago"))[1]
    assert lines["clinic name"] == "ok Riverside Skin Clinic"
    assert lines["clinic phone"] == "ok (555) 010-0199"
    assert lines["time zone"] == "ok America/Chicago"


@pytest.mark.renders_pdfs
def test_worker_silent_then_alive(configure):
    app = configure(PDF_RENDER_MODE="worker")
    assert doctor(app)[1]["PDF worker"].startswith("PROBLEM never heard from")
    RenderWorker(app).run_once()
    assert doctor(app)[1]["PDF worker"].startswith("ok alive, last heard")
    assert doctor(configure())[1]["PDF worker"].startswith("ok none needed")


def test_pdfs_failed_and_overdue(configure, make_record, app):
    target = configure()
    record_id = make_record("Owed Patient")
    assert doctor(target)[1]["PDFs"] == "ok 1 waiting, none overdue"
    with app.app_context():
        db.session.execute(update(RenderJob).where(RenderJob.record_id == record_id)
                           .values(created_at=utcnow() - timedelta(hours=1)))
        db.session.commit()
    assert doctor(target)[1]["PDFs"].startswith("PROBLEM 1 waiting longer than 120 s")
    with app.app_context():
        db.session.execute(update(RenderJob).values(status=JobStatus.FAILED))
        db.session.commit()
    line = doctor(target)[1]["PDFs"]
    assert line.startswith("PROBLEM 1 failed to render") and "records rerender" in line


def test_disk_space_short(configure, monkeypatch):
    app = configure()
    assert doctor(app)[1]["disk space"].startswith("ok ")
    usage = namedtuple("usage", "total used free")
    monkeypatch.setattr("shutil.disk_usage", lambda path: usage(10**10, 10**10 - 10**8, 10**8))
    line = doctor(app)[1]["disk space"]
    assert line.startswith("PROBLEM ") and "95.4 MiB free for backups" in line
    assert "needs 1.0 GiB" in line


def test_rate_limit_store_in_memory_with_several_workers(configure, monkeypatch):
    monkeypatch.delenv("GUNICORN_WORKERS", raising=False)
    line = doctor(configure(RATELIMIT_STORAGE_URI="memory://"))[1]["sign-in throttling"]
    assert line.startswith("PROBLEM RATELIMIT_STORAGE_URI is memory://: each gunicorn worker")
    monkeypatch.setenv("GUNICORN_WORKERS", "1")
    line = doctor(configure(RATELIMIT_STORAGE_URI="memory://"))[1]["sign-in throttling"]
    assert line.startswith("ok in memory, and gunicorn runs one worker")


def test_backup_folders_are_private_and_pruned(configure, tmp_path, make_record):
    app = configure()
    sqlite = not db_is_postgresql(app)
    generate_self_signed(tmp_path / "seal", "Riverside Skin Clinic")
    make_record("Kept Patient")
    from consentapp import backups

    with app.app_context():
        database = db.engine.url.database if sqlite else None
        for hour in (1, 2, 3):
            backups.take(app.config, database, tmp_path / "backups", keep=2,
                         now=datetime(2026, 12, 1, hour, tzinfo=UTC))
    names = sorted(path.name for path in (tmp_path / "backups").iterdir())
    assert names == ["consent-backup-20261201-020000", "consent-backup-20261201-030000"]

    result = app.test_cli_runner().invoke(
        args=["backup", "--dir", str(tmp_path / "backups"), "--keep", "2"]
    )
    assert "kept the newest 2, removed 1" in result.output
    newest = sorted((tmp_path / "backups").iterdir())[-1]
    assert stat.S_IMODE(newest.stat().st_mode) == 0o700
    assert (newest / "seal" / KEY_FILE).read_bytes() == (tmp_path / "seal" / KEY_FILE).read_bytes()
    assert stat.S_IMODE((newest / "seal" / KEY_FILE).stat().st_mode) == 0o600
    if not sqlite:
        # The seal key is saved; the database is pg_dump's, and the command says so and fails.
        assert result.exit_code == 1 and "pg_dump --format=custom" in result.output
        assert not (newest / "consent.sqlite3").exists()
        return
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE((newest / "consent.sqlite3").stat().st_mode) == 0o600
    restored = create_app(_test_config(f"sqlite:///{newest / 'consent.sqlite3'}"))
    with restored.app_context():
        from consentapp.models import ConsentRecord

        assert db.session.scalars(db.select(ConsentRecord.patient_name)).all() == ["Kept Patient"]
        db.engine.dispose()
