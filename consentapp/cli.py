"""Command-line tools: staff accounts, `forms check | preview`, `verify`, `audit check`,
the PDF worker, `purge-drafts`."""

import statistics
import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .drafts import idle_limit, purge_stale_drafts
from .extensions import db
from .models import StaffRole
from .procedures import load_all
from .staff import accounts

forms_cli = AppGroup("forms", help="Check and preview procedure definitions.")
audit_cli = AppGroup("audit", help="Check the integrity of the records' history.")


@click.command("create-staff")
@with_appcontext
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(StaffRole.ALL, case_sensitive=False))
@click.option("--password", help="Prompted for (hidden) when not given.")
@click.option("--name", "full_name", default="", help="The person's full name, shown on records.")
def create_staff(email: str, role: str, password: str | None, full_name: str) -> None:
    """Create a staff account that signs in with EMAIL."""
    try:
        email = accounts.normalise_email(email)
        if accounts.find(email) is not None:
            raise accounts.AccountError(f"A staff account for {email} already exists.")
        if password is None:
            password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
        accounts.create(email, role.lower(), full_name=full_name, password=password)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Created {role.lower()} account {email}.")


@click.command("deactivate-staff")
@with_appcontext
@click.argument("email")
def deactivate_staff(email: str) -> None:
    """Switch off the account of EMAIL and end its sessions at once (it is never deleted)."""
    try:
        user = accounts.find_or_fail(email)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    if not user.active:
        click.echo(f"{user.email} was already deactivated.")
        return
    ended = accounts.deactivate(user)
    click.echo(f"Deactivated {user.email}; ended {ended} open session(s).")


@click.command("reset-password")
@with_appcontext
@click.argument("email")
def reset_password(email: str) -> None:
    """Give EMAIL a temporary password that must be changed at the next sign-in."""
    try:
        user = accounts.find_or_fail(email)
    except accounts.AccountError as error:
        raise click.ClickException(str(error)) from None
    password = accounts.reset_password(user)
    click.echo(f"Temporary password for {user.email}: {password}")
    click.echo("It must be changed at the next sign-in. Their open sessions were ended.")
    if not user.active:
        click.echo("Note: the account is deactivated; an administrator must reactivate it.")


@forms_cli.command("check")
@click.option(
    "--dir", "forms_dir", type=click.Path(file_okay=False, path_type=Path),
    help="A folder of definitions (default: the configured FORMS_DIR).",
)
def forms_check(forms_dir: Path | None) -> None:
    """Validate every procedure definition; exit 1 naming the file and key of each problem."""
    forms_dir = forms_dir or Path(current_app.config["FORMS_DIR"])
    loaded, errors = load_all(forms_dir)
    for (slug, language), item in sorted(loaded.items()):
        definition = item.definition
        click.echo(
            f"ok    {slug} ({language}) version {definition.version}: "
            f"{len(definition.questions)} questions, {len(definition.risks.items)} risks, "
            f"sha256 {item.sha256[:16]}"
        )
    for error in errors:
        click.echo(f"error {error}", err=True)
    if errors:
        raise SystemExit(1)


@forms_cli.command("preview")
@click.argument("slug")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the PDF.")
@click.option("--language", default="en", show_default=True)
@click.option("--runs", default=1, show_default=True, type=click.IntRange(1, 50),
              help="Render and seal this many times and print the median time.")
def forms_preview(slug: str, out: Path, language: str, runs: int) -> None:
    """Write a sealed SAMPLE record of procedure SLUG to --out (nothing is stored)."""
    from .procedures import DefinitionError
    from .records.preview import UnknownProcedure, preview_pdf

    timings = []
    try:
        for _ in range(runs):
            started = time.perf_counter()
            content = preview_pdf(slug, language)
            timings.append(time.perf_counter() - started)
    except (UnknownProcedure, DefinitionError) as exc:
        raise click.ClickException(str(exc)) from None
    out.write_bytes(content)
    click.echo(
        f"Wrote a sealed SAMPLE record of {slug} ({language}) to {out} ({len(content)} bytes); "
        f"render and seal took {statistics.median(timings) * 1000:.0f} ms"
        + (f" (median of {runs} runs)." if runs > 1 else ".")
    )


@click.command("verify")
@with_appcontext
@click.argument("pdf_file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
def verify(pdf_file: Path) -> None:
    """Check a PDF's seal and whether it is a stored record's PDF (exit 0, 1 or 2)."""
    from .records.seal import verify as verify_file

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
    from .records.integrity import audit_database

    report = audit_database()
    counts = (f"{_counted(report.events, 'event')}, {_counted(report.records, 'record')}, "
              f"{_counted(report.pdfs, 'PDF version')}")
    if report.intact:
        click.echo(f"ok: {_counted(report.events, 'event')}, the hash chain is intact; "
                   f"{_counted(report.records, 'record')} and "
                   f"{_counted(report.pdfs, 'PDF version')} match it.")
        return
    for number, problem in enumerate(report.chain_problems):
        before = f" ({report.chain_checked} events before it check out)" if number == 0 else ""
        click.echo(f"BROKEN: {problem}{before}.")
    for record_id, problem in report.record_problems:
        click.echo(f"BROKEN: record {record_id}: {problem}.")
    problems = len(report.chain_problems) + len(report.record_problems)
    click.echo(f"checked {counts}: {_counted(problems, 'problem')}.")
    raise SystemExit(1)


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Render what is pending, then exit.")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between looks for work.")
def worker(once: bool, poll: float) -> None:
    """Render and store the PDFs of newly committed records (and purge abandoned drafts)."""
    from .records.service import DRAFT_PURGE_EVERY_SECONDS, process_pending

    next_purge = 0.0
    while True:
        if time.monotonic() >= next_purge:
            purge_stale_drafts(idle_limit())
            next_purge = time.monotonic() + DRAFT_PURGE_EVERY_SECONDS
        stored = process_pending()
        db.session.remove()
        if stored:
            click.echo(f"stored {stored} PDF(s)")
        if once:
            return
        time.sleep(poll)


@click.command("purge-drafts")
@with_appcontext
def purge_drafts() -> None:
    """Delete patient drafts left untouched longer than PATIENT_IDLE_RESET_SECONDS."""
    removed = purge_stale_drafts(idle_limit())
    click.echo(f"Removed {removed} abandoned draft(s).")


def init_app(app: Flask) -> None:
    from .operations import backup, export_cli, records_cli

    app.cli.add_command(backup)
    app.cli.add_command(export_cli)
    app.cli.add_command(records_cli)
    app.cli.add_command(create_staff)
    app.cli.add_command(deactivate_staff)
    app.cli.add_command(reset_password)
    app.cli.add_command(forms_cli)
    app.cli.add_command(audit_cli)
    app.cli.add_command(verify)
    app.cli.add_command(worker)
    app.cli.add_command(purge_drafts)
