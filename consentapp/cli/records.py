"""Stored records from the command line: `verify`, `audit check`, `records rerender` and
`export fhir`."""

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import select

from ..extensions import db
from ..models import ConsentRecord
from ..procedures.catalog import definition_for
from ..records import jobs
from ..records.fhir import build_bundle
from ..records.integrity import audit_database
from ..records.verify import verify as verify_file

audit_cli = AppGroup("audit", help="Check the integrity of the records' history.")
records_cli = AppGroup("records", help="Look after stored records.")
export_cli = AppGroup("export", help="Export records for other systems.")


@click.command("verify")
@with_appcontext
@click.argument("pdf_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify(pdf_file: Path) -> None:
    """Check a PDF's seal and whether it is a stored record's PDF (exit 0, 1 or 2)."""
    with pdf_file.open("rb") as source:  # hashed in chunks, read whole only when small
        result = verify_file(current_app._get_current_object(), source)
    click.echo(result.message)
    raise SystemExit(int(result.verdict))


def _counted(count: int, noun: str) -> str:
    return f"{count} {noun}" + ("" if count == 1 else "s")


@audit_cli.command("check")
def audit_check() -> None:
    """Walk the hash chain and check every record and PDF against it; exit 1 naming each
    broken event, changed record and missing, changed or extra PDF version."""
    report = audit_database()
    events, records = _counted(report.events, "event"), _counted(report.records, "record")
    pdfs = _counted(report.pdfs, "PDF version")
    if report.intact:
        click.echo(f"ok: {events}, the hash chain is intact; {records} and {pdfs} match it.")
        return
    for number, problem in enumerate(report.chain_problems):
        before = f" ({report.chain_checked} events before it check out)" if number == 0 else ""
        click.echo(f"BROKEN: {problem}{before}.")
    for record_id, problem in report.record_problems:
        click.echo(f"BROKEN: record {record_id}: {problem}.")
    problems = len(report.chain_problems) + len(report.record_problems)
    click.echo(f"checked {events}, {records}, {pdfs}: {_counted(problems, 'problem')}.")
    raise SystemExit(1)


@records_cli.command("rerender")
@click.option("--wait", "wait_seconds", type=click.FloatRange(min=0),
              help="Seconds to wait for jobs other workers hold (default: one render lease "
                   "and half a minute).")
def rerender(wait_seconds: float | None) -> None:
    """Render every PDF still owed: pending and failed jobs, jobs of workers that died, and
    records without any PDF. Exits 1 if any is still not rendered."""
    owed = jobs.queue_owed()
    if wait_seconds is None:
        wait_seconds = jobs.lease().total_seconds() + 30
    stored = jobs.render_all_owed(wait_seconds)
    left = jobs.not_done_count()
    click.echo(
        f"stored {stored} PDF(s); retried {owed.retried} failed or abandoned job(s); queued "
        f"{owed.queued} record(s) that had none; {left} still not rendered"
    )
    for record_id in jobs.refused_record_ids():
        click.echo(f"refused: record {record_id} no longer matches its hash chain, so nothing "
                   "was rendered (run `flask --app wsgi audit check`)")
    if left:
        raise SystemExit(1)


@export_cli.command("fhir")
@click.option("--out", "out_dir", required=True,
              type=click.Path(file_okay=False, path_type=Path), help="Folder for the bundles.")
def export_fhir(out_dir: Path) -> None:
    """Write one FHIR R4 Bundle per record to OUT as <record id>.json."""
    out_dir.mkdir(parents=True, exist_ok=True)
    count = 0
    for record in db.session.scalars(select(ConsentRecord).order_by(ConsentRecord.completed_at)):
        bundle = build_bundle(record, definition_for(record.definition_sha256))
        (out_dir / f"{record.id}.json").write_text(bundle.model_dump_json(indent=2))
        count += 1
    click.echo(f"Wrote {count} FHIR bundle(s) to {out_dir}")


COMMANDS = (verify, audit_cli, records_cli, export_cli)
