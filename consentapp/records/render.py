"""PDF rendering with WeasyPrint, behind a URL fetcher that serves only packaged files.

Patient text ends up in the HTML; if any of it were ever read as markup, a locked-down
fetcher still guarantees the renderer reads nothing from the disk or the network except the
package's own static files (fonts, stylesheet).
"""

import logging
import mimetypes
from importlib.metadata import version
from pathlib import Path
from urllib.parse import urlsplit

from flask import render_template
from weasyprint import CSS, HTML, URLFetcher
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import URLFetcherResponse

from ..paths import STATIC_DIR

log = logging.getLogger(__name__)

PACKAGED_ORIGIN = "https://packaged.invalid"
RENDERER = f"weasyprint {version('weasyprint')}"


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


def render_html(document: dict) -> str:
    return render_template("pdf/record.html", doc=document)


def render_pdf(document: dict, fetcher: PackagedFilesFetcher | None = None) -> bytes:
    fetcher = fetcher or PackagedFilesFetcher()
    # Without a FontConfiguration WeasyPrint ignores @font-face and silently uses whatever
    # system font has the same name; the PDF must carry the fonts the package ships.
    fonts = FontConfiguration()
    # The stylesheet is read here rather than linked from the HTML: a missing stylesheet
    # must fail the render loudly, not produce an unstyled legal document.
    stylesheet = CSS(
        string=(STATIC_DIR / "css" / "pdf.css").read_text(encoding="utf-8"),
        base_url=f"{PACKAGED_ORIGIN}/static/css/",
        url_fetcher=fetcher,
        font_config=fonts,
    )
    html = HTML(string=render_html(document), base_url=f"{PACKAGED_ORIGIN}/", url_fetcher=fetcher)
    return html.write_pdf(stylesheets=[stylesheet], font_config=fonts)
