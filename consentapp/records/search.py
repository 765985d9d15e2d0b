"""Finding records: the normalised name key and the dashboard's filtered, paged query.

Names are matched on `patient_name_search`, written once with the record: case-folded,
accents stripped and punctuation dropped, so "núñez", "NUNEZ" and "Nu" all find "Núñez".
"""

import math
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Select, and_, false, func, select
from sqlalchemy.orm import load_only

from ..extensions import db
from ..models import ConsentRecord, RecordState, RecordStatus

SEARCH_KEY_LENGTH = 400
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


SORTS = {
    "newest": "Newest first",
    "oldest": "Oldest first",
    "name": "Name A–Z",
    "name_desc": "Name Z–A",
    "dob": "Date of birth",
}


def _order_by(sort: str) -> tuple:
    record = ConsentRecord
    return {
        "newest": (record.completed_at.desc(), record.id.desc()),
        "oldest": (record.completed_at.asc(), record.id.asc()),
        "name": (record.patient_name_search.asc(), record.completed_at.desc()),
        "name_desc": (record.patient_name_search.desc(), record.completed_at.desc()),
        "dob": (record.patient_dob.asc(), record.patient_name_search.asc()),
    }[sort]


@dataclass(frozen=True)
class RecordFilters:
    name: str = ""
    dob: date | None = None
    completed_from: date | None = None
    completed_to: date | None = None
    procedure: str = ""
    status: str = ""
    sort: str = "newest"


@dataclass
class SearchPage:
    rows: list[tuple[ConsentRecord, str]]
    counts: dict[str, int]
    total: int
    page: int
    pages: int
    page_size: int
    filters: RecordFilters = field(default_factory=RecordFilters)


# What the dashboard's table shows; the big JSON columns (answers, signature) stay unread.
_LIST_COLUMNS = load_only(
    ConsentRecord.id,
    ConsentRecord.patient_name,
    ConsentRecord.patient_dob,
    ConsentRecord.procedure_title,
    ConsentRecord.completed_at,
    ConsentRecord.signed_at,
    ConsentRecord.outcome,
)


def utc_start_of(day: date, tz_name: str) -> datetime:
    """Midnight of a day in the clinic's time zone, as the naive UTC the database stores."""
    local = datetime.combine(day, time.min, tzinfo=ZoneInfo(tz_name))
    return local.astimezone(ZoneInfo("UTC")).replace(tzinfo=None)


def conditions(filters: RecordFilters, tz_name: str) -> list:
    """Every filter but the status (the status tabs count across the others)."""
    found = []
    words = search_key(filters.name).split()
    for word in words:
        found.append(ConsentRecord.patient_name_search.contains(word, autoescape=True))
    if filters.name.strip() and not words:
        found.append(false())  # only punctuation was typed: nothing can match it
    if filters.dob:
        found.append(ConsentRecord.patient_dob == filters.dob)
    if filters.completed_from:
        found.append(ConsentRecord.completed_at >= utc_start_of(filters.completed_from, tz_name))
    if filters.completed_to:
        end = utc_start_of(filters.completed_to + timedelta(days=1), tz_name)
        found.append(ConsentRecord.completed_at < end)
    if filters.procedure:
        found.append(ConsentRecord.procedure_slug == filters.procedure)
    return found


def status_counts(where: list) -> dict[str, int]:
    if where:
        query = (
            select(RecordState.status, func.count())
            .select_from(ConsentRecord)
            .join(RecordState, RecordState.record_id == ConsentRecord.id)
            .where(and_(*where))
        )
    else:  # no filter: the status index alone answers
        query = select(RecordState.status, func.count())
    counts = dict.fromkeys(RecordStatus.ALL, 0)
    counts.update(db.session.execute(query.group_by(RecordState.status)).all())
    return counts


def _listing(where: list) -> Select:
    return (
        select(ConsentRecord, RecordState.status)
        .join(RecordState, RecordState.record_id == ConsentRecord.id)
        .where(*where)
        .options(_LIST_COLUMNS)
    )


def search(filters: RecordFilters, *, page: int, page_size: int, tz_name: str) -> SearchPage:
    where = conditions(filters, tz_name)
    counts = status_counts(where)
    if filters.status:
        where.append(RecordState.status == filters.status)
    total = counts[filters.status] if filters.status else sum(counts.values())
    pages = max(math.ceil(total / page_size), 1)
    page = min(max(page, 1), pages)
    rows = db.session.execute(
        _listing(where)
        .order_by(*_order_by(filters.sort))
        .limit(page_size)
        .offset((page - 1) * page_size)
    ).all()
    return SearchPage(
        rows=list(rows), counts=counts, total=total, page=page, pages=pages,
        page_size=page_size, filters=filters,
    )


def review_queue(limit: int) -> list[tuple[ConsentRecord, str]]:
    """Signed records waiting for a clinician, longest-waiting first."""
    return list(
        db.session.execute(
            _listing([RecordState.status == RecordStatus.NEEDS_REVIEW])
            .order_by(ConsentRecord.completed_at.asc(), ConsentRecord.id.asc())
            .limit(limit)
        )
    )
