"""The dashboard's search as staff make it: type into the form, press Search (a post), land
on the results at an address that holds only an opaque search id."""

import re

from .conftest import csrf_token

FIELDS = ("q", "dob", "date_from", "date_to", "procedure", "status", "sort")


def dashboard_search(client, *, page=None, follow=True, **filters):
    """Post the search form with `filters` typed in; the results page it leads to (or the
    post's own answer, with follow=False or when the form was refused)."""
    form = client.get("/staff/")
    typed = {name: "" for name in FIELDS} | {"sort": "newest"} | {
        name: str(value) for name, value in filters.items()
    }
    response = client.post("/staff/search", data={**typed, "csrf_token": csrf_token(form.text)})
    if response.status_code != 302 or not follow:
        return response
    location = response.headers["Location"]
    assert re.fullmatch(r"/staff/\?search=[A-Za-z0-9_-]{22}", location), location
    return client.get(location + (f"&page={page}" if page else ""))


def search_address(html: str) -> str:
    """The results' address: the opaque id, as the status tabs link with it."""
    return re.search(r'href="/staff/\?(search=[A-Za-z0-9_-]{22})', html).group(1)
