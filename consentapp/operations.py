"""Operator commands: `flask --app wsgi records rerender` and `flask --app wsgi backup OUT`."""

import sqlite3
from pathlib import Path

import click
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select, update

from .extensions import db
from .models import ConsentRecord, JobStatus, RecordPdf, RenderJob

records_cli = AppGroup("records", help="Look after stored records.")


@records_cli.command("rerender")
def rerender() -> None:
    """Render every PDF still owed: pending and failed jobs, and records without any PDF."""
    from .records.service import process_pending

    retried = db.session.execute(
        update(RenderJob)
        .where(RenderJob.status == JobStatus.FAILED)
        .values(status=JobStatus.PENDING, attempts=0)
    ).rowcount
    has_pdf = select(RecordPdf.record_id)
    has_job = select(RenderJob.record_id).where(RenderJob.status != JobStatus.DONE)
    orphans = db.session.scalars(
        select(ConsentRecord.id).where(
            ConsentRecord.id.not_in(has_pdf), ConsentRecord.id.not_in(has_job)
        )
    ).all()
    for record_id in orphans:
        db.session.add(RenderJob(record_id=record_id))
    db.session.commit()
    stored = 0
    while batch := process_pending():
        stored += batch
    left = db.session.scalar(
        select(db.func.count()).select_from(RenderJob).where(RenderJob.status != JobStatus.DONE)
    )
    refused = db.session.scalars(
        select(RenderJob.record_id).where(
            RenderJob.status == JobStatus.FAILED, RenderJob.last_error.startswith("refused:")
        ).order_by(RenderJob.record_id)
    ).all()
    click.echo(
        f"stored {stored} PDF(s); retried {retried} failed job(s); queued {len(orphans)} "
        f"record(s) that had none; {left} still not rendered"
    )
    for record_id in sorted(set(refused)):
        click.echo(f"refused: record {record_id} no longer matches its hash chain, so nothing "
                   "was rendered (run `flask --app wsgi audit check`)")
    if left:
        raise SystemExit(1)


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


export_cli = AppGroup("export", help="Export records for other systems.")


@export_cli.command("fhir")
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the bundles.")
def export_fhir(out_dir: Path) -> None:
    """Write one FHIR R4 Bundle per record to OUT as <record id>.json."""
    from .catalog import definition_for
    from .fhir_export import build_bundle

    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for record in db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.completed_at)):
        bundle = build_bundle(record, definition_for(record.definition_sha256))
        (out_dir / f"{record.id}.json").write_text(bundle.model_dump_json(indent=2))
        count += 1
    click.echo(f"Wrote {count} FHIR bundle(s) to {out_dir}")
