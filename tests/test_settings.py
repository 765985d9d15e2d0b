"""README's configuration table is held to the settings model: every setting documented, every
documented variable a setting, and the defaults the same."""

import re
from pathlib import Path

import pytest

from consentapp.settings import FIXED, Settings

README = Path(__file__).resolve().parents[1] / "README.md"


def _configuration_table() -> dict[str, str]:
    """Environment variable -> the README's default cell, from the Configuration section."""
    section = README.read_text().split("## Configuration", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) != 3 or not cells[0].startswith("`"):
            continue
        for name in re.findall(r"`([A-Z0-9_]+)`", cells[0]):
            rows[name] = cells[2]
    return rows


def _as_documented(value) -> str:
    """How README writes a default."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, Path):
        return f"`{value.name}/`"
    if isinstance(value, float):
        return f"`{value:g}`"
    return f"`{value}`"


TABLE = _configuration_table()
FIELDS = Settings.model_fields
ENVIRONMENT = Settings.environment_names()


def test_the_table_was_found():
    assert len(TABLE) >= 20


def test_every_setting_is_documented_under_its_environment_variable():
    assert sorted(set(ENVIRONMENT.values()) - set(TABLE)) == []


def test_every_documented_variable_is_a_setting():
    assert sorted(set(TABLE) - set(ENVIRONMENT.values())) == []


def test_no_fixed_choice_is_a_setting():
    assert not set(FIXED) & set(FIELDS)


@pytest.mark.parametrize("key", sorted(FIELDS))
def test_the_documented_default_is_the_model_s(key):
    default = FIELDS[key].default
    documented = TABLE[ENVIRONMENT[key]]
    if default is None:
        # Unset: what happens instead is said in words (a file made in instance/, ...).
        assert documented and not documented.startswith("`None")
    else:
        assert _as_documented(default) in documented, (key, documented)
