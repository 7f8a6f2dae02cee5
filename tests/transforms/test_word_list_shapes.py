"""The line cues read every byline, dateline, credit line and kicker of benchmarks/word_lists.py's
variants: the shapes of other crawls than the dev set's, filled in as the bench generator fills
its templates."""

from __future__ import annotations

import importlib.util
import itertools

import pytest

from tests.conftest import ROOT
from transforms import line_cues


def _variants() -> dict:
    spec = importlib.util.spec_from_file_location("word_lists", ROOT / "benchmarks" / "word_lists.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.VARIANTS


VARIANTS = _variants()
LISTS = {name: lists for name, (_, lists) in VARIANTS.items()}


def _filled(template: str, lists: dict) -> list[str]:
    """The template filled with every city and a few names and roles of the variant."""
    first, last = lists.get("first_names", ["Jane"]), lists.get("last_names", ["Smith"])
    names = [f"{f} {s}" for f, s in itertools.islice(zip(itertools.cycle(first), last), 3)]
    out = []
    for city, role in zip(lists.get("cities", ["London"]), itertools.cycle(lists.get("roles", ["reporter"]))):
        out.append(
            template.format(
                name=names[0],
                name2=names[1],
                name3=names[2],
                role=role,
                City=city,
                CITY=city.upper(),
                n=12,
                day=3,
                month="March",
                year=2005,
                hh="09",
                mm="30",
            )
        )
    return out


@pytest.mark.parametrize(
    "field, kind",
    [("bylines", line_cues.BYLINE), ("datelines", line_cues.DATELINE), ("credit_lines", line_cues.CREDIT)],
)
def test_every_variant_line_is_read_as_its_kind(field: str, kind: str) -> None:
    lines = [line for lists in LISTS.values() for t in lists.get(field, []) for line in _filled(t, lists)]
    assert lines
    assert [line for line in lines if line_cues.boilerplate_kind(line) != kind] == []


def test_every_variant_kicker_opens_a_teaser() -> None:
    labels = [label for lists in LISTS.values() for label in lists.get("kickers", [])]
    assert labels
    lede = "Ministers weigh their options after the vote was lost on Tuesday night"
    for label in labels:
        match = line_cues.match_kicker(f"{label}: {lede}")
        assert match is not None and match.kicker == label, label


def test_labelled_headlines_keep_a_headline_shape() -> None:
    prefixes = [p for lists in LISTS.values() for p in lists.get("retitle_prefixes", [])]
    assert all(line_cues.looks_like_title(p + "Wembley firm won't make a profit") for p in prefixes)
