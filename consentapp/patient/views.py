"""Patient views: welcome, one view per kind of step, and the finish screen.

The draft lives in the database under a random id; the session cookie holds only that id.
Every step re-reads the exact definition the draft was started with (by its SHA-256), so a
definition edited mid-journey never changes what this patient is shown.
"""

import secrets
from datetime import date

from flask import (
    abort,
    current_app,
    flash,
    g,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import force_locale, get_locale
from flask_babel import gettext as _
from flask_login import current_user, logout_user

from .. import catalog, consents, i18n
from ..drafts import TIMED_OUT_MESSAGE, current_draft, discard_draft, save, start_draft, touch
from ..eligibility import evaluate
from ..forms import (
    RELATIONSHIPS,
    AboutYouForm,
    ContinueForm,
    EsignForm,
    PhotoConsentForm,
    SignerForm,
    question_step_form,
    risks_form,
    sign_form,
    teach_back_form,
)
from ..models import PatientDraft, RecordOutcome, SessionEnd, SignatureMethod, utcnow
from ..procedures import Definition, LoadedDefinition
from ..records.document import answered_steps
from ..records.service import AlreadySubmitted, Submission, after_commit, commit_record
from ..security import CLEAR_SITE_DATA
from ..signature import SignatureError, parse
from . import bp, copy_link, signers, teach_back
from .journey import done_after_saving, first_incomplete, may_open, steps_for

FINISHED_KEY = "finished"
PATIENT_MODE_KEY = "patient_mode"


def _clearing_site_data(response):
    response = make_response(response)
    response.headers["Clear-Site-Data"] = CLEAR_SITE_DATA
    return response


def _language() -> str:
    return str(get_locale() or "en")


@bp.get("/")
def welcome():
    procedures = [item.definition for item in catalog.offered(_language())]
    return render_template(
        "patient/welcome.html",
        procedures=procedures,
        languages=i18n.OWN_NAMES,
        form=ContinueForm(),
        has_draft=current_draft() is not None,
        patient_mode=session.get(PATIENT_MODE_KEY, False),
    )


@bp.post("/language")
def choose_language():
    """The welcome screen's "English" / "Español" buttons; the choice lasts the patient's turn."""
    form = ContinueForm()
    language = request.form.get("language", "")
    if not form.validate_on_submit() or language not in i18n.SUPPORTED:
        abort(400)
    i18n.choose(language)
    return redirect(url_for(".welcome"))


@bp.post("/start")
def start():
    form = ContinueForm()
    if not form.validate_on_submit():
        abort(400)
    item = catalog.in_language(request.form.get("procedure", ""), _language())
    if item is None:
        abort(404)
    return begin_patient_mode(item)


def begin_patient_mode(item: LoadedDefinition):
    """This browser now belongs to a patient: a fresh draft, and no staff session on it.

    The session says so (PATIENT_MODE_KEY, which holds nothing about the patient); only a
    staff sign-in leaves patient mode. The draft pins the definition in the patient's
    language, and the session's language follows it.
    """
    if current_user.is_authenticated:
        g.session_end_reason = SessionEnd.HANDED_OVER  # read by the staff session's end
        logout_user()
    discard_draft()
    session.pop(FINISHED_KEY, None)
    catalog.snapshot(item)
    start_draft(secrets.token_urlsafe(32), item.sha256)
    session[PATIENT_MODE_KEY] = True
    i18n.choose(item.definition.language)
    return redirect(url_for("patient.step", key="about"))


def _end_turn() -> bool:
    """Forget everything this patient chose: the draft and its answers, the finish screen,
    and the language (theirs, or the one front desk chose for them), so the next patient
    starts from the tablet's own language. Patient mode stays: only staff sign-in ends it.
    True when there was a draft."""
    had_draft = discard_draft()
    session.pop(FINISHED_KEY, None)
    i18n.forget()
    return had_draft


@bp.post("/start-over")
def start_over():
    form = ContinueForm()
    if form.validate_on_submit():
        _end_turn()
    return _clearing_site_data(redirect(url_for(".welcome")))


@bp.post("/timed-out")
def timed_out():
    """The inactivity script's reset: wipe the draft and show the welcome screen."""
    form = ContinueForm()
    if form.validate_on_submit() and _end_turn():
        flash(str(TIMED_OUT_MESSAGE))
    return _clearing_site_data(redirect(url_for(".welcome")))


@bp.post("/still-here")
def still_here():
    """The "I need more time" button: the draft is in use. 204 keeps the page (and anything
    typed on it) as it is, whether the script sent this or the form did."""
    form = ContinueForm()
    draft = current_draft()
    if draft is None or not form.validate_on_submit():
        return redirect(url_for(".welcome"))
    touch(draft)
    return "", 204


@bp.route("/step/<key>", methods=["GET", "POST"])
def step(key: str):
    draft = current_draft()
    if draft is None:
        return redirect(url_for(".welcome"))
    definition = catalog.definition_for(draft.definition_sha256)
    # Every screen of the journey, its messages and its <html lang> speak the language of
    # the definition the patient started with, so the page never mixes two languages.
    with force_locale(definition.language):
        return _step(draft, definition, key)


def _step(draft: PatientDraft, definition: Definition, key: str):
    steps = steps_for(definition)
    if key not in {s.key for s in steps}:
        abort(404)
    done = set(draft.data.get("done", []))
    if not may_open(steps, done, key):
        return redirect(url_for(".step", key=first_incomplete(steps, done).key))
    context = {
        "definition": definition,
        "steps": steps,
        "position": [s.key for s in steps].index(key) + 1,
        "current": steps[[s.key for s in steps].index(key)],
        "previous": _previous_key(steps, key),
    }
    if key == "about":
        return _about(draft, definition, context)
    if definition.step(key) is not None:
        return _question_step(draft, definition, key, context)
    handler = {
        "outcome": _outcome,
        "expect": _info_page,
        "benefits": _info_page,
        "alternatives": _info_page,
        "risks": _risks,
        "understanding": _understanding,
        "signer": _signer,
        "photos": _photos,
        "review": _review,
        "esign": _esign,
        "sign": _sign,
    }[key]
    return handler(draft, definition, context)


def _previous_key(steps, key: str) -> str | None:
    keys = [s.key for s in steps]
    index = keys.index(key)
    return keys[index - 1] if index else None


def _complete(
    draft: PatientDraft, definition: Definition, key: str, *, undo: tuple[str, ...] = (),
    **changes,
):
    """Mark a step done and go to the first step still to do (the review after a change).

    `undo` names steps that this change makes stale, so they must be done again.
    """
    done = done_after_saving(set(draft.data.get("done", [])), key, definition.screening_step)
    if key == "review":
        done.add("review")
    done -= set(undo)
    save(draft, done=sorted(done), **changes)
    steps = steps_for(definition)
    return redirect(url_for(".step", key=first_incomplete(steps, done).key))


def _about(draft, definition, context):
    saved = draft.data.get("about", {})
    form = AboutYouForm(
        data={
            "full_name": saved.get("full_name"),
            "date_of_birth": date.fromisoformat(saved["date_of_birth"])
            if saved.get("date_of_birth") else None,
            "contact": saved.get("contact"),
        }
        if request.method == "GET" else None
    )
    if form.validate_on_submit():
        about = {
            "full_name": form.full_name.data,
            "date_of_birth": form.date_of_birth.data.isoformat(),
            "contact": form.contact.data or "",
        }
        # A birth date that makes the patient a minor needs a representative to sign.
        stale = ("signer",) if _representative_missing(draft, form.date_of_birth.data) else ()
        return _complete(draft, definition, "about", undo=stale, about=about)
    return render_template(
        "patient/form_step.html", form=form, fields=["full_name", "date_of_birth", "contact"],
        title=_("About you"), intro=_("We need these to match this form to you."), **context,
    )


def _question_step(draft, definition: Definition, key: str, context):
    question_step = definition.step(key)
    keys = [question.key for question in question_step.questions]
    answers = draft.data.get("answers", {})
    form_class = question_step_form(question_step)
    form = form_class(data={k: answers.get(k) for k in keys} if request.method == "GET" else None)
    if form.validate_on_submit():
        new_answers = {**answers, **{k: getattr(form, k).data for k in keys}}
        if key == definition.screening_step:
            result = evaluate(definition, new_answers)
            if result.outcome == RecordOutcome.NOT_ELIGIBLE:
                return _finish_screened_out(draft, definition, new_answers)
        return _complete(draft, definition, key, answers=new_answers)
    return render_template(
        "patient/form_step.html", form=form, fields=keys,
        title=question_step.title, intro=question_step.intro, **context,
    )


def _outcome(draft, definition: Definition, context):
    result = evaluate(definition, draft.data.get("answers", {}))
    form = ContinueForm()
    if form.validate_on_submit():
        return _complete(draft, definition, "outcome")
    return render_template(
        "patient/outcome.html", form=form, result=result,
        text=getattr(definition.outcomes, result.outcome), **context,
    )


def _info_page(draft, definition: Definition, context):
    key = context["current"].key
    page = {
        "expect": definition.what_to_expect,
        "benefits": definition.benefits,
        "alternatives": definition.alternatives,
    }[key]
    form = ContinueForm()
    if form.validate_on_submit():
        return _complete(draft, definition, key)
    return render_template("patient/info.html", form=form, page=page, **context)


def _risks(draft, definition: Definition, context):
    form_class = risks_form(definition.risks)
    acknowledged = set(draft.data.get("acknowledged_risks", []))
    form = form_class(
        data={f"ack_{risk.key}": risk.key in acknowledged for risk in definition.risks.items}
        if request.method == "GET" else None
    )
    if form.validate_on_submit():
        keys = [risk.key for risk in definition.risks.items]
        return _complete(draft, definition, "risks", acknowledged_risks=keys)
    return render_template("patient/risks.html", form=form, page=definition.risks, **context)


def _understanding(draft, definition: Definition, context):
    questions = definition.teach_back
    attempts = draft.data.get("teach_back", {})
    form_class = teach_back_form(questions)
    passed = attempts and not teach_back.open_questions(questions, attempts)
    # Opened again after passing (Back from a later step): the right answers stay chosen.
    shown = {q.key: q.answer for q in questions} if passed else {}
    form = form_class(data=shown if request.method == "GET" else None)
    to_explain: list = []
    if form.validate_on_submit():
        attempts = teach_back.add_attempts(
            questions, attempts, {q.key: form[q.key].data for q in questions}
        )
        to_explain = teach_back.open_questions(questions, attempts)
        if not to_explain:
            return _complete(draft, definition, "understanding", teach_back=attempts)
        save(draft, teach_back=attempts)
        for question in to_explain:
            # Asked again: the wrong choice is cleared so the patient chooses afresh.
            number = questions.index(question) + 1
            form[question.key].data = None
            form[question.key].errors = [_(
                "Question %(n)s: not quite. Please read the explanation and choose again.",
                n=number,
            )]
    return render_template(
        "patient/understanding.html", form=form, questions=questions,
        explain={q.key for q in to_explain}, **context,
    )


def _patient_is_minor(draft: PatientDraft, date_of_birth: date | None = None) -> bool:
    if date_of_birth is None:
        date_of_birth = date.fromisoformat(draft.data["about"]["date_of_birth"])
    return signers.is_minor(date_of_birth, signers.clinic_today())


def _representative_missing(draft: PatientDraft, date_of_birth: date | None = None) -> bool:
    people = draft.data.get("signer") or {}
    return _patient_is_minor(draft, date_of_birth) and not people.get("representative")


def _signer(draft, definition: Definition, context):
    minor = _patient_is_minor(draft)
    form = SignerForm(
        data=signers.form_data(draft.data.get("signer") or {}, minor)
        if request.method == "GET" else None,
        patient_is_minor=minor,
    )
    if form.validate_on_submit():
        return _complete(draft, definition, "signer", signer=signers.people_from_form(form))
    return render_template(
        "patient/signer.html", form=form, patient_is_minor=minor,
        patient_name=draft.data["about"]["full_name"], **context,
    )


def _language() -> str:
    """The language the patient is reading the tablet in, stored with what they agreed to."""
    return str(get_locale() or "en")


def _photos(draft, definition: Definition, context):
    saved = draft.data.get("photos") or {}
    form = PhotoConsentForm(
        data={kind: saved.get(kind, False) for kind in consents.PHOTO_KINDS}
        if request.method == "GET" else None
    )
    if form.validate_on_submit():
        given = {kind: form[kind].data for kind in consents.PHOTO_KINDS}
        return _complete(
            draft, definition, "photos", photos=consents.photo_consent(_language(), given)
        )
    return render_template(
        "patient/photos.html", form=form, intro=consents.PHOTOS_INTRO,
        later=consents.PHOTOS_LATER, **context,
    )


def _esign(draft, definition: Definition, context):
    agreed = draft.data.get("esign")
    form = EsignForm(data={"agree": bool(agreed)} if request.method == "GET" else None)
    if form.validate_on_submit():
        agreement = agreed or consents.esign_agreement(_language(), utcnow())
        return _complete(draft, definition, "esign", esign=agreement)
    return render_template(
        "patient/esign.html", form=form, intro=consents.ESIGN_INTRO,
        points=consents.ESIGN_POINTS, **context,
    )


def _review(draft, definition: Definition, context):
    form = ContinueForm()
    if form.validate_on_submit():
        return _complete(draft, definition, "review")
    steps_with_answers = answered_steps(definition, draft.data.get("answers", {}))
    return render_template(
        "patient/review.html", form=form, about=draft.data.get("about", {}),
        date_of_birth=date.fromisoformat(draft.data["about"]["date_of_birth"]),
        answered=steps_with_answers, outcome=evaluate(definition, draft.data.get("answers", {})),
        acknowledged=draft.data.get("acknowledged_risks", []),
        people=draft.data.get("signer") or {}, relationships=dict(RELATIONSHIPS),
        photos=draft.data.get("photos") or {}, photo_consents=consents.PHOTO_CONSENTS, **context,
    )


def _sign(draft, definition: Definition, context):
    people = draft.data.get("signer") or {}
    representative = people.get("representative")
    signer_name = representative["name"] if representative else draft.data["about"]["full_name"]
    form = sign_form(definition.consent_statements)(
        data={"signer_name": signer_name} if request.method == "GET" else None
    )
    signature_error = None
    if request.method == "POST":
        # Check the drawing even when a box is unticked, so every problem shows at once.
        form_ok = form.validate_on_submit()
        signature = None
        if form.signature_method.data == SignatureMethod.DRAWN:
            try:
                signature = parse(form.signature.data, current_app.config["SIGNATURE_MAX_POINTS"])
            except SignatureError as exc:
                signature_error = str(exc)
        if form_ok and not signature_error:
            return _finish_signed(draft, definition, form, signature)
    return render_template(
        "patient/sign.html", form=form, signature_error=signature_error,
        statement_fields=[f"agree_{s.key}" for s in definition.consent_statements],
        method_chosen=request.method == "POST", representative=representative,
        patient_name=draft.data["about"]["full_name"], relationships=dict(RELATIONSHIPS),
        **context,
    )


def _submission(draft: PatientDraft, definition: Definition, answers: dict, **extra) -> Submission:
    about = draft.data["about"]
    return Submission(
        submission_key=draft.id,
        definition_sha256=draft.definition_sha256,
        language=definition.language,
        patient_name=about["full_name"],
        patient_dob=date.fromisoformat(about["date_of_birth"]),
        patient_contact=about.get("contact") or None,
        answers=answers,
        user_agent=request.user_agent.string or "",
        address=request.remote_addr or "",
        **extra,
    )


def _commit(submission: Submission, definition: Definition) -> str:
    try:
        record_id = commit_record(definition, submission).id
    except AlreadySubmitted as already:
        record_id = already.record_id
    after_commit(record_id)
    discard_draft()
    return record_id


def _finish_screened_out(draft, definition: Definition, answers: dict):
    _commit(_submission(draft, definition, answers), definition)
    i18n.forget()
    # Shown in this response rather than after a redirect: the reasons are health data and
    # must not wait in the session cookie for another request.
    return _clearing_site_data(render_template(
        "patient/finished.html", kind=RecordOutcome.NOT_ELIGIBLE, definition=definition,
        reasons=evaluate(definition, answers).reasons,
    ))


def _finish_signed(draft, definition: Definition, form, signature):
    # The steps' own checks, once more where it counts: a record is never signed without them.
    if _representative_missing(draft):
        return redirect(url_for(".step", key="signer"))
    attempts = draft.data.get("teach_back", {})
    if teach_back.open_questions(definition.teach_back, attempts):
        return redirect(url_for(".step", key="understanding"))
    for key in ("photos", "esign"):
        if not draft.data.get(key):
            return redirect(url_for(".step", key=key))
    people = draft.data.get("signer") or {}
    submission = _submission(
        draft,
        definition,
        draft.data.get("answers", {}),
        acknowledged_risks=tuple(draft.data.get("acknowledged_risks", [])),
        accepted_statements=tuple(s.key for s in definition.consent_statements),
        signer_name=form.signer_name.data,
        signature_method=form.signature_method.data,
        signature=signature,
        representative=people.get("representative"),
        interpreter=people.get("interpreter"),
        witness=people.get("witness"),
        teach_back=teach_back.for_the_record(definition.teach_back, attempts)
        if definition.teach_back else None,
        esign_agreement=draft.data["esign"],
        photo_consent=draft.data["photos"],
    )
    if evaluate(definition, submission.answers).outcome == RecordOutcome.NOT_ELIGIBLE:
        abort(409)
    definition_sha256 = draft.definition_sha256
    record_id = _commit(submission, definition)
    i18n.forget()
    # The record's id (no patient data) waits in the session for the finish screen alone.
    session[FINISHED_KEY] = {
        "kind": "signed", "definition": definition_sha256, "record": record_id,
    }
    return _clearing_site_data(redirect(url_for(".finished")))


@bp.get("/finished")
def finished():
    info = session.pop(FINISHED_KEY, None)
    if not info:
        return redirect(url_for(".welcome"))
    definition = catalog.definition_for(info["definition"])
    link = None
    if info.get("record"):
        # Made when the screen is shown: a reload finds the session emptied and no new link.
        link = copy_link.for_finish_screen(info["record"])
    with force_locale(definition.language):
        return _clearing_site_data(render_template(
            "patient/finished.html", kind=info["kind"], definition=definition, copy=link,
            form=ContinueForm(),
        ))
