"""The dashboard's search kept on the server, so no name or birth date is ever in a URL.

The search form is posted (CSRF-protected) to /staff/search; what was typed is stored as a
SavedSearch under a random id, and the browser is sent on (a redirect: POST-redirect-GET) to
/staff/?search=<id>. The results page, its status tabs, its pages and its CSV link carry
only that id, plus the status, sort and page, which say nothing about a patient. So reload,
Back, bookmarks and every link work without JavaScript, and what staff typed never reaches
the address bar, the browser's history, a Referer, a proxy's log or gunicorn's.

Why not simply POST the search: the status tabs and the pager would all have to be forms,
a reload would ask to send the form again, and Back would show "document expired". Why not
the session cookie: it is signed, not encrypted, and travels with every request.

A search is found again only in the staff session that saved it (someone else's id, or
yours after signing out, finds nothing), and searches a day old are deleted whenever a new
one is saved.
"""

import secrets
from datetime import timedelta

from sqlalchemy import delete, select

from ..extensions import db
from ..models import SavedSearch, utcnow
from . import sessions

# The dashboard's filters that are kept here: the ones that can name a patient, and with
# them the rest of the form, so a saved search is the whole search as typed.
SAVED_FIELDS = ("q", "dob", "date_from", "date_to", "procedure", "status", "course", "sort")
# What may ride in a URL as it is: the status tabs, the "see all waiting" link, the sort.
URL_FIELDS = ("status", "course", "sort")
# A search address written by hand or kept from before: its filters are saved and the
# browser sent to the clean address.
PATIENT_FIELDS = ("q", "dob", "date_from", "date_to", "procedure")
MAX_AGE = timedelta(days=1)


def save(typed: dict[str, str]) -> str:
    """Store the typed filters for this staff session; the id for the results' address."""
    now = utcnow()
    db.session.execute(delete(SavedSearch).where(SavedSearch.created_at < now - MAX_AGE))
    search_id = secrets.token_urlsafe(16)
    db.session.add(SavedSearch(
        id=search_id, staff_session_id=sessions.current_session_id(), created_at=now,
        filters={name: str(typed.get(name) or "") for name in SAVED_FIELDS},
    ))
    db.session.commit()
    return search_id


def load(search_id: str) -> dict[str, str] | None:
    """The filters saved under this id in this staff session, if it is still there."""
    session_id = sessions.current_session_id()
    if session_id is None or len(search_id) > 32:
        return None
    return db.session.scalar(
        select(SavedSearch.filters).where(
            SavedSearch.id == search_id,
            SavedSearch.staff_session_id == session_id,
            SavedSearch.created_at >= utcnow() - MAX_AGE,
        )
    )
