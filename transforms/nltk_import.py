"""Import nltk for what storysift uses of it (Punkt, the Snowball stemmer), without scipy.stats.

nltk's package `__init__` imports nearly all of nltk, and its collocation and translation
metrics import scipy.stats when scipy is installed (datasketch installs it): about 0.7 s of a
worker's ~1 s nltk import, for functions storysift never calls. nltk guards each of those
imports (`try: from scipy.stats import ... except ImportError: <stub>`), as it does for a
machine without scipy; `import_nltk` takes that path by hiding scipy.stats during the import
only. Afterwards scipy.stats imports normally for anyone (it is not cached as missing), and the
nltk functions that need it (fisher_exact association scores, betai) raise NotImplementedError
or are None in this process, as on a machine without scipy.
"""

from __future__ import annotations

import sys

_HIDDEN = "scipy.stats"


def import_nltk() -> None:
    """Import the nltk package once per process (see module docstring); a no-op after."""
    if "nltk" in sys.modules:
        return
    if _HIDDEN in sys.modules:  # imported already: nothing to save
        import nltk  # noqa: F401

        return
    sys.modules[_HIDDEN] = None  # an import of it now raises ImportError (see importlib docs)
    try:
        import nltk  # noqa: F401
    except ImportError:
        # an nltk that needs scipy.stats after all: the modules that failed were taken out of
        # sys.modules, so importing again (scipy.stats visible) completes the import
        _unhide()
        import nltk  # noqa: F401
    finally:
        _unhide()


def _unhide() -> None:
    if sys.modules.get(_HIDDEN, False) is None:
        del sys.modules[_HIDDEN]
