"""The database connection: settings that make SQLite safe for several tablets signing at
once, and the one way to insert a row only if missing.

WAL lets readers proceed while one writer commits; busy_timeout makes a second writer wait
for the lock instead of failing at once with "database is locked"; foreign_keys makes SQLite
enforce the references PostgreSQL always enforces.
"""

import sqlite3

from flask import Flask
from sqlalchemy import event
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from .extensions import db

SQLITE_BUSY_TIMEOUT_MS = 15_000


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        event.listen(engine, "connect", _configure_sqlite)


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


def insert_if_missing(model, values: dict, *, key: list[str] | None = None) -> bool:
    """INSERT the row unless one with the same key exists (or arrives meanwhile from a
    concurrent transaction): ON CONFLICT DO NOTHING on both databases, so two requests
    racing to store the same thing both succeed. True when this call inserted it."""
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(model).values(**values).on_conflict_do_nothing(index_elements=key)
    return db.session.execute(statement).rowcount == 1

