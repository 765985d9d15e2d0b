"""Where the packaged resources live.

In a source checkout `forms/` and `templates/` sit beside the package; an installed wheel
carries copies inside the package under `_bundled/` (see pyproject.toml). Look there first.
"""

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
