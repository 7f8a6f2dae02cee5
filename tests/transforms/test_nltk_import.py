"""import_nltk: nltk without scipy.stats, in a fresh interpreter (imports are per process)."""

import subprocess
import sys

import pytest


def _run(code: str) -> str:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def test_sentences_and_stems_work_without_importing_scipy_stats_which_still_imports_after():
    out = _run(
        "import sys\n"
        "from transforms.sentences import split_sentences\n"
        "from transforms.topic_shift import _stem\n"
        "text = 'Mr. Smith went to Washington. He met the U.S. envoy there.'\n"
        "print(len(split_sentences(text)), _stem('running'))\n"
        "print('nltk' in sys.modules, 'scipy.stats' in sys.modules)\n"
        "import scipy.stats\n"
        "print(scipy.stats.norm.cdf(0))"
    )
    assert out.splitlines() == ["2 run", "True False", "0.5"]


def test_import_nltk_after_scipy_stats_keeps_it():
    pytest.importorskip("scipy.stats")
    out = _run(
        "import scipy.stats, sys\n"
        "from transforms.nltk_import import import_nltk\n"
        "import_nltk()\n"
        "from nltk.metrics.association import fisher_exact\n"
        "print(fisher_exact is scipy.stats.fisher_exact, sys.modules['scipy.stats'] is scipy.stats)"
    )
    assert out == "True True"


def test_an_nltk_that_needs_scipy_stats_still_imports(tmp_path):
    """A stand-in package whose import needs scipy.stats unguarded: import_nltk falls back."""
    pytest.importorskip("scipy.stats")
    package = tmp_path / "nltk"
    package.mkdir()
    (package / "__init__.py").write_text("from scipy.stats import norm\nHALF = norm.cdf(0)\n")
    out = _run(
        f"import sys; sys.path.insert(0, {str(tmp_path)!r})\n"
        "from transforms.nltk_import import import_nltk\n"
        "import_nltk()\n"
        "import nltk\n"
        "print(nltk.HALF, sys.modules['scipy.stats'] is not None)"
    )
    assert out == "0.5 True"
