"""The procedures on offer, read from FORMS_DIR and re-read when a file there changes."""

from pathlib import Path
from threading import Lock

from flask import current_app

from .extensions import db
from .models import DefinitionSnapshot
from .procedures import (
    Definition,
    DefinitionError,
    LoadedDefinition,
    definition_files,
    load_all,
    parse_definition,
)

_lock = Lock()
_cache: dict[str, tuple[tuple, dict[tuple[str, str], LoadedDefinition]]] = {}


def _fingerprint(forms_dir: Path) -> tuple:
    return tuple(
        (str(path), path.stat().st_mtime_ns, path.stat().st_size)
        for path in definition_files(forms_dir)
    )


def available() -> dict[tuple[str, str], LoadedDefinition]:
    """Valid definitions keyed by (slug, language). An invalid file raises DefinitionError."""
    forms_dir = Path(current_app.config["FORMS_DIR"])
    fingerprint = _fingerprint(forms_dir)
    with _lock:
        cached = _cache.get(str(forms_dir))
        if cached and cached[0] == fingerprint:
            return cached[1]
        loaded, errors = load_all(forms_dir)
        if errors:
            raise DefinitionError("; ".join(errors))
        _cache[str(forms_dir)] = (fingerprint, loaded)
        return loaded


def snapshot(item: LoadedDefinition) -> DefinitionSnapshot:
    """Store the exact definition text once, so records can point at it forever."""
    existing = db.session.get(DefinitionSnapshot, item.sha256)
    if existing is not None:
        return existing
    row = DefinitionSnapshot(
        sha256=item.sha256,
        slug=item.definition.slug,
        version=item.definition.version,
        language=item.definition.language,
        source=item.source,
    )
    db.session.add(row)
    return row


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
