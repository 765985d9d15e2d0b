"""Staff accounts from the command line: `create-staff`, `deactivate-staff`, `reset-password`.

The same rules as the admin pages (staff/accounts.py).
"""

import click
from flask.cli import with_appcontext

from ..models import StaffRole
from ..staff import accounts


@click.command("create-staff")
@with_appcontext
@click.argument("email")
@click.option("--role", required=True,
              type=click.Choice([role.value for role in StaffRole], case_sensitive=False))
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


COMMANDS = (create_staff, deactivate_staff, reset_password)
