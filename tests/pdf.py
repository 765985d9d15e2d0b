"""Reading a record's PDF back as text, as a person (or a court) would read it."""

import io

from pypdf import PdfReader


def pdf_text(content: bytes) -> str:
    """All pages' text, line breaks folded: layout may wrap any phrase."""
    reader = PdfReader(io.BytesIO(content))
    return " ".join(" ".join(page.extract_text().split()) for page in reader.pages)


def pdf_fonts(content: bytes) -> set[str]:
    """The names of the fonts the pages use (subset prefixes included)."""
    reader = PdfReader(io.BytesIO(content))
    return {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"].get("/Font", {}).values()
    }
