"""Running the clinic's server: `worker`, `purge-drafts` and `backup`."""

import sqlite3
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from ..extensions import db
from ..patient.draft import purge_abandoned
from ..records.jobs import RenderWorker


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Render what is pending, then exit.")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between looks for work.")
def worker(once: bool, poll: float) -> None:
    """Render and store the PDFs of newly committed records (and purge abandoned drafts)."""
    loop = RenderWorker(current_app._get_current_object(), poll_seconds=poll)

    def report(stored: int) -> None:
        click.echo(f"stored {stored} PDF(s)")

    if once:
        stored = loop.run_once()
        if stored:
            report(stored)
        return
    loop.run_forever(on_stored=report)


@click.command("purge-drafts")
@with_appcontext
def purge_drafts() -> None:
    """Delete patient drafts left untouched longer than PATIENT_IDLE_RESET_SECONDS."""
    removed = purge_abandoned()
    click.echo(f"Removed {removed} abandoned draft(s).")


@click.command("backup")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@with_appcontext
def backup(out: Path) -> None:
    """Copy the SQLite database to OUT while the app keeps running (SQLite's online backup)."""
    url = db.engine.url
    if url.get_backend_name() != "sqlite":
        raise click.ClickException(
            "This database is PostgreSQL: back it up with pg_dump (for example "
            "`pg_dump --format=custom --file consent.dump DBNAME`) and restore with pg_restore."
        )
    if out.exists():
        raise click.ClickException(f"{out} already exists; choose a new file name.")
    source = sqlite3.connect(url.database)
    target = sqlite3.connect(out)
    try:
        with target:
            source.backup(target)
    finally:
        target.close()
        source.close()
    click.echo(
        f"Backed up to {out}. To restore: stop the app, copy it over {url.database}, start again."
    )


COMMANDS = (worker, purge_drafts, backup)
