"""Drawn signatures: validation of the strokes a tablet sends, and their vector rendering.

A signature is kept as vector strokes, not a picture: {"width": W, "height": H, "strokes":
[[[x, y], ...], ...]} in the canvas' own pixels. That is what the PDF draws, line for line.
"""

import itertools
import json
import math
from dataclasses import dataclass

MIN_INK_LENGTH = 60  # canvas pixels: a tap or a dot is not a signature
MIN_EXTENT = 25  # the drawing must span at least this much one way or the other
UNREADABLE = "We could not read the signature. Please press Clear and sign again."
TOO_LONG = "That signature is too long. Please press Clear and sign again."


class SignatureError(ValueError):
    """What is wrong with a drawn signature, in words for the patient."""


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
        parts = []
        for stroke in self.strokes:
            (x0, y0), *rest = stroke
            parts.append(f"M{x0:.1f} {y0:.1f}")
            parts.extend(f"L{x:.1f} {y:.1f}" for x, y in rest or [(x0 + 0.1, y0)])
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
        raise SignatureError("Please sign with your finger in the box.")
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
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise SignatureError(UNREADABLE) from exc
    if not (50 <= width <= 4000 and 30 <= height <= 3000):
        raise SignatureError(UNREADABLE)
    if not cleaned:
        raise SignatureError("Please sign with your finger in the box.")
    ink = sum(math.dist(a, b) for stroke in cleaned for a, b in itertools.pairwise(stroke))
    xs = [x for stroke in cleaned for x, _ in stroke]
    ys = [y for stroke in cleaned for _, y in stroke]
    if ink < MIN_INK_LENGTH or max(max(xs) - min(xs), max(ys) - min(ys)) < MIN_EXTENT:
        raise SignatureError("That signature is too small. Please sign across the box.")
    return Signature(width, height, tuple(cleaned))
