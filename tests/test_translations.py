"""Every patient-facing text of the code and templates has its Spanish translation.

The extraction is the Makefile's own command (its EXTRACT line), run afresh into a
temporary folder, so a text added anywhere babel.cfg covers fails here until it is
translated in consentapp/translations/es/LC_MESSAGES/messages.po.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.mofile import read_mo
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
TRANSLATIONS = ROOT / "consentapp" / "translations"
LANGUAGES = ("es",)


def _makefile_extract_arguments() -> list[str]:
    """The arguments of `pybabel` in the Makefile's EXTRACT variable (mapping, keywords)."""
    line = re.search(r"^EXTRACT := \$\(BIN\)/pybabel (.+)$", (ROOT / "Makefile").read_text(), re.M)
    assert line, "the Makefile has no EXTRACT := $(BIN)/pybabel ... line"
    return shlex.split(line.group(1))


@pytest.fixture(scope="module")
def extracted(tmp_path_factory) -> Catalog:
    pot = tmp_path_factory.mktemp("pot") / "messages.pot"
    pybabel = Path(sys.executable).with_name("pybabel")
    subprocess.run(
        [str(pybabel), *_makefile_extract_arguments(), "-o", str(pot), "."],
        cwd=ROOT, check=True, capture_output=True,
    )
    with pot.open("rb") as file:
        return read_po(file)


def _catalog(language: str) -> Catalog:
    with (TRANSLATIONS / language / "LC_MESSAGES" / "messages.po").open("rb") as file:
        return read_po(file, locale=language)


def untranslated(template: Catalog, catalog: Catalog) -> list[str]:
    """The template's messages that `catalog` lacks, leaves empty or marks fuzzy."""
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, message.context)
        strings = found.string if found is not None else None
        if isinstance(strings, tuple):
            empty = not all(strings)
        else:
            empty = not strings
        if found is None or empty or found.fuzzy:
            missing.append(message.id if isinstance(message.id, str) else message.id[0])
    return missing


def test_the_extraction_finds_the_patients_texts_and_not_the_staff_pages(extracted):
    ids = {message.id if isinstance(message.id, str) else message.id[0] for message in extracted}
    assert "Please hand the tablet back to a member of staff." in ids  # a template
    assert "Please type your full name." in ids  # forms.py, lazy_gettext as _l
    assert "Please sign with your finger in the box." in ids  # signature.py, N_
    assert "Needs clinician review" in ids  # the PDF's outcome label
    assert "Consent records" not in ids  # the staff dashboard stays in English


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_extracted_text_is_translated(extracted, language):
    missing = untranslated(extracted, _catalog(language))
    assert not missing, f"{language}: {len(missing)} texts without a translation: {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_every_placeholder(language):
    """A translation that drops or renames %(name)s would fail at run time, or lose a fact."""
    problems = [
        (message.id, [str(error) for error in errors])
        for message, errors in _catalog(language).check()
    ]
    assert not problems


def _as_dict(catalog: Catalog) -> dict:
    """{msgid: msgstr}, plural ones as tuples (read_mo gives lists)."""
    def plain(value):
        return tuple(value) if isinstance(value, list | tuple) else value

    return {plain(message.id): plain(message.string) for message in catalog if message.id}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_compiled_catalog_is_up_to_date(language):
    """Flask-Babel reads the .mo that `make install` compiles: it must say what the .po says."""
    folder = TRANSLATIONS / language / "LC_MESSAGES"
    assert (folder / "messages.mo").exists(), "run `make install` to compile the catalogs"
    with (folder / "messages.mo").open("rb") as file:
        compiled = _as_dict(read_mo(file))
    source = _as_dict(_catalog(language))
    assert compiled == source, "messages.mo is older than messages.po: run `make install`"


def test_a_missing_translation_is_noticed():
    template = Catalog()
    template.add("Thank you")
    template.add("Continue")
    template.add(("%(num)s attempt", "%(num)s attempts"))
    catalog = Catalog(locale="es")
    catalog.add("Thank you", "Gracias")
    catalog.add("Continue", "Continuar", flags=["fuzzy"])
    catalog.add(("%(num)s attempt", "%(num)s attempts"), ("%(num)s intento", ""))
    assert untranslated(template, catalog) == ["Continue", "%(num)s attempt"]

    complete = Catalog(locale="es")
    complete.add("Thank you", "Gracias")
    complete.add("Continue", "Continuar")
    complete.add(("%(num)s attempt", "%(num)s attempts"), ("%(num)s intento", "%(num)s intentos"))
    assert untranslated(template, complete) == []
