"""The database connection: settings that make SQLite safe for several tablets signing at
once, what counts as a lost connection, and the one way to insert a row only if missing.

WAL lets readers proceed while one writer commits; busy_timeout makes a second writer wait
for the lock instead of failing at once with "database is locked"; foreign_keys makes SQLite
enforce the references PostgreSQL always enforces.
"""

import logging
import sqlite3
from collections.abc import Callable

from flask import Flask, g, has_app_context, session
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import DBAPIError
from werkzeug.routing import IntegerConverter

from .extensions import db
from .models import RecordEvent

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 15_000
# Indexes a migration makes only where the database allows it (the trigram index of
# partial-name search needs PostgreSQL's pg_trgm, migration f2b8d5c1e307): not in the models,
# so autogenerate and the schema check (tests/test_storage.py) leave them out.
OPTIONAL_INDEXES = frozenset({"ix_record_listings_name_trigrams"})


def not_optional(object_, name, type_, reflected, compare_to) -> bool:
    """Alembic's include_object: everything but the optional indexes."""
    return not (type_ == "index" and name in OPTIONAL_INDEXES)


# PostgreSQL error classes that mean the connection is gone: 08 connection exception,
# 57P01-57P03 the server terminated it (pg_terminate_backend, shutdown, restart).
_LOST_SQLSTATES = ("08", "57P01", "57P02", "57P03")


class DatabaseId(IntegerConverter):
    """`<id:name>` in a route: a whole number an id column can hold (PostgreSQL's integer).

    A bigger one is no row's id: the route does not match (404) instead of the database
    refusing the number (SQLite's OverflowError was a 500).
    """

    def __init__(self, map, **kwargs):
        super().__init__(map, min=1, max=2**31 - 1, **kwargs)


def init_app(app: Flask) -> None:
    # Before the blueprints are registered: their routes use it.
    app.url_map.converters["id"] = DatabaseId
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)
    event.listen(engine, "handle_error", _mark_lost_connections)
    for name, listener in _FACT_LISTENERS.items():
        if not event.contains(db.session, name, listener):
            event.listen(db.session, name, listener)
    # Registered after Flask-SQLAlchemy's, so it runs first: ending the request's session
    # must not fail the request (gunicorn would answer with its own bare error page).
    app.teardown_appcontext(_remove_session_quietly)


def _configure_sqlite(dbapi_connection, connection_record):
    assert isinstance(dbapi_connection, sqlite3.Connection)
    cursor = dbapi_connection.cursor()
    try:
        if not _is_memory_database(cursor):
            cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys=ON")
    finally:
        cursor.close()


def _is_memory_database(cursor) -> bool:
    rows = cursor.execute("PRAGMA database_list").fetchall()
    return any(name == "main" and not path for _, name, path in rows)


def _mark_lost_connections(context) -> None:
    """psycopg reports a terminated connection (pg_terminate_backend) as an ordinary error
    until it next touches the socket; call it a disconnect, so SQLAlchemy throws the
    connection (and the pool's others, terminated alike) away instead of reusing it."""
    sqlstate = getattr(context.original_exception, "sqlstate", None) or ""
    if sqlstate.startswith(_LOST_SQLSTATES):
        context.is_disconnect = True


def is_lost_connection(exc: BaseException) -> bool:
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def _remove_session_quietly(exc: BaseException | None) -> None:
    try:
        db.session.remove()
    except DBAPIError as error:
        # The rollback that ends the session found the connection gone: nothing was left
        # to roll back, and the pool has dropped the connection.
        log.warning("Ending a database session failed (%s)", type(error).__name__)
        db.session.registry.clear()


def insert_if_missing(model, values: dict, *, key: list[str] | None = None) -> bool:
    """INSERT the row unless one with the same key exists (or arrives meanwhile from a
    concurrent transaction): ON CONFLICT DO NOTHING on both databases, so two requests
    racing to store the same thing both succeed. True when this call inserted it."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=key)
    return db.session.execute(statement).rowcount == 1


# -- a request that lost its connection ---------------------------------------------------
# Set in `g` once the request has begun to commit a transaction that adds to a record's
# history (an event): replaying such a request could add it twice.
_FACTS_COMMITTING = "consent_facts_committing"


def _note_facts(db_session, flush_context) -> None:
    if any(isinstance(row, RecordEvent) for row in db_session.new):
        db_session.info["adds_facts"] = True


def _facts_committing(db_session) -> None:
    if db_session.info.get("adds_facts") and has_app_context():
        setattr(g, _FACTS_COMMITTING, True)


def _forget_facts(db_session, *args) -> None:
    db_session.info.pop("adds_facts", None)


_FACT_LISTENERS = {
    "after_flush": _note_facts,
    "before_commit": _facts_committing,
    "after_commit": _forget_facts,
    "after_soft_rollback": _forget_facts,
}


def dispatch_retrying_once(dispatch: Callable, give_up: Callable):
    """Run the request (`dispatch`); if it lost its database connection, run it once more on
    a fresh one, as if the first attempt had never happened: its transaction died with the
    connection, so nothing of it was kept, and the session cookie and `g` are put back as
    they were.

    Not when it had begun to commit something that adds to a record (an event): that may
    have been stored before the connection went, and twice would be wrong. Then, or when the
    second attempt fails too, the answer is `give_up()`, the app's own "please try again"
    page. A sign answered so is found saved when the patient taps again (signing is
    idempotent per draft, records/commit.py).
    """
    saved_session = dict(session)
    try:
        return dispatch()
    except DBAPIError as exc:
        if not is_lost_connection(exc):
            raise
        if g.get(_FACTS_COMMITTING):
            log.warning("A request lost its database connection while committing (%s)",
                        type(exc).__name__)
            _remove_session_quietly(None)
            return give_up()
        log.warning("A request lost its database connection (%s); trying it once more",
                    type(exc).__name__)
    _remove_session_quietly(None)
    vars(g._get_current_object()).clear()
    session.clear()
    session.update(saved_session)
    try:
        return dispatch()
    except DBAPIError as exc:
        if not is_lost_connection(exc):
            raise
        log.warning("A request lost its database connection twice (%s)", type(exc).__name__)
        _remove_session_quietly(None)
        return give_up()
