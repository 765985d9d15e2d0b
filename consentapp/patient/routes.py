"""The patient side's URL map, and the thin views that are not a step of the journey.

Every page a tablet (or a patient's phone, for their copy) can open is listed in register();
the step pages are shown by patient/steps.py, the copy pages by patient/copy_link.py.
"""

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import force_locale, get_locale

from .. import i18n, kiosk
from ..extensions import db
from ..models import ConsentRecord
from ..procedures import catalog
from ..procedures.answers import for_the_patient
from ..procedures.eligibility import stored_reasons
from ..webforms import ContinueForm
from . import check_in, copy_link, steps
from .draft import TIMED_OUT_MESSAGE, current_draft, touch


def _language() -> str:
    return str(get_locale() or "en")


def welcome():
    has_draft = current_draft() is not None
    if not has_draft and kiosk.finish_due():  # signed, and the answer that said so lost
        return redirect(url_for(".finished"))
    procedures = [item.definition for item in catalog.offered(_language())]
    return render_template(
        "patient/welcome.html",
        procedures=procedures,
        languages=i18n.OWN_NAMES,
        form=ContinueForm(),
        has_draft=has_draft,
        patient_mode=kiosk.in_patient_mode(),
    )


def choose_language():
    """The welcome screen's "English" / "Español" buttons; the choice lasts the patient's turn."""
    form = ContinueForm()
    language = request.form.get("language", "")
    if not form.validate_on_submit() or language not in i18n.SUPPORTED:
        abort(400)
    i18n.choose(language)
    return redirect(url_for(".welcome"))


def start():
    form = ContinueForm()
    if not form.validate_on_submit():
        abort(400)
    item = catalog.in_language(request.form.get("procedure", ""), _language())
    if item is None:
        abort(404)
    return kiosk.enter_patient_mode(item)


def start_over():
    """"Start over" (and "Hide the code"): the next patient finds nothing of this one."""
    form = ContinueForm()
    if form.validate_on_submit():
        kiosk.end_patient_turn()
    return kiosk.clearing_site_data(redirect(url_for(".welcome")))


def timed_out():
    """The inactivity script's reset: wipe the draft and show the welcome screen."""
    form = ContinueForm()
    if form.validate_on_submit() and kiosk.end_patient_turn():
        flash(str(TIMED_OUT_MESSAGE))
    return kiosk.clearing_site_data(redirect(url_for(".welcome")))


def still_here():
    """The "I need more time" button: the draft is in use. 204 keeps the page (and anything
    typed on it) as it is, whether the script sent this or the form did."""
    form = ContinueForm()
    draft = current_draft()
    if draft is None or not form.validate_on_submit():
        return redirect(url_for(".welcome"))
    touch(draft)
    return "", 204


def step(key: str):
    draft = current_draft()
    if draft is None:
        # A tap (Sign again, say) on a draft signed meanwhile finds the finish screen.
        return redirect(url_for(".finished" if kiosk.finish_due() else ".welcome"))
    definition = catalog.definition_for(draft.definition_sha256)
    # Every screen of the journey, its messages and its <html lang> speak the language of
    # the definition the patient started with, so the page never mixes two languages.
    with force_locale(definition.language):
        return steps.show(draft, definition, key)


def finished():
    info = kiosk.take_finished()
    if not info:
        return redirect(url_for(".welcome"))
    definition = catalog.definition_for(info["definition"])
    link = care_shown = reasons = None
    if info["kind"] == "visit":  # a visit's check-in: a link of its own to the new version
        link = copy_link.for_finish_screen(info["record"], seed=f"visit:{info['visit']}")
        care_shown = copy_link.care_of(info["record"], definition)
    elif info["kind"] == "signed":
        # The record's one link, the same however often this screen is shown (a double tap,
        # a lost answer); a reload finds the session emptied and the welcome screen.
        link = copy_link.for_finish_screen(info["record"])
        care_shown = copy_link.care_of(info["record"], definition)
    else:  # screened out, and the answer that said so was lost (kiosk.signed_meanwhile)
        stored = db.session.get(ConsentRecord, info["record"]).outcome_reasons
        reasons = for_the_patient(definition, stored_reasons(stored))
    with force_locale(definition.language):
        return steps.clearing_site_data(render_template(
            "patient/finished.html", kind=info["kind"], definition=definition, copy=link,
            care=care_shown, reasons=reasons, form=ContinueForm(),
        ))


def register(bp: Blueprint) -> None:
    """Every URL of the patient side."""
    bp.add_url_rule("/", view_func=welcome, methods=["GET"])
    bp.add_url_rule("/language", view_func=choose_language, methods=["POST"])
    bp.add_url_rule("/start", view_func=start, methods=["POST"])
    bp.add_url_rule("/start-over", view_func=start_over, methods=["POST"])
    bp.add_url_rule("/timed-out", view_func=timed_out, methods=["POST"])
    bp.add_url_rule("/still-here", view_func=still_here, methods=["POST"])
    bp.add_url_rule("/step/<key>", view_func=step, methods=["GET", "POST"])
    bp.add_url_rule("/finished", view_func=finished, methods=["GET"])
    # A later visit of a course (staff start it from the record page).
    bp.add_url_rule("/check-in", endpoint="check_in", view_func=check_in.identity,
                    methods=["GET", "POST"])
    bp.add_url_rule("/check-in/questions", endpoint="check_in_questions",
                    view_func=check_in.questions, methods=["GET", "POST"])
    bp.add_url_rule("/check-in/sign", endpoint="check_in_sign", view_func=check_in.sign,
                    methods=["GET", "POST"])
    bp.add_url_rule("/copy/<token>", view_func=copy_link.limited(copy_link.copy),
                    methods=["GET"])
    bp.add_url_rule("/copy/<token>", endpoint="copy_download",
                    view_func=copy_link.limited(copy_link.copy_download), methods=["POST"])
