"""Drawn signatures: validation of the strokes a tablet sends, and their vector rendering.

A signature is kept as vector strokes, not a picture: {"width": W, "height": H, "strokes":
[[[x, y], ...], ...]} in the canvas' own pixels. That is what the PDF draws, line for line.
"""

import itertools
import json
import math
from dataclasses import dataclass

from flask_babel import gettext

from ..i18n import N_

# What counts as a signature, relative to the pad it was drawn on (700 x 220 on the tablet),
# so a pad of another size is judged the same way. A mark of two crossed strokes (an "X",
# the signature of someone who cannot write) passes; a tap, a dot, a tiny squiggle in a
# corner or one straight swipe does not.
MIN_EXTENT_FRACTION = 0.08  # the drawing spans at least 8% of the pad's width (56 of 700 px)
MIN_INK_FRACTION = 0.2  # and its lines are at least 20% of the width long in all (140 px)
# One straight stroke has exactly as much ink as it spans (1.0); a shaky one a little more;
# even a shallow 45-degree zig-zag has 1.41, handwriting 3 and up.
MIN_INK_PER_EXTENT = 1.25
# What the pad sends per point, generously: "[699.5,219.5]," is 14 characters.
MAX_CHARACTERS_PER_POINT = 32
UNREADABLE = N_("We could not read the signature. Please press Clear and sign again.")
TOO_LONG = N_("That signature is too long. Please press Clear and sign again.")
TOO_SMALL = N_("That signature is too small. Please sign across the box.")
A_LINE = N_("That is a single line, not a signature. Please press Clear and sign your name.")
EMPTY = N_("Please sign with your finger in the box.")


class SignatureError(ValueError):
    """What is wrong with a drawn signature, in words for the patient (in their language)."""

    def __init__(self, message: str):
        super().__init__(gettext(message))


@dataclass(frozen=True)
class Signature:
    width: int
    height: int
    strokes: tuple[tuple[tuple[float, float], ...], ...]

    def as_dict(self) -> dict:
        return {
            "width": self.width,
            "height": self.height,
            "strokes": [[list(point) for point in stroke] for stroke in self.strokes],
        }

    def svg_path(self) -> str:
        """Smooth vector strokes: quadratic curves through the midpoints between the points
        the pad sampled, as the pad itself draws them (static/js/signature.js)."""
        parts = []
        for stroke in self.strokes:
            (x0, y0) = stroke[0]
            parts.append(f"M{x0:.1f} {y0:.1f}")
            if len(stroke) == 1:
                parts.append(f"L{x0 + 0.1:.1f} {y0:.1f}")
                continue
            for (x, y), (next_x, next_y) in itertools.pairwise(stroke[1:]):
                parts.append(f"Q{x:.1f} {y:.1f} {(x + next_x) / 2:.1f} {(y + next_y) / 2:.1f}")
            last_x, last_y = stroke[-1]
            parts.append(f"L{last_x:.1f} {last_y:.1f}")
        return " ".join(parts)


def from_dict(data: dict) -> Signature:
    return Signature(
        width=int(data["width"]),
        height=int(data["height"]),
        strokes=tuple(tuple((float(x), float(y)) for x, y in s) for s in data["strokes"]),
    )


def parse(raw: str | None, max_points: int) -> Signature:
    """Check what the signature pad posted; raise SignatureError with a patient-facing message."""
    if not raw or not raw.strip():
        raise SignatureError(EMPTY)
    if len(raw) > max_points * MAX_CHARACTERS_PER_POINT + 1000:
        raise SignatureError(TOO_LONG)  # refused before parsing: it cannot be a drawing
    try:
        data = json.loads(raw)
        width, height = int(data["width"]), int(data["height"])
        strokes = data["strokes"]
        if not isinstance(strokes, list):
            raise TypeError
        points_total = sum(len(stroke) for stroke in strokes)
        if points_total > max_points:
            raise SignatureError(TOO_LONG)
        cleaned = []
        for stroke in strokes:
            points = []
            for x, y in stroke:
                x, y = float(x), float(y)
                if not (math.isfinite(x) and math.isfinite(y)):
                    raise ValueError
                points.append((min(max(x, 0.0), width), min(max(y, 0.0), height)))
            if points:
                cleaned.append(tuple(points))
    except SignatureError:
        raise
    # RecursionError: JSON nested thousands deep, which no pad sends.
    except (ValueError, TypeError, KeyError, OverflowError, RecursionError) as exc:
        raise SignatureError(UNREADABLE) from exc
    if not (50 <= width <= 4000 and 30 <= height <= 3000):
        raise SignatureError(UNREADABLE)
    if not cleaned:
        raise SignatureError(EMPTY)
    check_size(cleaned, width)
    return Signature(width, height, tuple(cleaned))


def check_size(strokes: list[tuple[tuple[float, float], ...]], pad_width: int) -> None:
    """Refuse a drawing too small or too simple to be anyone's signature."""
    ink = sum(math.dist(a, b) for stroke in strokes for a, b in itertools.pairwise(stroke))
    xs = [x for stroke in strokes for x, _ in stroke]
    ys = [y for stroke in strokes for _, y in stroke]
    extent = max(max(xs) - min(xs), max(ys) - min(ys))
    if extent < MIN_EXTENT_FRACTION * pad_width or ink < MIN_INK_FRACTION * pad_width:
        raise SignatureError(TOO_SMALL)
    if ink < MIN_INK_PER_EXTENT * extent:
        raise SignatureError(A_LINE)
