"""Fuzzing every form: random, unicode, huge, missing and repeated fields never cause a 5xx,
and a bad post to one step never damages the answers already given to the others."""

import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from consentapp.extensions import db
from consentapp.models import PatientDraft

from .conftest import csrf_token
from .journey import SHIPPED_DEFINITION

PATIENT_STEPS = ("about", "concerns", "medicines", "health", "screening", "outcome", "expect",
                 "benefits", "risks", "alternatives", "before_visit", "aftercare", "review",
                 "sign")
FIELD_NAMES = (
    "full_name", "date_of_birth", "contact", "concerns", "concerns_other", "areas", "goals",
    "expectations", "isotretinoin_use", "sunburn", "pregnant_now", "medicines",
    "medicines_list", "shown", "cold_sore_history", "active_cold_sore", "ack_bruising",
    "ack_scarring", "agree_voluntary", "signer_name", "signature", "procedure", "email",
    "password", "x" * 300,
)
FUZZ = settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)

text = st.one_of(
    st.text(max_size=40),
    # Huge values, made by repetition so hypothesis need not generate every character.
    st.text(alphabet=st.characters(codec="utf-8"), min_size=1, max_size=8).map(lambda s: s * 1500),
    st.sampled_from(["", " ", "\x00", "yes", "no", "y", "1971-04-09", "0000-00-00", "null",
                     '{"width": 700, "height": 220, "strokes": [[[1e309, 2]]]}',
                     '{"width": 1e9, "height": -1, "strokes": "x"}', "<script>alert(1)</script>"]),
)
form_data = st.dictionaries(
    st.one_of(st.sampled_from(FIELD_NAMES), st.text(max_size=20)),
    st.one_of(text, st.lists(text, max_size=5)),  # a list posts the field repeatedly
    max_size=12,
)


def _draft_data(app) -> dict:
    with app.app_context():
        return db.session.scalars(select(PatientDraft)).one().data


def _answers_outside(data: dict, step: str) -> dict:
    """Everything a post to `step` must leave alone."""
    kept = {key: value for key, value in data.items() if key not in ("done", step)}
    question_step = SHIPPED_DEFINITION.step(step)
    if question_step is not None:
        own = {question.key for question in question_step.questions}
        kept["answers"] = {k: v for k, v in data.get("answers", {}).items() if k not in own}
    if step == "risks":
        kept.pop("acknowledged_risks", None)
    return kept


def test_fuzzed_patient_posts_never_fail_and_keep_other_answers(app, journey):
    journey.to_signature()
    client = journey.client
    token = csrf_token(journey.page.text)
    posts = 0

    @FUZZ
    @given(step=st.sampled_from(PATIENT_STEPS), data=form_data, with_token=st.booleans())
    def post_garbage(step, data, with_token):
        nonlocal posts
        before = _draft_data(app)
        payload = dict(data)
        if with_token:
            payload["csrf_token"] = token
        response = client.post(f"/step/{step}", data=payload)
        posts += 1
        assert response.status_code < 500, (step, response.status_code)
        with app.app_context():
            draft = db.session.scalars(select(PatientDraft)).one_or_none()
        if draft is None:  # a lucky valid signature or screening ended the journey
            return
        assert _answers_outside(draft.data, step) == _answers_outside(before, step)

    post_garbage()
    assert posts >= 40


def test_fuzzed_staff_sign_in_never_fails(app, client):
    token = csrf_token(client.get("/staff/login").text)

    @FUZZ
    @given(data=form_data)
    def post_garbage(data):
        response = client.post("/staff/login", data={**data, "csrf_token": token})
        assert response.status_code in (200, 302, 400, 413, 429)

    post_garbage()


def test_fuzzed_start_never_fails(client):
    token = csrf_token(client.get("/").text)

    @FUZZ
    @given(procedure=text)
    def post_garbage(procedure):
        response = client.post("/start", data={"procedure": procedure, "csrf_token": token})
        assert response.status_code in (302, 400, 404)

    post_garbage()


def test_a_nul_byte_in_free_text_is_removed_not_stored(app, journey):
    journey.start()
    page = journey.about(name="Nul\x00 Person", dob="1971-04-09")
    assert page.request.path == "/step/concerns"
    assert _draft_data(app)["about"]["full_name"] == "Nul Person"
    assert re.search("Nul", page.text) is None  # nothing echoed on the next screen
