"""Reading a record's PDF back as text, as a person (or a court) would read it.

The text comes from PDFium, Chromium's PDF engine (pypdfium2): a reader apart from the
WeasyPrint and pyHanko that wrote the file, and twenty times faster than pypdf's text
extraction, which parsed every square of each page's QR code in Python (0.23 s a record).
pypdf still reads the file's structure: fonts, attachments, metadata.
"""

import io

import pypdfium2
from pypdf import PdfReader


def page_texts(content: bytes, folded: bool = True) -> list[str]:
    """Each page's text: line breaks and runs of spaces folded into one space (layout may
    wrap any phrase), or, with folded=False, as laid out, one "\\n" at each line's end."""
    document = pypdfium2.PdfDocument(content)
    try:
        texts = []
        for page in document:
            text_page = page.get_textpage()
            text = text_page.get_text_range().replace("\r\n", "\n")
            text_page.close()
            page.close()
            texts.append(" ".join(text.split()) if folded else text)
        return texts
    finally:
        document.close()


def pdf_text(content: bytes) -> str:
    """All pages' text, line breaks folded: layout may wrap any phrase."""
    return " ".join(page_texts(content))


def pdf_fonts(content: bytes) -> set[str]:
    """The names of the fonts the pages use (subset prefixes included)."""
    reader = PdfReader(io.BytesIO(content))
    return {
        str(font.get_object()["/BaseFont"])
        for page in reader.pages
        for font in page["/Resources"].get("/Font", {}).values()
    }
