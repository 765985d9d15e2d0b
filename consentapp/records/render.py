"""PDF rendering with WeasyPrint, behind a URL fetcher that serves only packaged files.

Patient text ends up in the HTML; if any of it were ever read as markup, a locked-down
fetcher still guarantees the renderer reads nothing from the disk or the network except the
package's own static files (fonts, stylesheet).
"""

import gc
import logging
import mimetypes
import threading
from contextlib import contextmanager
from datetime import datetime
from functools import cache
from importlib.metadata import version
from importlib.resources import files
from io import BytesIO
from pathlib import Path
from urllib.parse import urlsplit

import qrcode
from flask import render_template
from flask_babel import force_locale
from weasyprint import CSS, HTML, Attachment, URLFetcher
from weasyprint.css import ColorProfile
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcherResponse

from ..models import SignatureMethod
from ..paths import STATIC_DIR
from .attachment import ATTACHMENT_NAME

log = logging.getLogger(__name__)

PACKAGED_ORIGIN = "https://packaged.invalid"
PDF_VARIANT = "pdf/a-3b"
# Bump LAYOUT when templates/pdf or pdf.css change what a page shows: with the WeasyPrint
# version it says which renderer made a stored PDF, so a rebuild can be told apart.
# 5: a course's "Visits" section; 4: format 2 (clinician notes, care sections), the paper.
LAYOUT = 5
RENDERER = f"consent-pdf {LAYOUT}; weasyprint {version('weasyprint')}; {PDF_VARIANT}"
_OUTPUT_INTENT = "srgb-packaged"


class RefusedFetch(ValueError):
    pass


class PackagedFilesFetcher(URLFetcher):
    """Serves https://packaged.invalid/static/<file> from the package; refuses all else."""

    def __init__(self, static_dir: Path = STATIC_DIR):
        super().__init__(allowed_protocols=("https",), allow_redirects=False)
        self.static_dir = static_dir.resolve()
        self.refused: list[str] = []
        self.served: list[str] = []

    def fetch(self, url, headers=None):
        parts = urlsplit(url)
        path = None
        if (
            parts.scheme == "https"
            and parts.netloc == urlsplit(PACKAGED_ORIGIN).netloc
            and parts.path.startswith("/static/")
        ):
            candidate = (self.static_dir / parts.path.removeprefix("/static/")).resolve()
            if candidate.is_relative_to(self.static_dir) and candidate.is_file():
                path = candidate
        if path is None:
            self.refused.append(url)
            # The URL could carry patient text; log only that something was refused.
            log.warning("PDF renderer refused to fetch a non-packaged resource")
            raise RefusedFetch("only packaged static files may be fetched")
        self.served.append(url)
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return URLFetcherResponse(
            url, body=path.read_bytes(), headers={"Content-Type": content_type}
        )


def qr_code(text: str) -> dict:
    """The QR code of `text` as an SVG path (one unit per module), drawn inline in the page.

    Inline, because the locked fetcher serves no generated images, not even data: URLs.
    """
    code = qrcode.QRCode(border=0, error_correction=qrcode.constants.ERROR_CORRECT_M)
    code.add_data(text)
    code.make(fit=True)
    matrix = code.get_matrix()
    parts = []
    for y, row in enumerate(matrix):
        x = 0
        while x < len(row):
            if not row[x]:
                x += 1
                continue
            run = 1
            while x + run < len(row) and row[x + run]:
                run += 1
            parts.append(f"M{x} {y}h{run}v1h-{run}z")
            x += run
    return {"size": len(matrix), "path": "".join(parts)}


def render_html(document: dict) -> str:
    """The record's page in its own language (the template's words through gettext)."""
    with force_locale(document["procedure"]["language"]):
        return render_template(
            "pdf/record.html", doc=document, qr=qr_code(document["verification"]["url"]),
            SignatureMethod=SignatureMethod,
        )


@cache
def _srgb_profile_bytes() -> bytes:
    return (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()


def _output_intent() -> dict:
    """PDF/A's sRGB output intent, from bytes read here rather than by WeasyPrint.

    WeasyPrint 70 opens its own copy of the profile and never closes the file; with
    warnings as errors that leak fails the tests, and in a long-running worker it leaks
    a file handle per PDF.
    """
    profile = ColorProfile(
        BytesIO(_srgb_profile_bytes()), "sRGB2014.icc", "relative-colorimetric",
        (["r"], ["g"], ["b"]),
    )
    return {"output_intent": _OUTPUT_INTENT, "color_profiles": {_OUTPUT_INTENT: profile}}


def _attachment(document: dict, fetcher: URLFetcher) -> Attachment:
    created = datetime.strptime(document["created"], "%Y-%m-%dT%H:%M:%SZ")
    modified = datetime.strptime(document["modified"], "%Y-%m-%dT%H:%M:%SZ")
    return Attachment(
        string=document["embedded_json"],
        name=ATTACHMENT_NAME,
        description="The record's data and events, as stored (JSON)",
        created=created,
        modified=modified,
        relationship="Data",
        url_fetcher=fetcher,
    )


def _list_each_attachment_once(document, pdf) -> None:
    """WeasyPrint 70 names each PDF/A-3 associated file twice in the catalog's /AF."""
    associated = pdf.catalog.get("AF")
    if associated:
        unique = list(dict.fromkeys(associated))
        associated.clear()
        associated.extend(unique)


class _Typesetting(threading.local):
    """Per thread: our fonts registered with WeasyPrint, and pdf.css parsed against them.

    Both are the same for every record, and building them again for each PDF cost about a
    tenth of a render (measured). Per thread, because a FontConfiguration wraps a Pango font
    map, which must not be used by two threads at once; the render worker is one thread.
    """

    stylesheet_text: str | None = None

    def get(self) -> tuple[FontConfiguration, CSS]:
        # Read on every render: a missing stylesheet must fail the render loudly, not produce
        # an unstyled legal document; a changed one (a deploy) is parsed again.
        text = (STATIC_DIR / "css" / "pdf.css").read_text(encoding="utf-8")
        if text != self.stylesheet_text:
            # Without a FontConfiguration WeasyPrint ignores @font-face and silently uses
            # whatever system font has the same name; the PDF must carry the package's fonts.
            self.fonts = FontConfiguration()
            self.font_fetcher = PackagedFilesFetcher()
            self.stylesheet = CSS(
                string=text,
                base_url=f"{PACKAGED_ORIGIN}/static/css/",
                url_fetcher=self.font_fetcher,
                font_config=self.fonts,
            )
            self.stylesheet_text = text
        return self.fonts, self.stylesheet


typesetting = _Typesetting()


class _CollectorPause:
    """Python's cyclic garbage collector held off while WeasyPrint lays out and draws.

    A render builds a few hundred thousand objects that live until it ends, so the collector
    keeps running during it, and every so often one of those runs is a full collection that
    walks the whole process (the app, WeasyPrint, pyHanko: about 160 ms here), in one render
    out of two or three (measured: renders of 280 or 460 ms). Held off, the render's objects
    stay young, and one young collection when it ends frees its cycles without walking the
    rest. Reference counting frees everything else as usual. Renders in several threads
    share one pause; the collector is left off if something else had turned it off.
    """

    def __init__(self):
        self._lock = threading.Lock()
        self._renders = 0
        self._was_enabled = True

    @contextmanager
    def during_render(self):
        with self._lock:
            if self._renders == 0:
                self._was_enabled = gc.isenabled()
                gc.disable()
            self._renders += 1
        try:
            yield
        finally:
            with self._lock:
                self._renders -= 1
                last = self._renders == 0
                if last and self._was_enabled:
                    gc.enable()
            if last:
                gc.collect(1)


collector = _CollectorPause()


def render_handout(template: str, document: dict) -> bytes:
    """A handout (the aftercare sheet) as a plain PDF in the document's language: the same
    fonts, stylesheet and locked fetcher as a record, but no attachment, no PDF/A, no seal,
    for it is not a record."""
    fonts, stylesheet = typesetting.get()
    with force_locale(document["language"]):
        source = render_template(template, doc=document)
    with collector.during_render():
        html = HTML(string=source, base_url=f"{PACKAGED_ORIGIN}/",
                    url_fetcher=PackagedFilesFetcher())
        return html.write_pdf(stylesheets=[stylesheet], font_config=fonts)


def render_pdf(document: dict, fetcher: PackagedFilesFetcher | None = None) -> bytes:
    """The record as PDF/A-3b with its data attached; not yet sealed (see seal.py)."""
    fetcher = fetcher or PackagedFilesFetcher()
    fonts, stylesheet = typesetting.get()
    with collector.during_render():
        html = HTML(
            string=render_html(document), base_url=f"{PACKAGED_ORIGIN}/", url_fetcher=fetcher
        )
        return html.write_pdf(
            stylesheets=[stylesheet],
            font_config=fonts,
            pdf_variant=PDF_VARIANT,
            attachments=[_attachment(document, fetcher)],
            finisher=_list_each_attachment_once,
            **_output_intent(),
        )
