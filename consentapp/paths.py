"""Where the packaged resources live.

In a source checkout `forms/` and `templates/` sit beside the package; an installed wheel
carries copies inside the package under `_bundled/` (see pyproject.toml). Look there first.
"""

from collections.abc import Iterable
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_BUNDLED = PACKAGE_DIR / "_bundled"
_SOURCE_ROOT = PACKAGE_DIR.parent


def _resource_dir(name: str) -> Path:
    bundled = _BUNDLED / name
    return bundled if bundled.is_dir() else _SOURCE_ROOT / name


TEMPLATES_DIR = _resource_dir("templates")
DEFAULT_FORMS_DIR = _resource_dir("forms")
STATIC_DIR = PACKAGE_DIR / "static"
MIGRATIONS_DIR = PACKAGE_DIR / "migrations"


def fingerprint(paths: Iterable[Path]) -> tuple:
    """What says files changed since they were read: each path with its inode, size and
    modification time (None while it does not exist). Caches of what was read from files
    (the procedures, the sealing key) compare it to know when to read them again."""
    found = []
    for path in paths:
        try:
            stat = path.stat()
        except FileNotFoundError:
            found.append((str(path), None))
        else:
            found.append((str(path), stat.st_ino, stat.st_size, stat.st_mtime_ns))
    return tuple(found)
