"""One vocabulary, spelled once: every member of each enum has its words in each table that
names it, and the record pipeline reads no request state."""

import ast
from pathlib import Path

import pytest
from wtforms.fields.core import UnboundField

from consentapp.models import (
    EventKind,
    PhotoKind,
    RecordOutcome,
    RecordStatus,
    Relationship,
    StaffRole,
)
from consentapp.patient.forms import PhotoConsentForm
from consentapp.procedures import consents
from consentapp.procedures.schema import Outcomes
from consentapp.records import decisions, fhir
from consentapp.records import labels as pdf
from consentapp.records.search import Sort
from consentapp.staff import labels as staff

TABLES = [
    # The staff pages.
    ("staff.STATUS_LABELS", staff.STATUS_LABELS, RecordStatus),
    ("staff.OUTCOME_LABELS", staff.OUTCOME_LABELS, RecordOutcome),
    ("staff.EVENT_LABELS", staff.EVENT_LABELS, EventKind),
    ("staff.SORT_LABELS", staff.SORT_LABELS, Sort),
    ("staff.ROLE_LABELS", staff.ROLE_LABELS, StaffRole),
    # The PDF, and the words the tablet shares with it.
    ("pdf.EVENT_MEANINGS", pdf.EVENT_MEANINGS, EventKind),
    ("pdf.OUTCOME_LABELS", pdf.OUTCOME_LABELS, RecordOutcome),
    ("pdf.RELATIONSHIP_LABELS", pdf.RELATIONSHIP_LABELS, Relationship),
    ("pdf.PHOTO_LABELS", pdf.PHOTO_LABELS, PhotoKind),
    # The photo consents' words and meanings, wherever a photo kind is named.
    ("consents.PHOTO_CONSENTS", consents.PHOTO_CONSENTS, PhotoKind),
    ("decisions.PHOTO_WITHDRAWAL_MEANINGS", decisions.PHOTO_WITHDRAWAL_MEANINGS, PhotoKind),
    ("fhir.PHOTO_PURPOSES", fhir.PHOTO_PURPOSES, PhotoKind),
]


@pytest.mark.parametrize(("name", "table", "vocabulary"), TABLES, ids=[t[0] for t in TABLES])
def test_every_member_has_its_words_in_the_table(name, table, vocabulary):
    assert set(table) == set(vocabulary), name
    assert all(str(words).strip() for words in table.values()), name


def test_the_pdf_reports_only_staff_decisions_it_has_words_for():
    assert set(pdf.STAFF_EVENT_TITLES) <= set(EventKind)
    assert set(decisions.MEANINGS) <= set(pdf.STAFF_EVENT_TITLES)


def test_a_definition_words_every_outcome_and_the_photo_form_asks_every_kind():
    assert set(Outcomes.model_fields) == {outcome.value for outcome in RecordOutcome}
    fields = {name for name, value in vars(PhotoConsentForm).items()
              if isinstance(value, UnboundField)}
    assert fields == set(PhotoKind)


RECORDS = Path(__file__).resolve().parents[1] / "consentapp" / "records"
REQUEST_STATE = {"request", "session", "g"}


@pytest.mark.parametrize("path", sorted(RECORDS.glob("*.py")), ids=lambda path: path.name)
def test_the_record_pipeline_reads_no_request_state(path):
    """Records are committed, rendered and verified by the worker and the command line too:
    whatever they need comes in as arguments or the app's configuration."""
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module in ("flask", "flask_login"):
            names = {alias.name for alias in node.names}
            assert not names & (REQUEST_STATE | {"current_user"}), (path.name, names)
