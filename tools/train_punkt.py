"""Build storysift's shipped Punkt parameters (transforms/resources/punkt_english.json).

    python tools/train_punkt.py --corpus DIR --out transforms/resources/punkt_english.json

Trains nltk's PunktTrainer on every `*.txt` under DIR (read in sorted path order, each file's text
joined by a blank line), then:

* keeps only the trained abbreviations that Punkt's statistics back well: dotted ones ("u.k") and
  words seen with a final period at least `--min-abbrev-periods` times and never without one (on a
  small corpus the rare-abbreviation heuristic otherwise adds sentence-final words like "whistle");
* adds the well-known news abbreviations in HAND_ABBREVIATIONS (British house style writes "Mr", "Dr",
  "US" without periods, so training cannot find them);
* records the orthographic context (which case each word appears in at sentence starts and
  mid-sentence) with two fixes for news text: a word right after an opening quote, bracket or colon
  is not counted as "mid-sentence" (plain Punkt counts `said: "The` as a mid-sentence capital,
  which on quote-heavy news marks "The", "He", "It" as proper-noun-like), and the two "exception"
  flags are dropped when they are rare for the word: MID_UC when under `--ortho-min-share` of its
  capitalised sightings at known positions are mid-sentence (one film title "The Aviator" must not
  outvote 3,000 sentences starting "The"), BEG_LC likewise for lower-case sightings at sentence
  starts (a stray "won" after a missed boundary must not make "won" a possible sentence start);
* keeps the orthographic context only for words seen at least `--min-ortho-count` times.

The output is plain JSON (no pickle) with sorted keys and lists, so the same corpus, options and nltk
version give the same bytes. Build-time only: nothing at run time reads the corpus.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from pathlib import Path

import nltk
from nltk.tokenize.punkt import PunktLanguageVars, PunktParameters, PunktToken, PunktTrainer

# Same values as nltk.tokenize.punkt._ORTHO_MAP (context of the word, case of its first letter).
ORTHO_MAP = {
    ("initial", "upper"): 1 << 1,
    ("internal", "upper"): 1 << 2,
    ("unknown", "upper"): 1 << 3,
    ("initial", "lower"): 1 << 4,
    ("internal", "lower"): 1 << 5,
    ("unknown", "lower"): 1 << 6,
}
BEG_UC, MID_UC = ORTHO_MAP[("initial", "upper")], ORTHO_MAP[("internal", "upper")]
BEG_LC, MID_LC = ORTHO_MAP[("initial", "lower")], ORTHO_MAP[("internal", "lower")]
# Tokens after which the next word may start an embedded sentence: `said: "The ...`, `(The ...`.
OPENING_TOKENS = frozenset({'"', "'", "\u201c", "\u2018", "(", "[", ":"})

FORMAT = "storysift-punkt-parameters/1"

# Lower-case, without the final period, as Punkt stores abbreviation types.
HAND_ABBREVIATIONS: tuple[str, ...] = tuple(
    sorted(
        {
            # titles and name suffixes
            *"mr mrs ms dr prof gen gov sen rep lt col sgt capt rev st jr sr".split(),
            # months
            *"jan feb mar apr jun jul aug sep sept oct nov dec".split(),
            # companies
            *"co inc ltd corp plc".split(),
            # others
            *"no vs etc".split(),
            *"u.s u.k u.n e.g i.e a.m p.m".split(),
        }
    )
)

# Punkt's orthographic-context bits, recorded in the JSON for readers.
ORTHO_FLAGS = {
    "BEG_UC": 1 << 1,
    "MID_UC": 1 << 2,
    "UNK_UC": 1 << 3,
    "BEG_LC": 1 << 4,
    "MID_LC": 1 << 5,
    "UNK_LC": 1 << 6,
}


class NewsPunktTrainer(PunktTrainer):
    """PunktTrainer whose orthographic pass skips opening quotes/brackets/colons and counts sightings.

    `_get_orthography_data` is nltk's loop (nltk 3.9-3.10) with one change: after an opening token the
    next word's position is "unknown" rather than "internal" (it stays "initial" at a sentence start).
    `ortho_counts[type][flag]` counts the sightings behind each flag, for `denoise_ortho`.
    """

    def __init__(self) -> None:
        super().__init__()
        self.ortho_counts: defaultdict[str, Counter[int]] = defaultdict(Counter)

    def _get_orthography_data(self, tokens):
        context = "internal"
        for aug_tok in tokens:
            if aug_tok.parastart and context != "unknown":
                context = "initial"
            if aug_tok.linestart and context == "internal":
                context = "unknown"
            typ = aug_tok.type_no_sentperiod
            flag = ORTHO_MAP.get((context, aug_tok.first_case), 0)
            if flag:
                self._params.add_ortho_context(typ, flag)
                self.ortho_counts[typ][flag] += 1
            if aug_tok.sentbreak:
                context = "unknown" if (aug_tok.is_number or aug_tok.is_initial) else "initial"
            elif aug_tok.ellipsis or aug_tok.abbr:
                context = "unknown"
            elif aug_tok.tok in OPENING_TOKENS:
                context = "initial" if context == "initial" else "unknown"
            else:
                context = "internal"


def denoise_ortho(flags: int, counts: Counter[int], min_share: float) -> int:
    """`flags` without MID_UC / BEG_LC when they are under `min_share` of the word's sightings in that case.

    Punkt reads these two flags as "this word is capitalised mid-sentence" and "this word starts
    sentences in lower case"; a handful of exceptions among thousands of sightings is noise.
    """
    for rare, common in ((MID_UC, BEG_UC), (BEG_LC, MID_LC)):
        if counts[rare] and counts[rare] < min_share * (counts[rare] + counts[common]):
            flags &= ~rare
    return flags


def corpus_files(corpus: Path) -> list[Path]:
    """Every `*.txt` under `corpus`, in a fixed (sorted relative path) order."""
    return sorted(corpus.rglob("*.txt"), key=lambda p: p.relative_to(corpus).as_posix())


def corpus_text(files: Iterable[Path]) -> str:
    """The training text: each file stripped, files separated by a blank line (a paragraph break)."""
    return "\n\n".join(f.read_text(encoding="utf-8").strip() for f in files)


def type_counts(text: str, lang_vars: PunktLanguageVars | None = None) -> Counter[str]:
    """How often each Punkt word type ("said", "said.", "##number##") occurs, as the trainer counts them."""
    lang_vars = lang_vars or PunktLanguageVars()
    counts: Counter[str] = Counter()
    for line in text.split("\n"):
        counts.update(PunktToken(tok).type for tok in lang_vars.word_tokenize(line))
    return counts


def keep_trained_abbreviation(abbrev: str, counts: Counter[str], min_periods: int) -> bool:
    """Whether a trained abbreviation is well supported: dotted ("u.k"), or always written with a period."""
    if "." in abbrev:
        return True
    return counts[abbrev + "."] >= min_periods and counts[abbrev] == 0


def train(text: str, min_colloc_freq: int) -> NewsPunktTrainer:
    """Run Punkt training over `text`; collocations need more than `min_colloc_freq` sightings."""
    trainer = NewsPunktTrainer()
    trainer.MIN_COLLOC_FREQ = min_colloc_freq
    trainer.train(text, finalize=True)
    return trainer


def parameters_json(
    trainer: NewsPunktTrainer,
    counts: Counter[str],
    *,
    min_abbrev_periods: int,
    min_ortho_count: int,
    ortho_min_share: float,
    meta: dict,
) -> dict:
    """The JSON document for a trained `trainer`, pruned and extended as the module docstring says."""
    params: PunktParameters = trainer.get_params()
    trained = sorted(params.abbrev_types)
    kept = [a for a in trained if keep_trained_abbreviation(a, counts, min_abbrev_periods)]
    ortho = {}
    for typ, flags in params.ortho_context.items():
        if counts[typ] + counts[typ + "."] >= min_ortho_count:
            flags = denoise_ortho(flags, trainer.ortho_counts[typ], ortho_min_share)
            if flags:
                ortho[typ] = flags
    return {
        "abbrev_types": sorted(set(kept) | set(HAND_ABBREVIATIONS)),
        "collocations": sorted([a, b] for a, b in params.collocations),
        "sent_starters": sorted(params.sent_starters),
        "ortho_context": dict(sorted(ortho.items())),
        "meta": {
            **meta,
            "format": FORMAT,
            "nltk_version": nltk.__version__,
            "ortho_flags": ORTHO_FLAGS,
            "hand_abbreviations": list(HAND_ABBREVIATIONS),
            "trained_abbreviations_kept": kept,
            "trained_abbreviations_dropped": [a for a in trained if a not in kept],
            "min_abbrev_periods": min_abbrev_periods,
            "min_ortho_count": min_ortho_count,
            "ortho_min_share": ortho_min_share,
        },
    }


def dumps(doc: dict) -> str:
    """Deterministic serialisation: sorted keys, one entry per line, UTF-8 kept readable."""
    return json.dumps(doc, sort_keys=True, ensure_ascii=False, indent=0) + "\n"


def build(
    corpus: Path,
    *,
    min_abbrev_periods: int,
    min_ortho_count: int,
    min_colloc_freq: int,
    ortho_min_share: float,
) -> dict:
    files = corpus_files(corpus)
    if not files:
        raise SystemExit(f"no *.txt files under {corpus}")
    text = corpus_text(files)
    counts = type_counts(text)
    trainer = train(text, min_colloc_freq)
    meta = {
        "corpus_files": len(files),
        "corpus_chars": len(text),
        "corpus_tokens": sum(counts.values()),
        "corpus_sha256": hashlib.sha256(text.encode("utf-8")).hexdigest(),
        "min_colloc_freq": min_colloc_freq,
    }
    return parameters_json(
        trainer,
        counts,
        min_abbrev_periods=min_abbrev_periods,
        min_ortho_count=min_ortho_count,
        ortho_min_share=ortho_min_share,
        meta=meta,
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--corpus", type=Path, required=True, help="folder of UTF-8 *.txt articles")
    parser.add_argument("--out", type=Path, required=True, help="JSON file to write")
    parser.add_argument("--min-abbrev-periods", type=int, default=5)
    parser.add_argument("--min-ortho-count", type=int, default=2)
    parser.add_argument("--min-colloc-freq", type=int, default=2)
    parser.add_argument("--ortho-min-share", type=float, default=0.25)
    args = parser.parse_args(argv)

    doc = build(
        args.corpus,
        min_abbrev_periods=args.min_abbrev_periods,
        min_ortho_count=args.min_ortho_count,
        min_colloc_freq=args.min_colloc_freq,
        ortho_min_share=args.ortho_min_share,
    )
    text = dumps(doc)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text, encoding="utf-8")
    m = doc["meta"]
    print(
        f"{args.out}: {len(text.encode('utf-8'))} bytes from {m['corpus_files']} files "
        f"({m['corpus_tokens']} tokens): {len(doc['abbrev_types'])} abbreviations "
        f"({len(m['trained_abbreviations_kept'])} trained kept, "
        f"{len(m['trained_abbreviations_dropped'])} dropped), {len(doc['collocations'])} collocations, "
        f"{len(doc['sent_starters'])} sentence starters, {len(doc['ortho_context'])} ortho entries"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
