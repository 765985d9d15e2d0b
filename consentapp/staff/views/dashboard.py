"""The staff dashboard (/staff/): find records by name, birth date, dates, procedure and
status; counts per status; sorting and pages; the clinician's review queue on top."""

from flask import current_app, render_template, request
from flask_login import current_user

from ...models import StaffRole
from ...procedures import catalog
from ...records.search import RecordFilters, Sort, review_queue, search, waiting_for_review
from ...webforms import choices
from ..access import requires
from ..forms import DashboardFilterForm, HandOverForm

REVIEW_QUEUE_SIZE = 10


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
        sort=form.sort.data or Sort.NEWEST,
    )


def current_search() -> tuple[DashboardFilterForm, RecordFilters, list[tuple[str, str]]]:
    """The dashboard's search as the query string gives it: the form, the filters it makes
    (none when the form is not valid) and the procedures to choose from."""
    form = DashboardFilterForm(formdata=request.args)
    procedures = procedure_choices()
    form.procedure.choices = choices([("", "Any procedure"), *procedures])
    filters = _filters(form) if form.validate() else RecordFilters()
    if filters.procedure and filters.procedure not in dict(procedures):
        filters = RecordFilters(**{**filters.__dict__, "procedure": ""})
    return form, filters, procedures


@requires("view_records")
def records():
    form, filters, procedures = current_search()
    result = search(
        filters,
        page=request.args.get("page", 1, type=int) or 1,
        page_size=current_app.config["STAFF_PAGE_SIZE"],
        tz_name=current_app.config["CLINIC_TIMEZONE"],
    )
    queue, waiting = [], 0
    if current_user.role == StaffRole.CLINICIAN:
        queue = review_queue(REVIEW_QUEUE_SIZE)
        waiting = waiting_for_review()
    hand_over = HandOverForm()
    hand_over.procedure.choices = choices(procedures)
    # The query string without the page and status, for the status tabs and the pager.
    kept = {key: value for key, value in request.args.items() if key not in ("page", "status")}
    return render_template(
        "staff/records.html",
        form=form,
        result=result,
        filtered=any(request.args.get(key) for key in ("q", "dob", "date_from", "date_to",
                                                        "procedure", "status")),
        kept=kept,
        queue=queue,
        waiting=waiting,
        hand_over=hand_over,
    )
