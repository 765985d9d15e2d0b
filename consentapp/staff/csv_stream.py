"""CSV downloads that spreadsheets cannot turn into formulas, streamed row by row.

A cell starting with =, +, - or @ (or a tab or carriage return) would run as a formula when a
clinic opens the file in a spreadsheet; such cells get a leading apostrophe.
"""

import csv
import io
from collections.abc import Iterable, Iterator

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def stream_csv(columns: Iterable[str], rows: Iterable[Iterable[object]]) -> Iterator[str]:
    """The header, then one neutralised line per row, each yielded as soon as it is written."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(columns)
    yield _take(buffer)
    for row in rows:
        writer.writerow([neutralise(value) for value in row])
        yield _take(buffer)


def _take(buffer: io.StringIO) -> str:
    text = buffer.getvalue()
    buffer.seek(0)
    buffer.truncate()
    return text
