"""Fixtures in flaskr's shape: app, client, runner, and an auth helper.

Tests run on SQLite by default and on PostgreSQL when TEST_DATABASE_URL is set. The schema
comes from the real Alembic migrations, once per run; each test starts with empty tables.
"""

import os
import re
from datetime import date

import pytest
from argon2 import PasswordHasher, profiles
from flask_migrate import downgrade, upgrade
from jinja2 import BytecodeCache
from sqlalchemy import Integer, create_engine, make_url, select, text

from consentapp import create_app
from consentapp.extensions import db
from consentapp.models import StaffUser, utcnow
from consentapp.staff import passwords
from consentapp.staff.passwords import hash_password

from .https_front import front  # noqa: F401  Caddy before gunicorn, once per run if used
from .journey import PatientJourney

STAFF_PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True, scope="session")
def _cheap_password_hashes():
    """argon2-cffi's profile for tests: still argon2id, without the 64 MiB and the tenth of a
    second every staff sign-in in every test would spend. Servers the tests start as
    processes of their own (gunicorn, the CLI) keep the production parameters."""
    cheap = PasswordHasher.from_parameters(profiles.CHEAPEST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", cheap)
        patch.setattr(passwords, "_DUMMY_HASH", cheap.hash("not-a-real-password"))
        yield


@pytest.fixture(scope="session")
def seal_key_dir(tmp_path_factory) -> str:
    """One clinic key for the whole run, made on first use like a fresh install's."""
    return str(tmp_path_factory.mktemp("seal") / "clinic")


@pytest.fixture(scope="session")
def database_url(tmp_path_factory, seal_key_dir, worker_id) -> str:
    url = os.environ.get("TEST_DATABASE_URL")
    if url and worker_id != "master":
        url = _database_of_its_own(url, worker_id)
    if url:
        engine = create_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'test.sqlite3'}"
    app = create_app(_test_config(url, SEAL_KEY_DIR=seal_key_dir))
    with app.app_context():
        # Every run proves the migrations go up from empty, all the way down, and up again.
        upgrade()
        downgrade(revision="base")
        upgrade()
        db.engine.dispose()
    return url


def _database_of_its_own(url: str, worker_id: str) -> str:
    """pytest-xdist runs test files in several processes at once: each gets a PostgreSQL
    database of its own, named after the given one (created the first time)."""
    given = make_url(url)
    own = given.set(database=f"{given.database}_{worker_id}")
    engine = create_engine(given, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        exists = connection.execute(
            text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own.database}
        ).first()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{own.database}"'))
    engine.dispose()
    return own.render_as_string(hide_password=False)


def _test_config(url: str, **overrides) -> dict:
    return {
        "TESTING": True,
        "SECRET_KEY": "test-secret-key-not-for-production",
        "SQLALCHEMY_DATABASE_URI": url,
        # Rendering a sealed PDF is most of a signing's cost, and most tests never open one:
        # their render jobs wait, as they would for a stopped worker. Tests that read PDFs
        # say so with the renders_pdfs mark and get them rendered inline, as signed.
        "PDF_RENDER_MODE": "worker",
        "CLINIC_NAME": "Riverside Skin Clinic",
        "RATELIMIT_ENABLED": True,
        **overrides,
    }


@pytest.fixture
def app_config(request, database_url, seal_key_dir) -> dict:
    """Override entries of this in a test module to configure the app fixture."""
    renders = request.node.get_closest_marker("renders_pdfs") is not None
    return _test_config(database_url, SEAL_KEY_DIR=seal_key_dir,
                        PDF_RENDER_MODE="inline" if renders else "worker")


class _CompiledTemplates(BytecodeCache):
    """Templates compiled once per test process, not once per app: each test builds an app of
    its own, and compiling the pages it shows cost about a fifth of a second a test (most of
    it the PDF's). Jinja checks each template's source against what was compiled, so a
    changed template is compiled again."""

    def __init__(self):
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket) -> None:
        if (code := self.compiled.get(bucket.key)) is not None:
            bucket.bytecode_from_string(code)

    def dump_bytecode(self, bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


_compiled_templates = _CompiledTemplates()


@pytest.fixture
def app(app_config):
    app = create_app(app_config)
    app.jinja_env.bytecode_cache = _compiled_templates
    with app.app_context():
        _empty_tables()
    yield app
    with app.app_context():
        db.session.remove()
        _empty_tables()
        db.engine.dispose()


def _empty_tables() -> None:
    # Core DELETEs on purpose: the ORM refuses to delete append-only rows, a test reset may.
    with db.engine.begin() as connection:
        for table in reversed(db.metadata.sorted_tables):
            connection.execute(table.delete())


@pytest.fixture(scope="session")
def _saved_tables() -> dict:
    return {}


@pytest.fixture
def built_once(request, app, app_config, _saved_tables):
    """Factory: `built_once(build)` runs `build()` for the first test that asks (per pytest
    process, module and configuration) and keeps every table's rows; each later test gets
    those rows back instead of building them again. A signed journey with its sealed PDF
    costs about two seconds, putting its rows back a few milliseconds. `build` returns plain
    data that the rows determine (a record id, event ids, the stored PDF's bytes), never a
    client or a session: cookies are not rows."""

    def get(build):
        key = (request.module.__name__, build.__qualname__, repr(sorted(app_config.items())))
        if key in _saved_tables:
            rows, result = _saved_tables[key]
            with app.app_context():
                _put_rows_back(rows)
            return result
        result = build()
        with app.app_context(), db.engine.connect() as connection:
            rows = {table: [dict(row) for row in connection.execute(table.select()).mappings()]
                    for table in db.metadata.sorted_tables}
        _saved_tables[key] = rows, result
        return result

    return get


def _put_rows_back(rows: dict) -> None:
    with db.engine.begin() as connection:
        for table, table_rows in rows.items():
            if table_rows:
                connection.execute(table.insert(), table_rows)
        if connection.dialect.name == "postgresql":
            # The rows came back with their ids: the next insert must not reuse one.
            for table in rows:
                key = list(table.primary_key.columns)
                if len(key) == 1 and isinstance(key[0].type, Integer):
                    connection.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key[0].name}'),"
                        f" COALESCE(MAX({key[0].name}), 1), MAX({key[0].name}) IS NOT NULL)"
                        f" FROM {table.name}"
                    ))


@pytest.fixture(autouse=True)
def _push_request_context():
    """Overrides pytest-flask's fixture of this name, which keeps one request context (and so
    one `g`) open for the whole test. Every client request must get its own context, as in
    production, or state such as Flask-WTF's cached CSRF token leaks between requests."""
    yield


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


def csrf_token(html: str) -> str:
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', html) or re.search(
        r'name="csrf_token" value="([^"]+)"', html
    )
    assert match, "page has no CSRF token"
    return match.group(1)


class AuthActions:
    def __init__(self, app, client):
        self._app = app
        self._client = client

    def create(self, email="clinician@example.org", role="clinician") -> str:
        with self._app.app_context():
            db.session.add(
                StaffUser(email=email, password_hash=hash_password(STAFF_PASSWORD), role=role)
            )
            db.session.commit()
        return email

    def login(self, email="clinician@example.org", password=STAFF_PASSWORD, next_url=None):
        page = self._client.get("/staff/login")
        url = "/staff/login" + (f"?next={next_url}" if next_url else "")
        return self._client.post(
            url,
            data={"email": email, "password": password, "csrf_token": csrf_token(page.text)},
        )

    def logout(self):
        page = self._client.get("/staff/")
        return self._client.post("/staff/logout", data={"csrf_token": csrf_token(page.text)})


@pytest.fixture
def auth(app, client) -> AuthActions:
    return AuthActions(app, client)


@pytest.fixture
def journey(client) -> PatientJourney:
    return PatientJourney(client)


def sign_in(client, email: str, password: str = STAFF_PASSWORD, next_url: str | None = None):
    page = client.get("/staff/login")
    url = "/staff/login" + (f"?next={next_url}" if next_url else "")
    return client.post(
        url, data={"email": email, "password": password, "csrf_token": csrf_token(page.text)}
    )


@pytest.fixture
def staff(app):
    """Factory: a test client of its own, signed in through the form as an account of `role`."""

    def make(role: str, email: str | None = None, full_name: str = ""):
        email = email or f"{role}@example.org"
        with app.app_context():
            if db.session.scalar(select(StaffUser).where(StaffUser.email == email)) is None:
                db.session.add(StaffUser(
                    email=email, full_name=full_name, role=role,
                    password_hash=hash_password(STAFF_PASSWORD),
                ))
                db.session.commit()
        client = app.test_client()
        response = sign_in(client, email)
        assert response.status_code == 302, response.text
        return client

    return make


@pytest.fixture
def make_record(app):
    """Factory: commit a record straight through records.commit (no PDF rendered).

    `screening_yes` names the screening questions answered yes (see forms/microneedling;
    tests/journey.py answers the others as an ordinary patient would); `at` fixes the
    completion time (naive UTC). The record is signed unless the rules say not eligible; a
    signed one has what commit_record asks of every signed record: the check of
    understanding passed, the photo choices (both no) and the e-sign agreement.
    """
    from consentapp.procedures import catalog
    from consentapp.procedures.eligibility import age_on, evaluate
    from consentapp.records import commit
    from consentapp.records.commit import Submission, commit_record
    from consentapp.records.signature import parse

    from .journey import all_screening_answers, drawn_signature

    counter = iter(range(1_000_000))

    def make(name="Maria Example", dob="1971-04-09", *screening_yes, at=None) -> str:
        with app.app_context():
            item = catalog.available()[("microneedling", "en")]
            catalog.snapshot(item)
            db.session.commit()  # as the tablet does when a patient starts
            answers = all_screening_answers(*screening_yes)
            age = age_on(date.fromisoformat(dob), date.today())
            signed = evaluate(item.definition, answers, age=age).outcome != "not_eligible"
            with pytest.MonkeyPatch.context() as patch:
                if at is not None:
                    patch.setattr(commit, "utcnow", lambda: at)
                record = commit_record(item.definition, Submission(
                    submission_key=f"test-{next(counter)}-{name}",
                    definition_sha256=item.sha256,
                    language="en",
                    patient_name=name,
                    patient_dob=date.fromisoformat(dob),
                    patient_contact=None,
                    answers=answers,
                    acknowledged_risks=("bruising",) if signed else (),
                    signer_name=name if signed else None,
                    signature_method="drawn" if signed else None,
                    signature=parse(drawn_signature(), 6000) if signed else None,
                    teach_back=[
                        {"key": q.key, "attempts": [q.answer], "correct": True}
                        for q in item.definition.teach_back
                    ] if signed else None,
                    photo_consent=commit.photo_consent("en", {}) if signed else None,
                    esign_agreement=commit.esign_agreement("en", at or utcnow())
                    if signed else None,
                ))
                return record.id

    return make
