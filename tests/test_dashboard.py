"""The dashboard: search by name (accents, capitals, parts), birth date, dates, procedure and
status; counts per status; sorting; pages; the clinician's review queue."""

import re
from datetime import datetime

import pytest

from consentapp.records.search import search_key

from .staff_search import dashboard_search, search_address


@pytest.mark.parametrize(("text", "key"), [
    ("Zoë O'Brien-Núñez", "zoe obrien nunez"),
    ("JOSÉ ÁLVAREZ", "jose alvarez"),
    ("Søren Łukasz Æbelø", "soren lukasz aebelo"),
    ("Straße", "strasse"),
    ("  Ana   María  ", "ana maria"),
    ("D’Angelo", "dangelo"),
    ("李小龍", "李小龍"),
    ("%_", ""),
])
def test_search_key_folds_case_accents_and_punctuation(text, key):
    assert search_key(text) == key


def _names(html: str) -> list[str]:
    return re.findall(r'<td><a href="/staff/records/[^"]+">([^<]+)</a></td>', html)


@pytest.fixture
def people(make_record):
    people = {
        "Zoë O'Brien-Núñez": ("1965-07-30", (), datetime(2026, 3, 1, 10)),
        "José Álvarez": ("1980-01-01", ("diabetes",), datetime(2026, 3, 2, 10)),
        "Maria Example": ("1971-04-09", (), datetime(2026, 3, 3, 10)),
        "Mariana López": ("1990-12-24", ("sunburn",), datetime(2026, 3, 4, 10)),
        "Søren Łukasz": ("1971-04-09", ("blood_thinner",), datetime(2026, 3, 5, 23, 30)),
    }
    return {
        name: make_record(name, dob, *yes, at=at) for name, (dob, yes, at) in people.items()
    }


@pytest.mark.parametrize(("query", "found"), [
    ("nunez", {"Zoë O&#39;Brien-Núñez"}),
    ("NÚÑ", {"Zoë O&#39;Brien-Núñez"}),
    ("o'brien", {"Zoë O&#39;Brien-Núñez"}),
    ("obri", {"Zoë O&#39;Brien-Núñez"}),
    ("zoe nunez", {"Zoë O&#39;Brien-Núñez"}),
    ("jose", {"José Álvarez"}),
    ("ÁLV", {"José Álvarez"}),
    ("mari", {"Maria Example", "Mariana López"}),
    ("maria ex", {"Maria Example"}),
    ("lopez", {"Mariana López"}),
    ("soren lukasz", {"Søren Łukasz"}),
    ("%", set()),
    ("_", set()),
    ("nobody", set()),
])
def test_name_search_ignores_case_and_accents_and_finds_parts(staff, people, query, found):
    page = dashboard_search(staff("frontdesk"), q=query)
    assert page.status_code == 200
    assert "q=" not in page.request.full_path  # the search id, not the name, is in the URL
    assert set(_names(page.text)) == found
    assert 'value="{}"'.format(query.replace("'", "&#39;")) in page.text  # the query stays


def test_filters_by_birth_date_dates_procedure_and_status(staff, people):
    client = staff("frontdesk")

    def found(**args):
        return set(_names(dashboard_search(client, **args).text))

    everyone = {name.replace("'", "&#39;") for name in people}
    assert found(dob="1971-04-09") == {"Maria Example", "Søren Łukasz"}
    assert found(date_from="2026-03-02", date_to="2026-03-03") == {"José Álvarez", "Maria Example"}
    assert found(date_from="2026-03-05") == {"Søren Łukasz"}
    assert found(procedure="microneedling") == everyone
    assert found(status="needs_review") == {"José Álvarez", "Søren Łukasz"}
    assert found(status="not_eligible") == {"Mariana López"}
    assert found(status="signed") == {"Zoë O&#39;Brien-Núñez", "Maria Example"}
    assert found(status="needs_review", dob="1971-04-09") == {"Søren Łukasz"}
    assert found(q="mari", status="signed") == {"Maria Example"}


class TestClinicTimeZone:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "CLINIC_TIMEZONE": "Europe/Madrid"}

    def test_dates_are_the_clinics_days_not_utc_days(self, staff, people):
        # 23:30 UTC on 5 March is already 6 March in Madrid.
        client = staff("frontdesk")
        page = dashboard_search(client, date_from="2026-03-06")
        assert set(_names(page.text)) == {"Søren Łukasz"}
        assert "2026-03-06 00:30 CET" in page.text
        page = dashboard_search(client, date_to="2026-03-05")
        assert "Søren Łukasz" not in _names(page.text)


def test_counts_per_status_follow_the_other_filters(staff, people):
    client = staff("clinician")
    page = client.get("/staff/").text
    for label, count in [("All", 5), ("Signed", 2), ("Needs review", 2), ("Not eligible", 1),
                         ("Withdrawn", 0)]:
        assert re.search(rf">{label} <span class=\"count\">{count}</span>", page), label
    page = dashboard_search(client, q="mari", status="signed").text
    assert re.search(r'aria-current="page">Signed <span class="count">1</span>', page)
    assert re.search(r">Not eligible <span class=\"count\">1</span>", page)
    # The tabs keep the search by its id alone, and switch only the status.
    tab = f'href="/staff/?{search_address(page)}&amp;status=not_eligible"'
    assert tab in page
    other = client.get(re.search(r'href="([^"]+)"', tab).group(1).replace("&amp;", "&"))
    assert set(_names(other.text)) == {"Mariana López"}


def test_sorting(staff, people):
    client = staff("frontdesk")

    def order(sort):
        return _names(dashboard_search(client, sort=sort).text)

    zoe = "Zoë O&#39;Brien-Núñez"
    assert order("newest")[0] == "Søren Łukasz" and order("oldest")[0] == zoe
    assert order("name") == ["José Álvarez", "Maria Example", "Mariana López", "Søren Łukasz",
                             zoe]
    assert order("name_desc") == list(reversed(order("name")))
    assert order("dob")[0] == zoe


class TestPagination:
    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "STAFF_PAGE_SIZE": 3}

    def test_pages_keep_the_filters_and_cover_every_record_once(self, staff, make_record):
        for day in range(1, 9):
            make_record(f"Patient Number{day}", "1980-01-01", at=datetime(2026, 1, day, 9))
        make_record("Someone Else", "1980-01-01", at=datetime(2026, 1, 20, 9))
        client = staff("frontdesk")
        seen = []
        for page_number in (1, 2, 3):
            page = dashboard_search(client, q="number", page=page_number).text
            seen += _names(page)
            assert f"Page {page_number} of 3" in page
        assert seen == [f"Patient Number{day}" for day in range(8, 0, -1)]
        first = dashboard_search(client, q="number").text
        assert f'href="/staff/?{search_address(first)}&amp;page=2" rel="next"' in first
        assert 'rel="prev"' not in first
        # A page past the end shows the last page rather than an empty table.
        beyond = dashboard_search(client, q="number", page=99).text
        assert _names(beyond) == ["Patient Number2", "Patient Number1"]
        assert "8 records" in beyond


def test_bad_filter_input_is_explained_on_the_same_page(staff, people):
    client = staff("frontdesk")
    page = dashboard_search(client, q="maria", dob="31/02/1971")
    assert page.status_code == 200
    assert "Not a valid date value." in page.text
    assert 'value="maria"' in page.text and 'value="31/02/1971"' in page.text
    page = dashboard_search(client, date_from="2026-03-05", date_to="2026-03-01")
    assert "The end date must be on or after the start date." in page.text
    page = client.get("/staff/", query_string={"page": "abc", "sort": "evil", "status": "x"})
    assert page.status_code == 200


def test_clinicians_see_the_review_queue_first_and_front_desk_does_not(staff, people):
    clinician = staff("clinician").get("/staff/").text
    assert "Waiting for clinician review" in clinician
    queue = clinician.split('class="queue"')[1].split("</ol>")[0]
    assert queue.index("José Álvarez") < queue.index("Søren Łukasz")  # longest waiting first
    assert "Maria Example" not in queue
    assert clinician.index("Waiting for clinician review") < clinician.index("Find records")
    assert "Waiting for clinician review" not in staff("frontdesk").get("/staff/").text


def _queries_for(app, client, path: str) -> list[str]:
    from sqlalchemy import event

    from consentapp.extensions import db

    statements: list[str] = []

    def note(conn, cursor, statement, *args):
        statements.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", note)
    try:
        assert client.get(path).status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", note)
    return statements


def test_the_dashboard_reads_each_row_in_the_same_queries_however_many(app, staff, make_record):
    """No query per row (a column the table shows but the search did not load would do it)."""
    client = staff("clinician")
    make_record("Ana Uno", "1980-01-01")
    make_record("Ana Dos", "1980-01-01", "diabetes")
    few = _queries_for(app, client, "/staff/")
    for number in range(6):
        make_record(f"Ana Mas{number}", "1980-01-01", *(("diabetes",) if number % 2 else ()))
    many = _queries_for(app, client, "/staff/")
    assert len(_names(client.get("/staff/").text)) == 8
    assert len(many) == len(few)


def test_the_search_is_kept_on_the_server_for_this_sign_in_only(staff, people):
    clinician = staff("clinician")
    page = dashboard_search(clinician, q="nunez", dob="1965-07-30")
    assert set(_names(page.text)) == {"Zoë O&#39;Brien-Núñez"}
    address = "/staff/?" + search_address(page.text)
    assert "nunez" not in address and "1965" not in address
    assert _names(clinician.get(address).text) == _names(page.text)  # reload, Back, links
    # Someone else (or the same person after signing out) finds nothing under that id.
    stranger = staff("frontdesk").get(address)
    assert stranger.status_code == 200
    assert "That search has ended" in stranger.text
    assert len(_names(stranger.text)) == len(people)


def test_an_address_with_the_filters_in_it_moves_to_a_saved_search(staff, people):
    client = staff("frontdesk")
    response = client.get("/staff/", query_string={"q": "nunez", "status": "signed"})
    assert response.status_code == 302
    assert "nunez" not in response.headers["Location"]
    assert set(_names(client.get(response.headers["Location"]).text)) == {
        "Zoë O&#39;Brien-Núñez"}


def test_a_short_word_finds_the_start_of_a_word_of_the_name(staff, people):
    client = staff("frontdesk")

    def found(query):
        return set(_names(dashboard_search(client, q=query).text))

    assert found("ex") == {"Maria Example"}  # the start of "Example"
    assert found("xa") == set()  # two letters inside a word: too many records on a million
    assert found("xam") == {"Maria Example"}  # three are any part of it
    assert found("l") == {"Mariana López", "Søren Łukasz"}


class TestCountsPastTheLimit:
    """Past COUNT_LIMIT the dashboard says "more than" and pages on while there are records."""

    @pytest.fixture
    def app_config(self, app_config):
        return {**app_config, "STAFF_PAGE_SIZE": 2}

    def test_more_than_the_limit_and_pages_while_there_are_records(self, staff, make_record,
                                                                   monkeypatch):
        from consentapp.records import search

        for day in range(1, 8):
            make_record(f"Patient Number{day}", "1980-01-01", at=datetime(2026, 1, day, 9))
        make_record("Needs Review", "1980-01-01", "diabetes", at=datetime(2026, 1, 9, 9))
        monkeypatch.setattr(search, "COUNT_LIMIT", 3)
        client = staff("clinician")
        first = dashboard_search(client, q="number").text
        assert "More than 3 records · page 1" in first
        assert re.search(r">All <span class=\"count\">3\+</span>", first)
        assert re.search(r">Signed <span class=\"count\">3\+</span>", first)
        assert re.search(r">Needs review <span class=\"count\">0</span>", first)
        assert "Download these records as CSV (all pages)" in first
        seen = []
        for page_number in (1, 2, 3, 4):
            page = dashboard_search(client, q="number", page=page_number).text
            seen += _names(page)
            assert ('rel="next"' in page) == (page_number < 4)
            assert "Last</a>" not in page  # the last page is not counted
        assert seen == [f"Patient Number{day}" for day in range(7, 0, -1)]
        # An address past the end shows the last page, as when everything is counted.
        assert _names(dashboard_search(client, q="number", page=50).text) == ["Patient Number1"]
        # Under the limit, the exact count as ever.
        assert "1 record" in dashboard_search(client, q="review").text
