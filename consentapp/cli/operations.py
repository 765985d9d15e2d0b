"""Running the clinic's server: `worker`, `purge-drafts`, `backup` and `doctor`."""

import signal
import sqlite3
from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .. import backups
from ..extensions import db
from ..health import doctor as doctor_checks
from ..patient.draft import purge_abandoned
from ..records.jobs import RenderWorker


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Render what is pending, then exit.")
# Half a second: a look is one indexed query, and what a patient waits for after signing is
# this plus the render (tests/bench/run.py, sign_to_pdf_p95_s).
@click.option("--poll", default=0.5, show_default=True, help="Seconds between looks for work.")
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

    def stop(signum, frame) -> None:
        # systemctl stop (SIGTERM) or Ctrl-C: finish the PDFs in hand rather than leave a
        # job claimed until its lease runs out; a second signal stops at once.
        click.echo(f"{signal.Signals(signum).name}: stopping after the PDFs in hand")
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        signal.signal(signal.SIGINT, signal.default_int_handler)
        loop.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    loop.run_forever(on_stored=report)
    click.echo("The PDF worker stopped.")


@click.command("purge-drafts")
@with_appcontext
def purge_drafts() -> None:
    """Delete patient drafts left untouched longer than PATIENT_IDLE_RESET_SECONDS."""
    removed = purge_abandoned()
    click.echo(f"Removed {removed} abandoned draft(s).")


@click.command("backup")
@click.argument("out", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--dir", "directory", type=click.Path(file_okay=False, path_type=Path),
              help="Write a new dated backup folder here (default: BACKUP_DIR).")
@click.option("--keep", type=click.IntRange(min=1),
              help="With --dir: keep this many newest backups (default: BACKUP_KEEP).")
@with_appcontext
def backup(out: Path | None, directory: Path | None, keep: int | None) -> None:
    """Back up the records database and the seal key while the app keeps running.

    With OUT, copy the SQLite database alone to that file. Otherwise write a dated folder
    (the database and the seal key) into --dir, keeping the newest --keep folders: what
    consentapp-backup.timer runs every night, and where `doctor` looks.
    """
    config = current_app.config
    url = db.engine.url
    sqlite = url.get_backend_name() == "sqlite"
    pg_dump = (
        "This database is PostgreSQL: back it up with pg_dump (for example "
        "`pg_dump --format=custom --file consent.dump DBNAME`) and restore with pg_restore."
    )
    if out is not None:
        if directory is not None or keep is not None:
            raise click.UsageError("give either OUT or --dir/--keep, not both")
        if not sqlite:
            raise click.ClickException(pg_dump)
        if out.exists():
            raise click.ClickException(f"{out} already exists; choose a new file name.")
        backups.copy_sqlite(url.database, out)
        click.echo(f"Backed up to {out}. To restore: stop the app, copy it over "
                   f"{url.database}, start again.")
        return
    directory = directory or backups.backup_dir(config)
    keep = keep or config["BACKUP_KEEP"]
    try:
        made, removed = backups.take(config, url.database if sqlite else None, directory, keep)
    except (backups.BackupError, OSError, sqlite3.Error) as error:
        raise click.ClickException(f"The backup failed: {error}") from None
    held = ("the database and the seal key" if sqlite else "the seal key")
    if not backups.seal_files(config):
        held = "the database (no seal key has been made yet)" if sqlite else "nothing"
    click.echo(f"Backed up {held} to {made.path}; kept the newest {keep}, removed "
               f"{len(removed)}.")
    if not sqlite:
        raise click.ClickException(pg_dump)
    click.echo(f"To restore: stop the app, copy {backups.DATABASE_FILE} over {url.database} "
               f"and {backups.SEAL_FOLDER}/ over {config['SEAL_KEY_DIR']}, start again.")


@click.command("doctor")
@with_appcontext
def doctor() -> None:
    """Check this installation, one line per check; exit 1 on any problem."""
    findings = doctor_checks.run()
    for finding in findings:
        click.echo(finding.line())
    problems = sum(not finding.ok for finding in findings)
    if problems:
        click.echo(f"{problems} problem(s).", err=True)
        raise SystemExit(1)


COMMANDS = (worker, purge_drafts, backup, doctor)
