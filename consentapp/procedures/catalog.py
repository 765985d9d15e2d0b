"""The procedures on offer, read from FORMS_DIR and re-read when a file there changes."""

from pathlib import Path
from threading import Lock

from flask import current_app

from ..database import insert_if_missing
from ..extensions import db
from ..models import DefinitionSnapshot, utcnow
from ..paths import fingerprint
from .loader import DefinitionError, LoadedDefinition, definition_files, load_all, parse_definition
from .schema import Definition

_lock = Lock()
_cache: dict[str, tuple[tuple, dict[tuple[str, str], LoadedDefinition]]] = {}


def available() -> dict[tuple[str, str], LoadedDefinition]:
    """Valid definitions keyed by (slug, language). An invalid file raises DefinitionError."""
    forms_dir = Path(current_app.config["FORMS_DIR"])
    files_now = fingerprint(definition_files(forms_dir))
    with _lock:
        cached = _cache.get(str(forms_dir))
        if cached and cached[0] == files_now:
            return cached[1]
        loaded, errors = load_all(forms_dir)
        if errors:
            raise DefinitionError(errors)
        _cache[str(forms_dir)] = (files_now, loaded)
        return loaded


def in_language(slug: str, language: str) -> LoadedDefinition | None:
    """Procedure `slug` in `language`; in English (else any language it has) where it has no
    such translation, so a procedure not yet translated is still offered."""
    items = available()
    found = items.get((slug, language)) or items.get((slug, "en"))
    if found is None:
        found = next((item for (s, _lang), item in sorted(items.items()) if s == slug), None)
    return found


def offered(language: str) -> list[LoadedDefinition]:
    """One definition per procedure, each in `language` where it can be, sorted by title."""
    slugs = {slug for slug, _language in available()}
    items = [in_language(slug, language) for slug in slugs]
    return sorted((item for item in items if item), key=lambda item: item.definition.title)


def snapshot(item: LoadedDefinition) -> None:
    """Store the exact definition text once, so records can point at it forever (the
    caller commits). Tablets starting together on a new definition all insert it: the
    first one wins and the others find it there."""
    if db.session.get(DefinitionSnapshot, item.sha256) is not None:
        return
    insert_if_missing(DefinitionSnapshot, {
        "sha256": item.sha256,
        "slug": item.definition.slug,
        "version": item.definition.version,
        "language": item.definition.language,
        "source": item.source,
        "first_seen_at": utcnow(),
    }, key=["sha256"])


_parsed: dict[str, Definition] = {}


def definition_for(sha256: str) -> Definition:
    """The definition stored under this hash. Snapshots never change, so once parsed it is
    kept for the life of the process and every later step skips the database."""
    definition = _parsed.get(sha256)
    if definition is None:
        row = db.session.get(DefinitionSnapshot, sha256)
        if row is None:
            raise LookupError(f"no stored definition {sha256}")
        parsed = parse_definition(row.source, f"snapshot {sha256[:12]}")
        definition = _parsed.setdefault(sha256, parsed)
    return definition
