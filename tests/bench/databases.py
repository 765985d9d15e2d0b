"""Where a benchmark section keeps its data: a SQLite file, or a PostgreSQL database of its own.

`--database postgresql://USER@HOST:PORT/NAME` names a server and a database that must not
exist yet: each section creates its own database, NAME or NAME_<section>, from the server's
`postgres` database, and drops it when done (also after a failure), so a run never touches
anyone's data and leaves nothing behind.
"""

import shutil
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, make_url, text
from sqlalchemy.engine import URL


def postgresql_url(url: str) -> URL:
    """postgresql://... as SQLAlchemy drives it with psycopg 3, the app's driver."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise SystemExit(f"--database takes a postgresql:// address, not {parsed.drivername}://")
    if not parsed.database or parsed.database == "postgres":
        raise SystemExit("--database must name a database for the benchmark to create")
    return parsed.set(drivername="postgresql+psycopg")


def _server(url: URL):
    return create_engine(url.set(database="postgres"), isolation_level="AUTOCOMMIT")


@contextmanager
def scratch(server: URL | None, section: str, folder: Path, template: str | None = None):
    """Yields the SQLAlchemy address of a new database for one section (a string): empty,
    or a copy of the database `template` (another section's, not in use)."""
    if server is None:
        path = folder / (section + ".sqlite3")
        if template is not None:
            shutil.copyfile(make_url(template).database, path)
        yield f"sqlite:///{path}"
        return
    name = server.database if section == "main" else f"{server.database}_{section}"
    admin = _server(server)
    with admin.connect() as connection:
        if connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                             {"name": name}):
            raise SystemExit(f"database {name} exists already: the benchmark creates its own "
                             "databases and drops them, so name one that does not exist")
        copy = f' TEMPLATE "{make_url(template).database}"' if template else ""
        connection.execute(text(f'CREATE DATABASE "{name}"{copy}'))
    try:
        yield server.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def is_postgresql(url: str) -> bool:
    return make_url(url).get_backend_name() == "postgresql"
