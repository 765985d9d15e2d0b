"""A later visit of a course on the tablet: who you are, what changed, one signature.

Staff start it from the record page (kiosk.enter_check_in): the draft names the record and
who started it. The tablet shows the patient's first name only and asks for their date of
birth; it must match the record's, and after IDENTITY_ATTEMPTS misses the check-in ends with
one audit event and nothing else kept. Then the check-in questions, asked fresh (never filled
in from the last visit), the rules run again (records.course.screen), and a page with the
outcome, the one statement and the signature. "Not eligible today" is kept at once, without
a signature, and the tablet says so. Either way: "please hand the tablet back", the draft
wiped, the same kiosk rules as the first consent.
"""

from flask import redirect, render_template, request, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import i18n, kiosk
from ..clinic_time import clinic_today
from ..extensions import db
from ..models import ConsentRecord, PatientDraft, RecordOutcome
from ..procedures import catalog
from ..procedures.answers import for_the_patient
from ..procedures.eligibility import age_on
from ..procedures.schema import Definition, QuestionStep, Statement
from ..procedures.steps import CHECK_IN_STEP
from ..records import course
from ..records.course import AlreadyCheckedIn, CheckIn, CheckInRefused
from ..records.jobs import after_commit
from .draft import current_draft, data_of, save
from .forms import CheckInIdentityForm, posted_signature, sign_form
from .question_page import question_page

NO_MATCH = _l("That date of birth does not match the one we have. Please check it and try "
              "again.")
STATEMENT_KEY = "no_change"


class Screen:
    """One screen of the check-in, as the step layout shows it."""

    def __init__(self, key: str, title: str):
        self.key, self.title = key, title


def _screens() -> list[Screen]:
    return [Screen("identity", _("Welcome back")),
            Screen("questions", _("Your check-in for today")),
            Screen("sign", _("Confirm and sign"))]


def _context(definition: Definition, key: str, record: ConsentRecord) -> dict:
    screens = _screens()
    index = [screen.key for screen in screens].index(key)
    return {"definition": definition, "steps": screens, "position": index + 1,
            "current": screens[index], "previous": None,
            "first_name": (record.patient_name.split() or [""])[0]}


def _state():
    """This browser's check-in: (draft, its data, the record, the record's definition), or
    None when it has none."""
    draft = current_draft()
    if draft is None:
        return None
    started = data_of(draft).check_in
    if not started:
        return None
    record = db.session.get(ConsentRecord, started["record"])
    if record is None:
        return None
    return draft, started, record, catalog.definition_for(record.definition_sha256)


def _no_check_in():
    return redirect(url_for(".finished" if kiosk.finish_due() else ".welcome"))


def _in_language(view):
    """Every check-in screen speaks the record's language (the definition it was signed
    with), like the first consent's."""
    def wrapper():
        state = _state()
        if state is None:
            return _no_check_in()
        with force_locale(state[3].language):
            return view(*state)
    wrapper.__name__ = view.__name__
    return wrapper


@_in_language
def identity(draft: PatientDraft, started: dict, record: ConsentRecord, definition: Definition):
    if data_of(draft).identity_confirmed:
        return redirect(url_for(".check_in_questions"))
    form = CheckInIdentityForm()
    if form.validate_on_submit():
        if form.date_of_birth.data == record.patient_dob:
            save(draft, identity_confirmed=True)
            return redirect(url_for(".check_in_questions"))
        misses = started.get("misses", 0) + 1
        if misses >= course.IDENTITY_ATTEMPTS:
            return _identity_failed(draft, started, record)
        save(draft, check_in={**started, "misses": misses})
        # The boxes are emptied: nobody should read back what someone else typed.
        form = CheckInIdentityForm(formdata=None)
        left = course.IDENTITY_ATTEMPTS - misses
        form.date_of_birth.errors = [
            f"{NO_MATCH} " + _("You can try %(n)s more time.", n=left) if left == 1
            else f"{NO_MATCH} " + _("You can try %(n)s more times.", n=left)
        ]
    return render_template("patient/check_in/identity.html", form=form,
                           **_context(definition, "identity", record))


def _identity_failed(draft: PatientDraft, started: dict, record: ConsentRecord):
    course.identity_not_confirmed(
        record.id, started_by=started["started_by"], address=request.remote_addr or "",
        user_agent=request.user_agent.string or "",
    )
    kiosk.end_patient_turn()
    return kiosk.clearing_site_data(render_template(
        "patient/check_in/handback.html", definition=None,
    ))


def _age(record: ConsentRecord) -> int:
    return age_on(record.patient_dob, clinic_today())


@_in_language
def questions(draft: PatientDraft, started: dict, record: ConsentRecord, definition: Definition):
    data = data_of(draft)
    if not data.identity_confirmed:
        return redirect(url_for(".check_in"))
    derived = definition.check_in
    step = QuestionStep.model_construct(
        key=CHECK_IN_STEP, title=definition.course.title, intro=definition.course.intro,
        questions=definition.check_in_questions(),
    )
    keys = [question.key for question in step.questions]
    earlier = {k: v for k, v in record.answers.items() if k not in keys}
    # Asked fresh: never the last visit's answers, only what was typed on this check-in.
    page = question_page(derived, step, earlier=earlier, saved=data.check_in_answers,
                         age=_age(record))
    if page.accepted():
        answers = page.answers()
        result = course.screen(record, definition, answers, clinic_today())
        if result.outcome == RecordOutcome.NOT_ELIGIBLE:
            return _finish(draft, started, record, definition, answers, None)
        save(draft, check_in_answers=answers)
        return redirect(url_for(".check_in_sign"))
    return render_template(
        "patient/check_in/questions.html", title=step.title, intro=step.intro,
        **page.template_context(),
        **_context(definition, "questions", record),
    )


@_in_language
def sign(draft: PatientDraft, started: dict, record: ConsentRecord, definition: Definition):
    data = data_of(draft)
    if not data.identity_confirmed:
        return redirect(url_for(".check_in"))
    if "check_in_answers" not in data.raw:
        return redirect(url_for(".check_in_questions"))
    answers = data.check_in_answers
    result = course.screen(record, definition, answers, clinic_today())
    statement = Statement(key=STATEMENT_KEY, text=definition.course.statement)
    form = sign_form((statement,))(
        data={"signer_name": record.signer_name} if request.method == "GET" else None
    )
    signature_error = None
    if request.method == "POST":
        form_ok, signature, signature_error = posted_signature(form)
        if form_ok and not signature_error:
            return _finish(draft, started, record, definition, answers, form, signature)
    return render_template(
        "patient/check_in/sign.html", form=form, signature_error=signature_error,
        result=result, reasons=for_the_patient(definition.check_in, result.reasons),
        text=getattr(definition.outcomes, result.outcome),
        statement_field=f"agree_{STATEMENT_KEY}", method_chosen=request.method == "POST",
        **_context(definition, "sign", record),
    )


def _finish(draft: PatientDraft, started: dict, record: ConsentRecord, definition: Definition,
            answers: dict, form, signature=None):
    signed = form is not None
    check_in = CheckIn(
        submission_key=draft.id,
        answers=answers,
        language=definition.language,
        started_by=started["started_by"],
        started_by_role=started.get("role", ""),
        signer_name=form.signer_name.data if signed else None,
        signature_method=form.signature_method.data if signed else None,
        signature=signature,
        statement_accepted=bool(signed and form[f"agree_{STATEMENT_KEY}"].data),
        user_agent=request.user_agent.string or "",
        address=request.remote_addr or "",
    )
    try:
        event = course.record_check_in(record, definition, check_in)
        event_id = event.id
    except AlreadyCheckedIn as already:
        event_id = already.event_id
    except CheckInRefused:
        # The consent stopped covering this visit while the patient was answering (staff
        # withdrew it, the last session was used on another tablet): nothing is kept.
        kiosk.end_patient_turn()
        return kiosk.clearing_site_data(render_template(
            "patient/check_in/handback.html", definition=None, refused=True,
        ))
    after_commit(record.id)
    kiosk.discard_draft()
    i18n.forget()
    if not signed:
        result = course.screen(record, definition, answers, clinic_today())
        return kiosk.clearing_site_data(render_template(
            "patient/check_in/not_today.html", definition=definition,
            reasons=for_the_patient(definition.check_in, result.holds),
        ))
    kiosk.finish({"kind": "visit", "definition": record.definition_sha256,
                  "record": record.id, "visit": event_id})
    return kiosk.clearing_site_data(redirect(url_for(".finished")))

