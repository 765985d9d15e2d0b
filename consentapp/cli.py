"""Command-line tools: `flask --app wsgi create-staff | forms check | worker | purge-drafts`."""

import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import func, select

from .drafts import idle_limit, purge_stale_drafts
from .extensions import db
from .models import StaffRole, StaffUser
from .passwords import hash_password
from .procedures import load_all

MIN_PASSWORD_LENGTH = 12

forms_cli = AppGroup("forms", help="Check and preview procedure definitions.")


@click.command("create-staff")
@with_appcontext
@click.argument("email")
@click.option("--role", required=True, type=click.Choice(StaffRole.ALL, case_sensitive=False))
@click.option("--password", help="Prompted for (hidden) when not given.")
def create_staff(email: str, role: str, password: str | None) -> None:
    """Create a staff account that signs in with EMAIL."""
    email = email.strip().lower()
    if "@" not in email or len(email) > 254:
        raise click.ClickException(f"'{email}' is not an email address.")
    if db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email)):
        raise click.ClickException(f"A staff account for {email} already exists.")
    if password is None:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    if len(password) < MIN_PASSWORD_LENGTH:
        raise click.ClickException(
            f"The password must be at least {MIN_PASSWORD_LENGTH} characters long."
        )
    db.session.add(
        StaffUser(email=email, password_hash=hash_password(password), role=role.lower())
    )
    db.session.commit()
    click.echo(f"Created {role.lower()} account {email}.")


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
    app.cli.add_command(create_staff)
    app.cli.add_command(forms_cli)
    app.cli.add_command(worker)
    app.cli.add_command(purge_drafts)
