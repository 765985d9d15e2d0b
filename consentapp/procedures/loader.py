"""Reading procedure definitions: the TOML files under forms/, one per procedure and language.

A clinic edits these without Python, so the loader is strict and every error names the file
and the key. Each definition is identified by the SHA-256 of its exact bytes; a record
stores that hash.
"""

import hashlib
import tomllib
from pathlib import Path

from pydantic import BaseModel, ConfigDict, ValidationError

from .schema import Definition
from .translations import REFERENCE_LANGUAGE, translation_errors


class DefinitionError(ValueError):
    """A definition file is unreadable or invalid; the message names the file and the key."""


class LoadedDefinition(BaseModel):
    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    definition: Definition
    source: str
    sha256: str
    path: str


def _describe(error: ValidationError) -> str:
    lines = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        message = item["msg"]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        lines.append(f"{key}: {message}")
    return "; ".join(lines)


def parse_definition(source: str, origin: str) -> Definition:
    try:
        data = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        raise DefinitionError(f"{origin}: not valid TOML: {exc}") from exc
    try:
        return Definition.model_validate(data)
    except ValidationError as exc:
        raise DefinitionError(f"{origin}: {_describe(exc)}") from exc


def load_file(path: Path) -> LoadedDefinition:
    try:
        raw = path.read_bytes()
        source = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise DefinitionError(f"{path}: cannot be read as UTF-8 text: {exc}") from exc
    definition = parse_definition(source, str(path))
    if definition.slug != path.parent.name:
        raise DefinitionError(
            f"{path}: slug: '{definition.slug}' must match its folder '{path.parent.name}'"
        )
    if definition.language != path.stem:
        raise DefinitionError(
            f"{path}: language: '{definition.language}' must match the file name '{path.name}'"
        )
    return LoadedDefinition(
        definition=definition,
        source=source,
        sha256=hashlib.sha256(raw).hexdigest(),
        path=str(path),
    )


def definition_files(forms_dir: Path) -> list[Path]:
    return sorted(forms_dir.glob("*/*.toml"))


def load_all(forms_dir: Path) -> tuple[dict[tuple[str, str], LoadedDefinition], list[str]]:
    """Every definition under forms_dir, keyed by (slug, language), and the errors found.

    Each translation of a procedure is checked against its English file: a patient must be
    asked the same questions, and shown the same risks, whatever language they read.
    """
    loaded: dict[tuple[str, str], LoadedDefinition] = {}
    errors: list[str] = []
    for path in definition_files(forms_dir):
        try:
            item = load_file(path)
        except DefinitionError as exc:
            errors.append(str(exc))
            continue
        loaded[(item.definition.slug, item.definition.language)] = item
    for (slug, language), item in sorted(loaded.items()):
        reference = loaded.get((slug, REFERENCE_LANGUAGE))
        if reference is None or language == REFERENCE_LANGUAGE:
            continue
        if differences := translation_errors(reference, item):
            errors.extend(differences)
            del loaded[(slug, language)]
    if not loaded and not errors:
        errors.append(f"{forms_dir}: no procedure definitions found (expected SLUG/LANG.toml)")
    return loaded, errors
