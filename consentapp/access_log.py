"""gunicorn's access log with paths only: no query string, no Referer, no copy-link secret.

No patient data in logs or URLs: the app keeps names and birth dates out of its addresses
(the dashboard's search is posted and kept server-side), and this logger makes sure that
whatever a client puts in a query string never reaches the log either. The patient's copy
link (/copy/<token>) opens their signed PDF for a few minutes and the database keeps only
the token's hash, so the log keeps no token: it writes /copy/[token].

gunicorn.conf.py names this class as its `logger_class`, so every format (the project's
own, or `access_log_format` set by the clinic) gets the cleaned atoms.
"""

import re

from gunicorn.glogging import Logger

_SECRET_PATHS = re.compile(r"^/copy/[^/]+")
# Request headers and environ values a format could name that carry the query, cookies or
# the page the browser came from.
_DROPPED_HEADERS = frozenset({"{referer}i", "{cookie}i", "{authorization}i"})


def loggable_path(path: str) -> str:
    """The request's path as it may be logged: a copy link's token replaced."""
    return _SECRET_PATHS.sub("/copy/[token]", path or "/")


class PathOnlyLogger(Logger):
    def atoms(self, resp, req, environ, request_time):
        atoms = super().atoms(resp, req, environ, request_time)
        path = loggable_path(environ.get("PATH_INFO", "/"))
        atoms.update(r=f"{atoms['m']} {path} {atoms['H']}", U=path, q="", f="-")
        for key in [key for key in atoms if key in _DROPPED_HEADERS or key.endswith("}e")]:
            del atoms[key]
        return atoms
