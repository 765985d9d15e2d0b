"""The step handlers: one per kind of step in procedures/steps.py, and the journey's two ends
(signed, or screened out).

The draft lives in the database under a random id; the session cookie holds only that id.
Every step re-reads the exact definition the draft was started with (by its SHA-256), so a
definition edited mid-journey never changes what this patient is shown.
"""

from datetime import date

from flask import abort, current_app, redirect, render_template, request, url_for
from flask_babel import get_locale
from flask_babel import gettext as _

from .. import i18n, kiosk
from ..clinic_time import clinic_today
from ..models import EventKind, PatientDraft, RecordOutcome, utcnow
from ..procedures import care, consents
from ..procedures.answers import answered_steps, for_the_patient
from ..procedures.eligibility import (
    age_on,
    evaluate,
    missing_required,
    visible_answers,
)
from ..procedures.schema import Definition
from ..procedures.steps import (
    OUTCOME,
    done_after_saving,
    first_incomplete,
    may_open,
    screening_inputs,
    steps_for,
)
from ..records import commit
from ..records.commit import AlreadySubmitted, NotEligible, StepIncomplete, Submission
from ..records.jobs import after_commit
from ..records.labels import RELATIONSHIP_LABELS
from ..webforms import ContinueForm
from . import signers, teach_back
from .draft import data_of, save
from .forms import (
    AboutYouForm,
    EsignForm,
    PhotoConsentForm,
    SignerForm,
    posted_signature,
    risks_form,
    sign_form,
    teach_back_form,
)
from .question_page import question_page

clearing_site_data = kiosk.clearing_site_data


def show(draft: PatientDraft, definition: Definition, key: str):
    """The step `key` of the draft's journey: its page, or what saving it leads to."""
    steps = steps_for(definition)
    keys = [s.key for s in steps]
    if key not in keys:
        abort(404)
    done = data_of(draft).done
    if not may_open(steps, done, key):
        return redirect(url_for(".step", key=first_incomplete(steps, done).key))
    index = keys.index(key)
    context = {
        "definition": definition,
        "steps": steps,
        "position": index + 1,
        "current": steps[index],
        "previous": keys[index - 1] if index else None,
    }
    return HANDLERS[steps[index].handler](draft, definition, context)


def _complete(
    draft: PatientDraft, definition: Definition, key: str, *, undo: tuple[str, ...] = (),
    **changes,
):
    """Mark a step done and go to the first step still to do (the review after a change).

    `undo` names steps that this change makes stale, so they must be done again.
    """
    done = done_after_saving(data_of(draft).done, key, definition.screening_step)
    if key == "review":
        done.add("review")
    done -= set(undo)
    save(draft, done=sorted(done), **changes)
    steps = steps_for(definition)
    return redirect(url_for(".step", key=first_incomplete(steps, done).key))


def _age(about: dict) -> int | None:
    """The patient's age today, in the clinic's time zone, from the "About you" step."""
    born = about.get("date_of_birth")
    return age_on(date.fromisoformat(born), clinic_today()) if born else None


def _save_screening_input(
    draft: PatientDraft, definition: Definition, key: str, *, answers: dict, about: dict,
    undo: tuple[str, ...] = (), **changes,
):
    """Save a step the screening reads (its answers, or the age): answers to questions that
    are hidden now are dropped, a step that now asks a required question without an answer
    is no longer done, and a changed outcome is shown again (a "not eligible" one ends the
    journey, as the screening step does)."""
    data = data_of(draft)
    age = _age(about)
    answers = visible_answers(definition, answers, age)
    done = data.done
    stale = [
        step.key for step in definition.question_steps
        if step.key != key and step.key in done
        and missing_required(definition, step, answers, age)
    ]
    # Once the screening step is done, the rules run again on every change to what they read.
    screened = key == definition.screening_step or (
        definition.screening_step in done and key in screening_inputs(definition)
    )
    if screened:
        before = evaluate(definition, data.answers, age=_age(data.about))
        after = evaluate(definition, answers, age=age)
        if after.outcome == RecordOutcome.NOT_ELIGIBLE:
            return _finish_screened_out(draft, definition, answers, about=about)
        if after != before:
            stale.append(OUTCOME.key)
    return _complete(draft, definition, key, undo=(*undo, *stale), answers=answers,
                     about=about, **changes)


def _about(draft, definition, context):
    saved = data_of(draft).about
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
        return _save_screening_input(
            draft, definition, "about", answers=data_of(draft).answers, about=about, undo=stale,
        )
    return render_template(
        "patient/form_step.html", form=form, fields=["full_name", "date_of_birth", "contact"],
        title=_("About you"), intro=_("We need these to match this form to you."), **context,
    )


def _question_step(draft, definition: Definition, context):
    key = context["current"].key
    question_step = definition.step(key)
    keys = [question.key for question in question_step.questions]
    data = data_of(draft)
    age = _age(data.about)
    saved = visible_answers(definition, data.answers, age)
    earlier = {k: v for k, v in saved.items() if k not in keys}
    page = question_page(definition, question_step, earlier=earlier, saved=saved, age=age)
    if page.accepted():
        answers = {**{k: v for k, v in data.answers.items() if k not in keys}, **page.answers()}
        return _save_screening_input(draft, definition, key, answers=answers, about=data.about)
    return render_template(
        "patient/form_step.html", title=question_step.title, intro=question_step.intro,
        **page.template_context(),
        **context,
    )


def _outcome(draft, definition: Definition, context):
    data = data_of(draft)
    result = evaluate(definition, data.answers, age=_age(data.about))
    if result.outcome == RecordOutcome.NOT_ELIGIBLE:
        # Saving the steps ends such a journey at once; this holds the line regardless.
        return _finish_screened_out(draft, definition, data.answers, about=data.about)
    form = ContinueForm()
    if form.validate_on_submit():
        return _complete(draft, definition, "outcome")
    return render_template(
        "patient/outcome.html", form=form, result=result,
        reasons=for_the_patient(definition, result.reasons),
        text=getattr(definition.outcomes, result.outcome), **context,
    )


def _info_page(draft, definition: Definition, context):
    step = context["current"]
    form = ContinueForm()
    if form.validate_on_submit():
        return _complete(draft, definition, step.key)
    return render_template(
        "patient/info.html", form=form, page=getattr(definition, step.page), **context
    )


def _aftercare(draft, definition: Definition, context):
    """After the treatment, and when to call: the numbers as the clinic has them now (the
    record keeps the ones shown when the patient signs)."""
    form = ContinueForm()
    if form.validate_on_submit():
        return _complete(draft, definition, "aftercare")
    return render_template(
        "patient/aftercare.html", form=form,
        care=care.care_for(definition, care.contact_from_config(current_app.config)),
        **context,
    )


def _risks(draft, definition: Definition, context):
    form_class = risks_form(definition.risks)
    acknowledged = set(data_of(draft).acknowledged_risks)
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
    attempts = data_of(draft).teach_back
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
    return signers.patient_is_minor(date_of_birth or data_of(draft).date_of_birth)


def _representative_missing(draft: PatientDraft, date_of_birth: date | None = None) -> bool:
    return _patient_is_minor(draft, date_of_birth) and not data_of(draft).people.get(
        "representative"
    )


def _signer(draft, definition: Definition, context):
    minor = _patient_is_minor(draft)
    form = SignerForm(
        data=signers.form_data(data_of(draft).people, minor)
        if request.method == "GET" else None,
        patient_is_minor=minor,
    )
    if form.validate_on_submit():
        return _complete(draft, definition, "signer", signer=signers.people_from_form(form))
    return render_template(
        "patient/signer.html", form=form, patient_is_minor=minor,
        patient_name=data_of(draft).full_name, **context,
    )


def _language() -> str:
    """The language the patient is reading the tablet in, stored with what they agreed to."""
    return str(get_locale() or "en")


def _photos(draft, definition: Definition, context):
    saved = data_of(draft).photos or {}
    form = PhotoConsentForm(
        data={kind: saved.get(kind, False) for kind in consents.PHOTO_KINDS}
        if request.method == "GET" else None
    )
    if form.validate_on_submit():
        given = {kind: form[kind].data for kind in consents.PHOTO_KINDS}
        return _complete(
            draft, definition, "photos", photos=commit.photo_consent(_language(), given)
        )
    return render_template(
        "patient/photos.html", form=form, photo_kinds=consents.PHOTO_KINDS,
        intro=consents.PHOTOS_INTRO,
        later=consents.PHOTOS_LATER, **context,
    )


def _esign(draft, definition: Definition, context):
    agreed = data_of(draft).esign
    form = EsignForm(data={"agree": bool(agreed)} if request.method == "GET" else None)
    if form.validate_on_submit():
        agreement = agreed or commit.esign_agreement(_language(), utcnow())
        return _complete(draft, definition, "esign", esign=agreement)
    return render_template(
        "patient/esign.html", form=form, intro=consents.ESIGN_INTRO,
        points=consents.ESIGN_POINTS, **context,
    )


def _review(draft, definition: Definition, context):
    form = ContinueForm()
    if form.validate_on_submit():
        return _complete(draft, definition, "review")
    data = data_of(draft)
    age = _age(data.about)
    outcome = evaluate(definition, data.answers, age=age)
    return render_template(
        "patient/review.html", form=form, about=data.about,
        date_of_birth=data.date_of_birth,
        answered=answered_steps(definition, data.answers, age),
        outcome=outcome, reasons=for_the_patient(definition, outcome.reasons),
        acknowledged=data.acknowledged_risks,
        people=data.people, relationships=RELATIONSHIP_LABELS,
        photos=data.photos or {}, photo_consents=consents.PHOTO_CONSENTS, **context,
    )


def _sign(draft, definition: Definition, context):
    data = data_of(draft)
    representative = data.people.get("representative")
    signer_name = representative["name"] if representative else data.full_name
    form = sign_form(definition.consent_statements)(
        data={"signer_name": signer_name} if request.method == "GET" else None
    )
    signature_error = None
    if request.method == "POST":
        form_ok, signature, signature_error = posted_signature(form)
        if form_ok and not signature_error:
            return _finish_signed(draft, definition, form, signature)
    return render_template(
        "patient/sign.html", form=form, signature_error=signature_error,
        statement_fields=[f"agree_{s.key}" for s in definition.consent_statements],
        method_chosen=request.method == "POST", representative=representative,
        patient_name=data.full_name, relationships=RELATIONSHIP_LABELS,
        **context,
    )


def _submission(
    draft: PatientDraft, definition: Definition, answers: dict, about: dict | None = None,
    **extra,
) -> Submission:
    about = about or data_of(draft).about
    return Submission(
        submission_key=draft.id,
        definition_sha256=draft.definition_sha256,
        language=definition.language,
        patient_name=about["full_name"],
        patient_dob=date.fromisoformat(about["date_of_birth"]),
        patient_contact=about.get("contact") or None,
        answers=answers,
        clinic_contact=care.contact_from_config(current_app.config),
        user_agent=request.user_agent.string or "",
        address=request.remote_addr or "",
        **extra,
    )


def _commit(submission: Submission, definition: Definition) -> str:
    """Commit the record (the draft is deleted with it); a second tap on the same draft, or
    the tablet retrying after a lost answer, finds the first record instead."""
    try:
        record_id = commit.commit_record(definition, submission).id
    except AlreadySubmitted as already:
        record_id = already.record_id
    after_commit(record_id)
    kiosk.discard_draft()
    return record_id


def _finish_screened_out(draft, definition: Definition, answers: dict, about: dict):
    _commit(_submission(draft, definition, answers, about=about), definition)
    i18n.forget()
    # Shown in this response rather than after a redirect: the reasons are health data and
    # must not wait in the session cookie for another request.
    result = evaluate(definition, answers, age=_age(about))
    return clearing_site_data(render_template(
        "patient/finished.html", kind=EventKind.SCREENED_OUT, definition=definition,
        reasons=for_the_patient(definition, result.holds),
    ))


def _finish_signed(draft, definition: Definition, form, signature):
    data = data_of(draft)
    people = data.people
    submission = _submission(
        draft,
        definition,
        data.answers,
        acknowledged_risks=tuple(data.acknowledged_risks),
        accepted_statements=tuple(s.key for s in definition.consent_statements),
        signer_name=form.signer_name.data,
        signature_method=form.signature_method.data,
        signature=signature,
        representative=people.get("representative"),
        interpreter=people.get("interpreter"),
        witness=people.get("witness"),
        teach_back=teach_back.for_the_record(definition.teach_back, data.teach_back)
        if definition.teach_back else None,
        esign_agreement=data.esign,
        photo_consent=data.photos,
    )
    definition_sha256 = draft.definition_sha256
    try:
        record_id = _commit(submission, definition)
    except StepIncomplete as missing:
        # The steps' own checks, once more where it counts: back to the step not done.
        return redirect(url_for(".step", key=missing.step))
    except NotEligible:
        abort(409)
    i18n.forget()
    # The record's id (no patient data) waits in the session for the finish screen alone.
    kiosk.finish({"kind": EventKind.SIGNED, "definition": definition_sha256, "record": record_id})
    return clearing_site_data(redirect(url_for(".finished")))


# Each kind of step (procedures.steps.HANDLER_KINDS) and the handler that shows it.
HANDLERS = {
    "about": _about,
    "question": _question_step,
    "outcome": _outcome,
    "info": _info_page,
    "aftercare": _aftercare,
    "risks": _risks,
    "understanding": _understanding,
    "signer": _signer,
    "photos": _photos,
    "review": _review,
    "esign": _esign,
    "sign": _sign,
}
