"""The staff dashboard (/staff/): find records by name, birth date, dates, procedure and
status; counts per status; sorting and pages; the clinician's review queue on top.

The search is posted and kept on the server (staff/saved_search.py): the page's address
holds an opaque search id, never what was typed."""

from dataclasses import dataclass, field
from datetime import timedelta

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from ...clinic_time import clinic_today
from ...extensions import db
from ...models import EventKind, RecordEvent, RecordListing, StaffRole
from ...procedures import catalog
from ...procedures.eligibility import stored_reasons
from ...records import course, monitor
from ...records.search import (
    Count,
    RecordFilters,
    Sort,
    review_queue,
    search,
    waiting_for_review,
)
from ...webforms import choices
from .. import saved_search
from ..access import can, requires
from ..forms import DashboardFilterForm, HandOverForm
from ..labels import COURSE_END_LABELS

REVIEW_QUEUE_SIZE = 10
# Past this a page number is not a page of any clinic's records (and past 2**63 it is not a
# number any database takes): 404, not an error from the database.
MAX_PAGE = 1_000_000


def page_number() -> int:
    """The `page` of the query string: 1 when it is missing or not a number."""
    raw = request.args.get("page", "1")
    number = int(raw) if raw.isascii() and raw.isdigit() else 1
    if number > MAX_PAGE:
        abort(404)
    return max(number, 1)


def clinician_notes(outcome_reasons: list[dict] | None) -> list[str]:
    """A queued record's notes for the clinician, each once ("… (3 questions)" for the
    "not sure" note, which every such question repeats)."""
    counts: dict[str, int] = {}
    for reason in stored_reasons(outcome_reasons):
        if reason.note:
            counts[reason.note] = counts.get(reason.note, 0) + 1
    return [f"{note} ({count} questions)" if count > 1 else note
            for note, count in counts.items()]


def procedure_choices() -> list[tuple[str, str]]:
    """Each procedure once, by its English title: staff pages are in English."""
    return [(item.definition.slug, item.definition.title) for item in catalog.offered("en")]


def _filters(form: DashboardFilterForm) -> RecordFilters:
    return RecordFilters(
        name=form.q.data or "",
        dob=form.dob.data,
        completed_from=form.date_from.data,
        completed_to=form.date_to.data,
        procedure=form.procedure.data or "",
        status=form.status.data or "",
        course=form.course.data or "",
        sort=form.sort.data or Sort.NEWEST,
    )


@dataclass
class Search:
    """The dashboard's search as this request gives it."""

    form: DashboardFilterForm
    filters: RecordFilters
    procedures: list[tuple[str, str]]
    kept: dict[str, str] = field(default_factory=dict)  # what the tabs and pages link with
    expired: bool = False  # a search id that is not (or no longer) this session's


def _form(formdata=None) -> tuple[DashboardFilterForm, list[tuple[str, str]]]:
    """The filter form from `formdata` (None: the posted form, CSRF checked)."""
    form = (DashboardFilterForm() if formdata is None
            else DashboardFilterForm(formdata=formdata, meta={"csrf": False}))
    procedures = procedure_choices()
    form.procedure.choices = choices([("", "Any procedure"), *procedures])
    return form, procedures


def _search_from(form: DashboardFilterForm, procedures, **extra) -> Search:
    filters = _filters(form) if form.validate() else RecordFilters()
    if filters.procedure and filters.procedure not in dict(procedures):
        filters = RecordFilters(**{**filters.__dict__, "procedure": ""})
    return Search(form, filters, procedures, **extra)


def current_search() -> Search:
    """The saved search this address names, with the status and sort the address gives."""
    args = request.args
    search_id = args.get("search", "")
    typed = saved_search.load(search_id) if search_id else {}
    expired = typed is None
    data = MultiDict({**(typed or {}), **{name: args[name] for name in
                                          saved_search.URL_FIELDS if name in args}})
    form, procedures = _form(data)
    kept = {name: args[name] for name in ("sort", "course") if name in args}
    if search_id and not expired:
        kept["search"] = search_id
    return _search_from(form, procedures, kept=kept, expired=expired)


def _page(found: Search, *, status_code: int = 200):
    form, filters = found.form, found.filters
    result = search(
        filters,
        page=page_number(),
        page_size=current_app.config["STAFF_PAGE_SIZE"],
        tz_name=current_app.config["CLINIC_TIMEZONE"],
    )
    queue, waiting = [], Count(0)
    if current_user.role == StaffRole.CLINICIAN:
        queue = review_queue(REVIEW_QUEUE_SIZE)
        waiting = waiting_for_review()
    overdue = failed = 0
    if can("settings"):  # the administrators, who look after the server
        overdue = monitor.overdue_pdfs(
            timedelta(seconds=current_app.config["WORKER_SILENT_SECONDS"])
        )
        failed = monitor.queue_state().failed if overdue else 0
    today = clinic_today()
    majors = course.majors_on_offer()
    ids = [record.id for record, _status in result.rows]
    courses = {}
    rows = select(RecordListing).where(RecordListing.record_id.in_(ids))
    for listing in db.session.scalars(rows):
        if listing.course_max_sessions is not None:
            courses[listing.record_id] = {
                "used": listing.course_sessions_used, "of": listing.course_max_sessions,
                "ended": course.listing_ended(listing, today, majors),
            }
    # The newest visit of each course on the page: a check-in that needs a clinician shows.
    visits = select(RecordEvent.record_id, RecordEvent.details).where(
        RecordEvent.record_id.in_(list(courses)),
        RecordEvent.kind == EventKind.VISIT_CHECKED_IN,
    ).order_by(RecordEvent.id)
    for record_id, details in db.session.execute(visits):
        courses[record_id]["last_visit"] = details.get("outcome")
    hand_over = HandOverForm()
    hand_over.procedure.choices = choices(found.procedures)
    return render_template(
        "staff/records.html",
        form=form,
        result=result,
        filtered=any((form[name].raw_data or [""])[0] for name in (
            "q", "dob", "date_from", "date_to", "procedure", "status", "course")),
        courses=courses,
        course_end_labels=COURSE_END_LABELS,
        kept=found.kept,
        expired=found.expired,
        queue=queue,
        queue_notes={record.id: clinician_notes(record.outcome_reasons) for record, _ in queue},
        waiting=waiting,
        hand_over=hand_over,
        overdue_pdfs=overdue,
        failed_pdfs=failed,
        overdue_after_minutes=current_app.config["WORKER_SILENT_SECONDS"] / 60,
    ), status_code


@requires("view_records")
def records():
    if any(name in request.args for name in saved_search.PATIENT_FIELDS):
        # An address with the filters in it (typed by hand, or kept from before searches
        # were posted): save them and move to the clean address, or explain what is wrong.
        form, procedures = _form(request.args)
        if form.validate():
            page = {"page": request.args["page"]} if "page" in request.args else {}
            return redirect(url_for("staff.records", search=saved_search.save(request.args),
                                    **page))
        return _page(_search_from(form, procedures))
    return _page(current_search())


@requires("view_records")
def search_records():
    """The search form: saved on the server, then the results at an address without it."""
    form, procedures = _form()
    if form.validate_on_submit():
        return redirect(url_for("staff.records", search=saved_search.save(request.form)))
    # What was typed stays in the form, with the message beside the field.
    return _page(_search_from(form, procedures))
