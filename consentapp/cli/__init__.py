"""Command-line tools (`flask --app wsgi ...`), in four groups:

staff        create-staff, deactivate-staff, reset-password
definitions  forms check, forms preview
records      verify, audit check, records rerender, export fhir
operations   worker, purge-drafts, backup
"""

from flask import Flask

from . import definitions, operations, records, staff


def init_app(app: Flask) -> None:
    for group in (staff, definitions, records, operations):
        for command in group.COMMANDS:
            app.cli.add_command(command)
