"""Bounded fuzzing of the reader, splitter and parser (tests/robustness/fuzz.py holds the targets).

The example counts keep the whole file well under a minute in CI; STORYSIFT_FUZZ_EXAMPLES raises
them for a longer local hunt (or run `python -m tests.robustness.fuzz --seconds 600`).
"""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.robustness.fuzz import HOSTILE, target_jsonl_line, target_read, target_split_parse
from tests.robustness.strategies import dumps

EXAMPLES = int(os.environ.get("STORYSIFT_FUZZ_EXAMPLES", "80"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
HOSTILE_TEXT = st.text(alphabet=st.sampled_from(HOSTILE), max_size=400)


@st.composite
def mutated_dumps(draw) -> str:
    """A page from story pieces, with hostile characters and runs spliced in at random places."""
    text = draw(dumps(max_pieces=8))
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(text)))
        insert = draw(st.one_of(HOSTILE_TEXT, st.sampled_from(HOSTILE).map(lambda c: c * 300)))
        text = text[:pos] + insert + text[pos:]
    return text


@FUZZ
@given(st.one_of(st.text(max_size=600), HOSTILE_TEXT, mutated_dumps()))
def test_fuzz_split_and_parse(text):
    target_split_parse(text)


@FUZZ
@given(
    st.one_of(st.binary(max_size=600), HOSTILE_TEXT.map(lambda t: t.encode("utf-8", "surrogatepass"))),
    st.sampled_from(["x.txt", "x.jsonl", "x.txt.gz", "x.jsonl.zst", "x.jsonl.bz2"]),
)
def test_fuzz_read(data, name):
    target_read(data, name)


def _as_jsonl_line(obj) -> str:
    return json.dumps({**obj, "text": "some words"} if isinstance(obj, dict) else obj)


@FUZZ
@given(
    st.one_of(
        st.text(max_size=300),
        st.recursive(
            st.none() | st.booleans() | st.floats() | st.integers() | st.text(max_size=30),
            lambda children: (
                st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
            ),
            max_leaves=20,
        ).map(_as_jsonl_line),
    )
)
def test_fuzz_jsonl_line(line):
    target_jsonl_line(line)


def test_the_time_bounded_fuzzer_runs():
    from tests.robustness.fuzz import main

    assert main(["--seconds", "0.5", "--seed", "3"]) == 0
