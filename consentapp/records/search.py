"""Finding records: the normalised name key and the dashboard's filtered, paged query.

Names are matched on `patient_name_search`, written once with the record: case-folded,
accents stripped and punctuation dropped, so "núñez", "NUNEZ" and "Nu" all find "Núñez".
Each typed word of three letters or more may be any part of the name ("une" finds "Núñez");
a shorter one the start of one of its words ("nu" finds "Núñez", not "Manuel"): two letters
inside a name match a good share of any clinic's records, and no index can find them on a
million (PostgreSQL's trigram index, migration f2b8d5c1e307, finds three letters or more,
and a word's start).

Counts are exact up to COUNT_LIMIT and "more than" beyond it: counting a million records
reads a million index entries (150 ms on PostgreSQL) however fast the page itself is, and
"1,000+" tells staff what they need, that the search is too wide; the pages then go on as
long as there are records (tests/bench/search_bench.py measures both).
"""

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum

from sqlalchemy import Select, and_, false, func, literal, not_, or_, select
from sqlalchemy.orm import load_only

from ..clinic_time import clinic_today, utc_start_of
from ..extensions import db
from ..models import ConsentRecord, RecordListing, RecordStatus
from . import course

SEARCH_KEY_LENGTH = 400
# A typed word shorter than this matches the start of a word of the name, not any part.
INFIX_MIN_LENGTH = 3
# Counts past this are shown as "more than" it (the module's docstring says why).
COUNT_LIMIT = 1_000
# Letters that Unicode does not decompose into a base letter plus an accent.
_UNDECOMPOSED = str.maketrans(
    {"ł": "l", "ø": "o", "đ": "d", "ð": "d", "ħ": "h", "ı": "i", "þ": "th", "æ": "ae", "œ": "oe"}
)
_APOSTROPHES = re.compile(r"['’‘`´ʼ]")
_WORD = re.compile(r"[^\W_]+")


def search_key(text: str) -> str:
    """'Zoë O'Brien-Núñez' -> 'zoe obrien nunez'. The same function folds names and queries."""
    folded = unicodedata.normalize("NFKD", text.casefold())
    bare = "".join(char for char in folded if not unicodedata.combining(char))
    bare = _APOSTROPHES.sub("", bare.translate(_UNDECOMPOSED))
    return " ".join(_WORD.findall(bare))[:SEARCH_KEY_LENGTH]


class Sort(StrEnum):
    """The dashboard's orders (their words for staff: staff/labels.py)."""

    NEWEST = "newest"
    OLDEST = "oldest"
    NAME = "name"
    NAME_DESC = "name_desc"
    DOB = "dob"


def _order_by(sort: str) -> tuple:
    listing = RecordListing
    return {
        Sort.NEWEST: (listing.completed_at.desc(), listing.record_id.desc()),
        Sort.OLDEST: (listing.completed_at.asc(), listing.record_id.asc()),
        Sort.NAME: (listing.patient_name_search.asc(), listing.completed_at.desc()),
        Sort.NAME_DESC: (listing.patient_name_search.desc(), listing.completed_at.desc()),
        Sort.DOB: (listing.patient_dob.asc(), listing.patient_name_search.asc()),
    }[sort]


class CourseFilter(StrEnum):
    """The dashboard's course filter (records/course.py)."""

    DUE = "due"  # no longer covers a visit: a new consent is needed
    IN_FORCE = "in_force"  # covers a visit today


@dataclass(frozen=True)
class Count:
    """How many records: exactly `shown`, or more than it when `more`."""

    shown: int
    more: bool = False

    @classmethod
    def of(cls, counted: int) -> "Count":
        """From a count that stopped at COUNT_LIMIT + 1."""
        return cls(COUNT_LIMIT, True) if counted > COUNT_LIMIT else cls(counted)

    @classmethod
    def total(cls, counts) -> "Count":
        counts = list(counts)
        return cls(sum(count.shown for count in counts), any(count.more for count in counts))

    def __str__(self) -> str:
        return f"{self.shown:,}+" if self.more else str(self.shown)


@dataclass(frozen=True)
class RecordFilters:
    name: str = ""
    dob: date | None = None
    completed_from: date | None = None
    completed_to: date | None = None
    procedure: str = ""
    status: str = ""
    course: str = ""
    sort: str = Sort.NEWEST


@dataclass
class SearchPage:
    rows: list[tuple[ConsentRecord, str]]
    counts: dict[str, Count]
    total: Count
    page: int
    pages: int | None  # None: more than COUNT_LIMIT records, the last page is not counted
    page_size: int
    filters: RecordFilters = field(default_factory=RecordFilters)
    has_next: bool = False

    @property
    def all_count(self) -> Count:
        """The "All" tab: every status, whatever the status filter."""
        return Count.total(self.counts.values())


# What the dashboard's table shows; the big JSON columns (answers, signature) stay unread.
_LIST_COLUMNS = load_only(
    ConsentRecord.id,
    ConsentRecord.patient_name,
    ConsentRecord.patient_dob,
    ConsentRecord.procedure_title,
    ConsentRecord.completed_at,
    ConsentRecord.signed_at,
    ConsentRecord.outcome,
    ConsentRecord.language,
)


# The review queue shows each record's notes for the clinician too.
_QUEUE_COLUMNS = load_only(
    ConsentRecord.id,
    ConsentRecord.patient_name,
    ConsentRecord.procedure_title,
    ConsentRecord.completed_at,
    ConsentRecord.signed_at,
    ConsentRecord.outcome,
    ConsentRecord.outcome_reasons,
)


# What a CSV export of the search carries, besides the listing's status.
_EXPORT_COLUMNS = load_only(
    ConsentRecord.id,
    ConsentRecord.patient_name,
    ConsentRecord.patient_dob,
    ConsentRecord.procedure_title,
    ConsentRecord.completed_at,
    ConsentRecord.outcome,
    ConsentRecord.language,
)


def conditions(filters: RecordFilters, tz_name: str) -> list:
    """Every filter but the status (the status tabs count across the others)."""
    listing = RecordListing
    found = []
    words = search_key(filters.name).split()
    for word in words:
        found.append(_name_has(word))
    if filters.name.strip() and not words:
        found.append(false())  # only punctuation was typed: nothing can match it
    if filters.dob:
        found.append(listing.patient_dob == filters.dob)
    if filters.completed_from:
        found.append(listing.completed_at >= utc_start_of(filters.completed_from, tz_name))
    if filters.completed_to:
        end = utc_start_of(filters.completed_to + timedelta(days=1), tz_name)
        found.append(listing.completed_at < end)
    if filters.procedure:
        found.append(listing.procedure_slug == filters.procedure)
    if filters.course:
        due = course.due_for_renewal(clinic_today(), course.majors_on_offer())
        found.append(due if filters.course == CourseFilter.DUE
                     else and_(course.in_force(), not_(due)))
    return found


def _name_has(word: str):
    key = RecordListing.patient_name_search
    if len(word) >= INFIX_MIN_LENGTH:
        return key.contains(word, autoescape=True)
    # The key's words are split by single spaces (search_key).
    return or_(key.startswith(word, autoescape=True),
               key.contains(" " + word, autoescape=True))


def _counted(where: list):
    """How many listings match, counting no further than COUNT_LIMIT + 1."""
    found = select(literal(1)).select_from(RecordListing).where(*where)
    return select(func.count()).select_from(found.limit(COUNT_LIMIT + 1).subquery())


def status_counts(where: list) -> dict[str, Count]:
    """Each status's count, in one statement; each one stops past COUNT_LIMIT."""
    counted = select(*(
        _counted([*where, RecordListing.status == status]).scalar_subquery().label(status)
        for status in RecordStatus
    ))
    row = db.session.execute(counted).one()
    return {status: Count.of(row._mapping[status]) for status in RecordStatus}


def _page_of_records(where: list, order: tuple, limit: int, offset: int = 0,
                     columns=_LIST_COLUMNS) -> list[tuple[ConsentRecord, str]]:
    """Find and order the page in the narrow listings, then read only its records."""
    page = (
        select(RecordListing.record_id).where(*where).order_by(*order)
        .limit(limit).offset(offset).subquery()
    )
    rows = db.session.execute(
        select(ConsentRecord, RecordListing.status)
        .join(page, page.c.record_id == ConsentRecord.id)
        .join(RecordListing, RecordListing.record_id == ConsentRecord.id)
        .options(columns)
        .order_by(*order)
    )
    return [(record, status) for record, status in rows]


def search(filters: RecordFilters, *, page: int, page_size: int, tz_name: str) -> SearchPage:
    where = conditions(filters, tz_name)
    counts = status_counts(where)
    if filters.status:
        where.append(RecordListing.status == filters.status)
    total = counts[filters.status] if filters.status else Count.total(counts.values())
    order = _order_by(filters.sort)
    page = max(page, 1)
    if total.more:
        # The last page is not known: a page is shown if it has records, with a next one
        # if there are more (one row more is read to know).
        rows = _page_of_records(where, order, page_size + 1, (page - 1) * page_size)
        if rows or page == 1:
            return SearchPage(
                rows=rows[:page_size], counts=counts, total=total, page=page, pages=None,
                page_size=page_size, filters=filters, has_next=len(rows) > page_size,
            )
        # Past the end (an old or typed address): the last page, as below.
        pages = max(math.ceil(_exact_count(where) / page_size), 1)
    else:
        pages = max(math.ceil(total.shown / page_size), 1)
    page = min(page, pages)
    rows = _page_of_records(where, order, page_size, (page - 1) * page_size)
    return SearchPage(
        rows=rows, counts=counts, total=total, page=page, pages=pages,
        page_size=page_size, filters=filters, has_next=page < pages,
    )


def _exact_count(where: list) -> int:
    return db.session.scalar(select(func.count()).select_from(RecordListing).where(*where))


def _where(filters: RecordFilters, tz_name: str) -> list:
    where = conditions(filters, tz_name)
    if filters.status:
        where.append(RecordListing.status == filters.status)
    return where


def count_matching(filters: RecordFilters, tz_name: str) -> int:
    """Exactly (an export reads every record anyway)."""
    return _exact_count(_where(filters, tz_name))


def all_matching(filters: RecordFilters, tz_name: str) -> Select:
    """Every record the search finds, every page of it, in the dashboard's order: for export.

    Meant to be streamed (yield_per), so a search of the whole clinic never sits in memory.
    """
    return (
        select(ConsentRecord, RecordListing.status)
        .join(RecordListing, RecordListing.record_id == ConsentRecord.id)
        .where(*_where(filters, tz_name))
        .options(_EXPORT_COLUMNS)
        .order_by(*_order_by(filters.sort))
    )


def waiting_for_review() -> Count:
    return Count.of(db.session.scalar(
        _counted([RecordListing.status == RecordStatus.NEEDS_REVIEW])
    ))


def review_queue(limit: int) -> list[tuple[ConsentRecord, str]]:
    """Signed records waiting for a clinician, longest-waiting first."""
    listing = RecordListing
    return _page_of_records(
        [listing.status == RecordStatus.NEEDS_REVIEW],
        (listing.completed_at.asc(), listing.record_id.asc()),
        limit,
        columns=_QUEUE_COLUMNS,
    )
