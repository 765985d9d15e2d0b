"""Procedure definitions from the command line: `forms check` and `forms preview`."""

import statistics
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..procedures.loader import DefinitionError, definition_files, load_all
from ..procedures.schema import definition_warnings
from ..records.preview import UnknownProcedure, preview_aftercare_pdf, preview_pdf

forms_cli = AppGroup("forms", help="Check and preview procedure definitions.")


@forms_cli.command("check")
@click.option(
    "--dir", "forms_dir", type=click.Path(file_okay=False, path_type=Path),
    help="A folder of definitions (default: the configured FORMS_DIR).",
)
def forms_check(forms_dir: Path | None) -> None:
    """Validate every procedure definition; exit 1 naming the file and key of each problem.

    Warnings (a format 1 file, a "not sure" option no rule reads, no phone number for a
    definition that tells the patient to call...) are printed and do not change the exit code.
    """
    config = current_app.config
    forms_dir = forms_dir or Path(config["FORMS_DIR"])
    loaded, errors = load_all(forms_dir)
    warnings = []
    for (slug, language), item in sorted(loaded.items()):
        definition = item.definition
        click.echo(
            f"ok    {slug} ({language}) version {definition.version}: "
            f"{len(definition.questions)} questions, {len(definition.all_rules)} rules, "
            f"{len(definition.risks.items)} risks, sha256 {item.sha256[:16]}"
        )
        warnings += [f"{item.path}: {line}" for line in definition_warnings(definition)]
        call = definition.when_to_call
        if call is not None and not config.get("CLINIC_PHONE"):
            warnings.append(f"{item.path}: when_to_call.call: CLINIC_PHONE is not set, so "
                            "patients are told to ask the staff for the number")
        if call is not None and call.call_after_hours and not config.get(
            "CLINIC_AFTER_HOURS_PHONE"
        ):
            warnings.append(f"{item.path}: when_to_call.call_after_hours: "
                            "CLINIC_AFTER_HOURS_PHONE is not set, so the line is left out")
    for warning in warnings:
        click.echo(f"warning {warning}", err=True)
    for error in errors:
        click.echo(f"error {error}", err=True)
    click.echo(
        f"forms check: {len(definition_files(forms_dir))} files, {len(errors)} errors, "
        f"{len(warnings)} warnings"
    )
    if errors:
        raise SystemExit(1)


@forms_cli.command("preview")
@click.argument("slug")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write the PDF.")
@click.option("--language", default="en", show_default=True)
@click.option("--runs", default=1, show_default=True, type=click.IntRange(1, 50),
              help="Render and seal this many times and print the median time.")
@click.option("--aftercare", is_flag=True,
              help="Write the aftercare sheet staff print for a patient instead.")
def forms_preview(slug: str, out: Path, language: str, runs: int, aftercare: bool) -> None:
    """Write a sealed SAMPLE record of procedure SLUG to --out (nothing is stored)."""
    timings = []
    make = preview_aftercare_pdf if aftercare else preview_pdf
    try:
        for _ in range(runs):
            started = time.perf_counter()
            content = make(slug, language)
            timings.append(time.perf_counter() - started)
    except (UnknownProcedure, DefinitionError) as exc:
        raise click.ClickException(str(exc)) from None
    out.write_bytes(content)
    what = "the aftercare sheet of a SAMPLE patient" if aftercare else "a sealed SAMPLE record"
    click.echo(
        f"Wrote {what} of {slug} ({language}) to {out} ({len(content)} bytes); "
        f"{'render' if aftercare else 'render and seal'} took "
        f"{statistics.median(timings) * 1000:.0f} ms"
        + (f" (median of {runs} runs)." if runs > 1 else ".")
    )


COMMANDS = (forms_cli,)
