"""What the server accepts as a drawn signature, and how it draws one in the PDF."""

import json
import math

import pytest

from consentapp.records.signature import (
    A_LINE,
    TOO_LONG,
    TOO_SMALL,
    UNREADABLE,
    SignatureError,
    parse,
)

PAD = {"width": 700, "height": 220}


def _posted(*strokes, pad=PAD) -> str:
    return json.dumps({**pad, "strokes": [list(map(list, stroke)) for stroke in strokes]})


def _zigzag(x0, y0, width, height, points=40):
    return [(x0 + i * width / (points - 1), y0 + (height if i % 2 else 0)) for i in range(points)]


def _cursive(x0=60, y0=110, width=420):
    """A looping line like handwriting: loops of radius 25 moving right."""
    return [
        (x0 + t * width / 200 + 25 * math.cos(t / 6), y0 + 25 * math.sin(t / 6))
        for t in range(200)
    ]


def _line(length):
    return [(100 + i * length / 20, 110) for i in range(21)]


@pytest.mark.parametrize(
    "strokes",
    [
        [_cursive()],  # handwriting
        [_zigzag(40, 70, 588, 80)],  # what the tablet tests draw
        [[(300, 80), (360, 140)], [(360, 80), (300, 140)]],  # an X of 60 px: a mark
        [_cursive(60, 100, 200), [(300, 90), (310, 150)]],  # two parts, as "A. Name"
        [_zigzag(100, 80, 400, 29, points=15)],  # a shallow, wavy scrawl (45 degrees)
    ],
    ids=["cursive", "zigzag", "x-mark", "initial-and-name", "shallow-scrawl"],
)
def test_real_signatures_are_accepted(strokes):
    signature = parse(_posted(*strokes), max_points=6000)
    assert len(signature.strokes) == len(strokes)


@pytest.mark.parametrize(
    ("strokes", "message"),
    [
        ([[(100, 100)]], TOO_SMALL),  # a tap
        ([[(100, 100), (101, 101)]], TOO_SMALL),  # a dot
        ([_zigzag(600, 150, 30, 15, points=60)], TOO_SMALL),  # a tiny squiggle in a corner
        ([[(300, 80), (330, 110)], [(330, 80), (300, 110)]], TOO_SMALL),  # an X of 30 px
        ([_line(600)], A_LINE),  # one straight swipe across the pad
        ([[(100 + i * 30, 110 + (3 if i % 2 else -3)) for i in range(21)]], A_LINE),  # shaky
        ([_line(120)], TOO_SMALL),  # a short dash
    ],
    ids=["tap", "dot", "tiny-squiggle", "small-x", "straight-swipe", "shaky-swipe", "dash"],
)
def test_scribbles_too_small_or_too_simple_are_refused(strokes, message):
    with pytest.raises(SignatureError) as refused:
        parse(_posted(*strokes), max_points=6000)
    assert str(refused.value) == message


def test_the_size_is_judged_against_the_pad_it_was_drawn_on():
    """The same 60 px X is a mark on the 700 px tablet pad but a speck on a 2000 px one."""
    x_mark = [[(300, 80), (360, 140)], [(360, 80), (300, 140)]]
    parse(_posted(*x_mark), max_points=6000)
    with pytest.raises(SignatureError, match="too small"):
        parse(_posted(*x_mark, pad={"width": 2000, "height": 600}), max_points=6000)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("", "Please sign with your finger in the box."),
        ('{"width": 700, "height": 220, "strokes": []}', "Please sign with your finger"),
        ("not json", UNREADABLE),
        ('{"width": 700, "height": 220, "strokes": [[["x", 1]]]}', UNREADABLE),
        ('{"width": 700, "height": 220, "strokes": [[[1e999, 1]]]}', UNREADABLE),
        ('{"width": 7, "height": 220, "strokes": [[[1, 1]]]}', UNREADABLE),
        ('{"width": 700, "height": 220, "strokes": "abc"}', UNREADABLE),
    ],
)
def test_unreadable_posts_get_a_message_for_the_patient(raw, message):
    with pytest.raises(SignatureError, match=message):
        parse(raw, max_points=6000)


def test_too_many_points_are_refused():
    with pytest.raises(SignatureError) as refused:
        parse(_posted(_zigzag(40, 70, 588, 80, points=200)), max_points=100)
    assert str(refused.value) == TOO_LONG


def test_points_outside_the_pad_are_brought_inside_it():
    signature = parse(_posted([(-50, 110), *(_cursive()[1:]), (900, 500)]), max_points=6000)
    xs = [x for stroke in signature.strokes for x, _ in stroke]
    ys = [y for stroke in signature.strokes for _, y in stroke]
    assert min(xs) == 0 and max(xs) == 700 and max(ys) == 220


def test_the_pdf_path_is_smooth_curves_through_the_midpoints():
    signature = parse(_posted([(100, 100), (140, 40), (180, 100), (220, 40), (260, 100)],
                              [(300, 80), (300, 80)]), max_points=6000)
    path = signature.svg_path()
    first, second = path.split(" M")
    assert first == ("M100.0 100.0 Q140.0 40.0 160.0 70.0 Q180.0 100.0 200.0 70.0 "
                     "Q220.0 40.0 240.0 70.0 L260.0 100.0")
    assert second == "300.0 80.0 L300.0 80.0"  # a two-point stroke is a plain line


def test_a_single_point_stroke_still_leaves_a_dot_in_the_pdf():
    signature = parse(_posted(_cursive(), [(600, 50)]), max_points=6000)
    assert signature.svg_path().endswith("M600.0 50.0 L600.1 50.0")
