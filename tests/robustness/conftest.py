"""Shared fixtures of the robustness tests: the bad corpus, and one run of its good files alone
(the reference the bad-corpus job and the fault tests compare against)."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.cli import EXIT_OK, run
from pipeline.staging import is_complete
from tests.robustness.bad_inputs import Corpus, write_corpus


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> Corpus:
    return write_corpus(tmp_path_factory.mktemp("bad-corpus") / "in")


def good_args(corpus: Corpus) -> list[str]:
    args = []
    for name in corpus.good:
        args += ["--input", str(corpus.folder / name)]
    return args


@pytest.fixture(scope="session")
def good_run(corpus, tmp_path_factory) -> Path:
    """The good files of the corpus run alone, into a complete output."""
    out = tmp_path_factory.mktemp("good-alone") / "out"
    assert run([*good_args(corpus), "--output", str(out)]) == EXIT_OK
    assert is_complete(str(out))
    return out
