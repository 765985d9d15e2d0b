"""Errors: friendly pages for people, and logs that never carry patient data."""

import traceback

from flask import Flask, render_template, request
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import SecurityError

from .access_log import loggable_path
from .database import dispatch_retrying_once

# The try-again page as it is when even rendering a template fails.
TRY_AGAIN_HTML = (
    '<!doctype html><html lang="en"><title>Please try again</title><h1>Please try again</h1>'
    "<p>We could not finish this just now. Please wait a moment and try again.</p></html>"
)


class ConsentFlask(Flask):
    def full_dispatch_request(self):
        """A request that lost its database connection is tried once more, or answered with
        the app's own "please try again" page, never a bare 500 (database.py)."""
        return dispatch_retrying_once(
            super().full_dispatch_request,
            give_up=lambda: self.finalize_request(_try_again(), from_error_handler=True),
        )

    def log_exception(self, exc_info) -> None:
        """Log where it failed but not the exception's message: it may quote patient answers
        (a database error quotes the values it could not store)."""
        exc_type, _, tb = exc_info
        self.logger.error(
            "Exception on %s [%s]: %s\n%s",
            loggable_path(request.path), request.method, exc_type.__name__,
            "".join(traceback.format_tb(tb)),
        )


def _page(status: int, title: str, message: str):
    return render_template("errors/error.html", title=title, message=message), status


# In the language of the page the person came from (staff pages: English; see i18n.py).
def _csrf_error(error: CSRFError):
    return _page(
        400,
        _("This page had expired"),
        _("For your safety the form could not be sent. Please go back, reload the page and "
          "try again. Nothing you already saved was lost."),
    )


def _bad_request(error):
    if isinstance(error, SecurityError):
        # A Host that TRUSTED_HOSTS does not name: no URL can be built for it, so no page.
        return "This server does not answer for that host name.", 400, {
            "Content-Type": "text/plain; charset=utf-8"}
    # A view's own words when it gave some (staff pages: English), else the general ones.
    custom = error.description if error.description != type(error).description else None
    return _page(
        400,
        _("This request could not be used"),
        custom or _("Something in it was not what this page expects. Please go back and try "
                    "again."),
    )


def _not_found(error):
    return _page(404, _("Page not found"), _("We could not find that page."))


def _forbidden(error):
    return _page(403, _("Not allowed"), _("Your account cannot open this page."))


def _too_large(error):
    return _page(
        413, _("Too much to send"), _("What you sent was too large. Please try again.")
    )


def _too_many(error):
    return _page(
        429,
        _("Too many attempts"),
        _("There were too many attempts in a short time. Please wait a minute and try again."),
    )


def _try_again():
    """A request that lost its database connection (503: it may well work in a moment).
    The page needs no database, and falls back to plain HTML should anything else fail."""
    try:
        page = render_template(
            "errors/error.html",
            title=_("Please try again"),
            message=_("We could not finish this just now. Please wait a moment and try "
                      "again. Nothing you already saved was lost."),
        )
    except Exception:
        page = TRY_AGAIN_HTML
    return page, 503, {"Retry-After": "5"}


def _server_error(error):
    return _page(
        500,
        _("Something went wrong"),
        _("Sorry, something went wrong on our side. Please hand the tablet to a member of "
          "staff."),
    )


def init_app(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(400, _bad_request)
    app.register_error_handler(403, _forbidden)
    app.register_error_handler(404, _not_found)
    app.register_error_handler(413, _too_large)
    app.register_error_handler(429, _too_many)
    app.register_error_handler(500, _server_error)
