"""Races and lost answers on the tablet, in one process with real concurrent transactions
(threads, each with its own connection), on SQLite and PostgreSQL: double taps on Sign, a
sign whose answer never reached the tablet, tablets starting together on a fresh database,
staff decisions at the same moment."""

import re
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import text

from .chaos.tablet import copy_code
from .conftest import csrf_token
from .journey import PatientJourney, drawn_signature

SAVED = "Your signed form has been saved."


@pytest.fixture
def app_config(app_config):
    # Signing only commits: the PDFs are not the point here (the decisions below render).
    # The copy link's QR code needs an address a phone can trust (patient/copy_link.py).
    return {**app_config, "PDF_RENDER_MODE": "worker", "TRUSTED_HOSTS": ["localhost"]}


def _sql(app, query: str, **params):
    from consentapp.extensions import db

    with app.app_context():
        return db.session.execute(text(query), params).all()


def _records(app, name: str | None = None) -> list[str]:
    if name is None:
        return [row[0] for row in _sql(app, "SELECT patient_name FROM consent_records")]
    return [row[0] for row in _sql(
        app, "SELECT id FROM consent_records WHERE patient_name = :name", name=name)]


def _sign_form(page_html: str, name: str) -> dict:
    statements = re.findall(r'name="(agree_[a-z_]+)"', page_html)
    return {**{key: "y" for key in statements}, "signer_name": name,
            "signature_method": "drawn", "signature": drawn_signature(),
            "csrf_token": csrf_token(page_html)}


def _twin(app, client):
    """A second client holding the same cookies: the same tablet, a second tap."""
    twin = app.test_client()
    cookie = client.get_cookie("session")
    twin.set_cookie("session", cookie.value, domain=cookie.domain, path=cookie.path)
    return twin


def _at_once(*calls):
    barrier = threading.Barrier(len(calls))

    def run(call):
        barrier.wait()
        return call()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


TAPS = 20


def test_twenty_double_taps_give_twenty_records_and_forty_finish_pages(app):
    journeys = [PatientJourney(app.test_client()) for _ in range(TAPS)]
    for number, journey in enumerate(journeys):
        journey.to_signature(name=f"Double Tap{number:02d}")

    def double_tap(item):
        number, journey = item
        form = _sign_form(journey.page.text, f"Double Tap{number:02d}")
        first, second = journey.client, _twin(app, journey.client)
        answers = _at_once(lambda: first.post("/step/sign", data=form),
                           lambda: second.post("/step/sign", data=form))
        # Each tap's answer lands on the finish page, whichever the tablet shows.
        pages = [client.get(answer.headers.get("Location", "/finished"))
                 for client, answer in zip((first, second), answers, strict=True)]
        return answers, pages

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(double_tap, enumerate(journeys)))

    statuses = [answer.status_code for answers, _ in results for answer in answers]
    assert all(status < 500 for status in statuses), statuses
    assert len(statuses) == 2 * TAPS
    for answers, pages in results:
        assert [a.headers.get("Location", "").rsplit("/", 1)[-1] for a in answers] == [
            "finished", "finished"]
        assert all(page.status_code == 200 and SAVED in page.text for page in pages)
        codes = {copy_code(page.text) for page in pages}
        assert len(codes) == 1 and None not in codes  # the same single-use copy link
    assert sorted(_records(app)) == [f"Double Tap{n:02d}" for n in range(TAPS)]
    assert _sql(app, "SELECT count(*) FROM patient_drafts") == [(0,)]


def test_a_sign_whose_answer_was_lost_is_found_by_the_next_tap(app, journey):
    journey.to_signature(name="Lost Answer")
    form = _sign_form(journey.page.text, "Lost Answer")
    tablet = journey.client
    before = tablet.get_cookie("session")
    tablet.post("/step/sign", data=form)
    # The answer never reached the tablet: its cookie is the one it had before.
    tablet.set_cookie("session", before.value, domain=before.domain, path=before.path)

    again = tablet.post("/step/sign", data=form, follow_redirects=True)
    assert again.status_code == 200 and again.request.path == "/finished"
    assert SAVED in again.text and copy_code(again.text)
    assert _records(app) == ["Lost Answer"]
    assert _sql(app, "SELECT count(*) FROM patient_drafts") == [(0,)]


def test_after_a_lost_answer_the_welcome_screen_says_the_form_was_saved(app, journey):
    journey.to_signature(name="Lost Again")
    form = _sign_form(journey.page.text, "Lost Again")
    tablet = journey.client
    before = tablet.get_cookie("session")
    shown = tablet.post("/step/sign", data=form, follow_redirects=True)
    tablet.set_cookie("session", before.value, domain=before.domain, path=before.path)

    page = tablet.get("/", follow_redirects=True)
    assert page.request.path == "/finished" and SAVED in page.text
    assert copy_code(page.text) == copy_code(shown.text)
    assert "Lost Again" not in page.text
    # Shown once: the next look is the welcome screen for the next patient.
    assert tablet.get("/", follow_redirects=True).request.path == "/"
    assert _records(app) == ["Lost Again"]


def test_a_lost_answer_found_after_the_idle_reset_time_shows_the_welcome_screen(app, journey):
    journey.to_signature(name="Long Gone")
    form = _sign_form(journey.page.text, "Long Gone")
    tablet = journey.client
    before = tablet.get_cookie("session")
    tablet.post("/step/sign", data=form)
    tablet.set_cookie("session", before.value, domain=before.domain, path=before.path)
    # Nobody touched the tablet for longer than the idle reset: the next patient may hold it.
    with app.app_context():
        from consentapp.extensions import db

        db.session.execute(text(
            "UPDATE consent_records SET completed_at = :at"
        ), {"at": "2000-01-01 00:00:00"})
        db.session.commit()

    page = tablet.get("/", follow_redirects=True)
    assert page.request.path == "/" and SAVED not in page.text
    again = tablet.post("/step/sign", data=form, follow_redirects=True)
    assert again.request.path == "/" and again.status_code == 200
    assert _records(app) == ["Long Gone"]


TABLETS = 8


def test_eight_tablets_starting_at_once_on_a_fresh_database_all_reach_the_first_question(app):
    # The app fixture emptied every table: no definition has been stored yet.
    assert _sql(app, "SELECT count(*) FROM definition_snapshots") == [(0,)]
    clients = [app.test_client() for _ in range(TABLETS)]
    tokens = [csrf_token(client.get("/").text) for client in clients]

    def start(index):
        return lambda: clients[index].post(
            "/start", data={"procedure": "microneedling", "csrf_token": tokens[index]},
            follow_redirects=True)

    pages = _at_once(*(start(index) for index in range(TABLETS)))
    assert [page.status_code for page in pages] == [200] * TABLETS
    assert {page.request.path for page in pages} == {"/step/about"}
    assert _sql(app, "SELECT count(*) FROM definition_snapshots") == [(1,)]


@pytest.fixture
def signed_unrendered(app, journey):
    """A signed record that needs review and gave a clinical photo consent, no PDF yet."""
    journey.to_signature("diabetes", name="Racing Decisions")
    journey.get("/step/photos")
    journey.photos(clinical=True)
    journey.continue_("review")
    journey.esign()
    journey.sign(name="Racing Decisions")
    assert journey.path == "/finished"
    [record_id] = _records(app, "Racing Decisions")
    app.config["PDF_RENDER_MODE"] = "inline"  # each decision renders in its own request
    return record_id


def _decision(client, record_id, action, data):
    token = csrf_token(client.get(f"/staff/records/{record_id}").text)
    return lambda: client.post(f"/staff/records/{record_id}/{action}",
                               data={**data, "csrf_token": token})


def test_decisions_at_the_same_moment_render_in_order_and_keep_the_status_true(
    app, staff, signed_unrendered
):
    record_id = signed_unrendered
    clinician, desk = staff("clinician"), staff("frontdesk")
    answers = _at_once(
        _decision(clinician, record_id, "review", {"decision": "approved", "note": "Fine."}),
        _decision(clinician, record_id, "countersign", {"clinician_name": "Dr Ana Ruiz"}),
        _decision(desk, record_id, "withdraw", {"reason": "Changed her mind."}),
    )
    assert all(answer.status_code in (302, 409) for answer in answers), [
        answer.status_code for answer in answers]

    kinds = [kind for (kind,) in _sql(
        app, "SELECT kind FROM record_events WHERE record_id = :id ORDER BY id", id=record_id)]
    assert "pdf_render_failed" not in kinds
    assert kinds.count("withdrawn") == 1
    from consentapp.records.status import status_after

    outcome = _sql(app, "SELECT outcome FROM consent_records WHERE id = :id", id=record_id)[0][0]
    listed = _sql(app, "SELECT status FROM record_listings WHERE record_id = :id", id=record_id)
    assert listed == [(status_after(outcome, kinds),)]
    assert _sql(app, "SELECT count(*) FROM verification_codes WHERE record_id = :id",
                id=record_id) == [(1,)]
    rendered = _sql(app, "SELECT version FROM record_pdfs WHERE record_id = :id ORDER BY version",
                    id=record_id)
    assert [v for (v,) in rendered] == list(range(1, len(rendered) + 1)) and rendered


def test_two_countersignatures_at_the_same_moment_make_one(app, staff, signed_unrendered):
    record_id = signed_unrendered
    first = staff("clinician", "dr.one@example.org")
    second = staff("clinician", "dr.two@example.org")
    answers = _at_once(
        _decision(first, record_id, "countersign", {"clinician_name": "Dr One"}),
        _decision(second, record_id, "countersign", {"clinician_name": "Dr Two"}),
    )
    assert sorted(answer.status_code for answer in answers) == [302, 409]
    assert _sql(app, "SELECT count(*) FROM record_events WHERE record_id = :id "
                "AND kind = 'countersigned'", id=record_id) == [(1,)]
