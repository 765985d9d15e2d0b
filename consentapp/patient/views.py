"""Patient views: welcome, one view per kind of step, and the finish screen.

The draft lives in the database under a random id; the session cookie holds only that id.
Every step re-reads the exact definition the draft was started with (by its SHA-256), so a
definition edited mid-journey never changes what this patient is shown.
"""

import secrets
from datetime import date

from flask import abort, current_app, g, redirect, render_template, request, session, url_for
from flask_login import current_user, logout_user

from .. import catalog
from ..eligibility import evaluate
from ..extensions import db
from ..forms import (
    AboutYouForm,
    ContinueForm,
    question_step_form,
    risks_form,
    sign_form,
)
from ..models import PatientDraft, RecordOutcome, SessionEnd
from ..procedures import Definition, LoadedDefinition
from ..records.document import answered_steps
from ..records.service import AlreadySubmitted, Submission, after_commit, commit_record
from ..signature import SignatureError, parse
from . import bp
from .journey import done_after_saving, first_incomplete, may_open, steps_for

DRAFT_KEY = "draft_id"
FINISHED_KEY = "finished"
PATIENT_MODE_KEY = "patient_mode"


def _current_draft() -> PatientDraft | None:
    draft_id = session.get(DRAFT_KEY)
    if not draft_id:
        return None
    draft = db.session.get(PatientDraft, draft_id)
    if draft is None:
        session.pop(DRAFT_KEY, None)
    return draft


def _discard_draft() -> None:
    draft = _current_draft()
    if draft is not None:
        db.session.delete(draft)
        db.session.commit()
    session.pop(DRAFT_KEY, None)


def _save(draft: PatientDraft, **changes) -> None:
    # JSON columns do not see in-place edits: always assign a new dict.
    draft.data = {**draft.data, **changes}
    db.session.commit()


@bp.get("/")
def welcome():
    procedures = sorted(
        (item.definition for (slug, lang), item in catalog.available().items() if lang == "en"),
        key=lambda definition: definition.title,
    )
    return render_template(
        "patient/welcome.html",
        procedures=procedures,
        form=ContinueForm(),
        has_draft=_current_draft() is not None,
        patient_mode=session.get(PATIENT_MODE_KEY, False),
    )


@bp.post("/start")
def start():
    form = ContinueForm()
    if not form.validate_on_submit():
        abort(400)
    item = catalog.available().get((request.form.get("procedure", ""), "en"))
    if item is None:
        abort(404)
    return begin_patient_mode(item)


def begin_patient_mode(item: LoadedDefinition):
    """This browser now belongs to a patient: a fresh draft, and no staff session on it.

    The session says so (PATIENT_MODE_KEY, which holds nothing about the patient); only a
    staff sign-in leaves patient mode.
    """
    if current_user.is_authenticated:
        g.session_end_reason = SessionEnd.HANDED_OVER  # read by the staff session's end
        logout_user()
    _discard_draft()
    session.pop(FINISHED_KEY, None)
    catalog.snapshot(item)
    draft = PatientDraft(id=secrets.token_urlsafe(32), definition_sha256=item.sha256, data={})
    db.session.add(draft)
    db.session.commit()
    session[DRAFT_KEY] = draft.id
    session[PATIENT_MODE_KEY] = True
    return redirect(url_for("patient.step", key="about"))


@bp.post("/start-over")
def start_over():
    form = ContinueForm()
    if form.validate_on_submit():
        _discard_draft()
    return redirect(url_for(".welcome"))


@bp.route("/step/<key>", methods=["GET", "POST"])
def step(key: str):
    draft = _current_draft()
    if draft is None:
        return redirect(url_for(".welcome"))
    definition = catalog.definition_for(draft.definition_sha256)
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
        "review": _review,
        "sign": _sign,
    }[key]
    return handler(draft, definition, context)


def _previous_key(steps, key: str) -> str | None:
    keys = [s.key for s in steps]
    index = keys.index(key)
    return keys[index - 1] if index else None


def _complete(draft: PatientDraft, definition: Definition, key: str, **changes):
    """Mark a step done and go to the first step still to do (the review after a change)."""
    done = done_after_saving(set(draft.data.get("done", [])), key, definition.screening_step)
    if key == "review":
        done.add("review")
    _save(draft, done=sorted(done), **changes)
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
        return _complete(draft, definition, "about", about=about)
    return render_template(
        "patient/form_step.html", form=form, fields=["full_name", "date_of_birth", "contact"],
        title="About you", intro="We need these to match this form to you.", **context,
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


def _review(draft, definition: Definition, context):
    form = ContinueForm()
    if form.validate_on_submit():
        return _complete(draft, definition, "review")
    steps_with_answers = answered_steps(definition, draft.data.get("answers", {}))
    return render_template(
        "patient/review.html", form=form, about=draft.data.get("about", {}),
        answered=steps_with_answers, outcome=evaluate(definition, draft.data.get("answers", {})),
        acknowledged=draft.data.get("acknowledged_risks", []), **context,
    )


def _sign(draft, definition: Definition, context):
    form = sign_form(definition.consent_statements)()
    signature_error = None
    if request.method == "POST":
        # Check the drawing even when a box is unticked, so every problem shows at once.
        form_ok = form.validate_on_submit()
        try:
            signature = parse(form.signature.data, current_app.config["SIGNATURE_MAX_POINTS"])
        except SignatureError as exc:
            signature_error = str(exc)
        else:
            if form_ok:
                return _finish_signed(draft, definition, form, signature)
    return render_template(
        "patient/sign.html", form=form, signature_error=signature_error,
        statement_fields=[f"agree_{s.key}" for s in definition.consent_statements], **context,
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


def _commit(submission: Submission, definition: Definition) -> None:
    try:
        record_id = commit_record(definition, submission).id
    except AlreadySubmitted as already:
        record_id = already.record_id
    after_commit(record_id)
    _discard_draft()


def _finish_screened_out(draft, definition: Definition, answers: dict):
    _commit(_submission(draft, definition, answers), definition)
    # Shown in this response rather than after a redirect: the reasons are health data and
    # must not wait in the session cookie for another request.
    return render_template(
        "patient/finished.html", kind=RecordOutcome.NOT_ELIGIBLE, definition=definition,
        reasons=evaluate(definition, answers).reasons,
    )


def _finish_signed(draft, definition: Definition, form, signature):
    submission = _submission(
        draft,
        definition,
        draft.data.get("answers", {}),
        acknowledged_risks=tuple(draft.data.get("acknowledged_risks", [])),
        accepted_statements=tuple(s.key for s in definition.consent_statements),
        signer_name=form.signer_name.data,
        signature=signature,
    )
    if evaluate(definition, submission.answers).outcome == RecordOutcome.NOT_ELIGIBLE:
        abort(409)
    definition_sha256 = draft.definition_sha256
    _commit(submission, definition)
    session[FINISHED_KEY] = {"kind": "signed", "definition": definition_sha256}
    return redirect(url_for(".finished"))


@bp.get("/finished")
def finished():
    info = session.pop(FINISHED_KEY, None)
    if not info:
        return redirect(url_for(".welcome"))
    definition = catalog.definition_for(info["definition"])
    return render_template("patient/finished.html", kind=info["kind"], definition=definition)
