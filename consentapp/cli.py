"""Command-line tools: staff accounts, `forms check`, the PDF worker."""

import time
from pathlib import Path

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from .extensions import db
from .models import StaffRole
from .procedures import load_all
from .staff import accounts

forms_cli = AppGroup("forms", help="Check and preview procedure definitions.")


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


@click.command("worker")
@with_appcontext
@click.option("--once", is_flag=True, help="Render what is pending, then exit.")
@click.option("--poll", default=2.0, show_default=True, help="Seconds between looks for work.")
def worker(once: bool, poll: float) -> None:
    """Render and store the PDFs of newly committed records."""
    from .records.service import process_pending

    while True:
        stored = process_pending()
        db.session.remove()
        if stored:
            click.echo(f"stored {stored} PDF(s)")
        if once:
            return
        time.sleep(poll)


def init_app(app: Flask) -> None:
    app.cli.add_command(create_staff)
    app.cli.add_command(deactivate_staff)
    app.cli.add_command(reset_password)
    app.cli.add_command(forms_cli)
    app.cli.add_command(worker)
