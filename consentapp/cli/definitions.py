"""Procedure definitions from the command line: `forms check` and `forms preview`."""

import statistics
import time
from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup

from ..procedures.loader import DefinitionError, load_all
from ..records.preview import UnknownProcedure, preview_pdf

forms_cli = AppGroup("forms", help="Check and preview procedure definitions.")


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


COMMANDS = (forms_cli,)
