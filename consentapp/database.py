"""Connection settings that make SQLite safe for several tablets signing at once.

WAL lets readers proceed while one writer commits; busy_timeout makes a second writer wait
for the lock instead of failing at once with "database is locked"; foreign_keys makes SQLite
enforce the references PostgreSQL always enforces.
"""

import sqlite3

from flask import Flask
from sqlalchemy import event
from werkzeug.routing import IntegerConverter

from .extensions import db

SQLITE_BUSY_TIMEOUT_MS = 15_000


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
