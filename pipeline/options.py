"""storysift's command-line options, as a Beam PipelineOptions subclass.

Transforms never read options: `configs_from_options` turns them into the small config
dataclasses each stage takes in its constructor.
"""

from __future__ import annotations

from dataclasses import dataclass

from apache_beam.options.pipeline_options import PipelineOptions

from transforms.deduplicate import DedupConfig
from transforms.parse_teasers import DEFAULT_MIN_CHARS, ParseConfig
from transforms.repeated_lines import RepeatConfig
from transforms.split_stories import SplitConfig
from transforms.topic_shift import DEFAULT_PENALTY
from transforms.write_corpus import CorpusConfig

COMPRESSIONS = ("gzip", "none", "zstd")


class StorysiftOptions(PipelineOptions):
    """Options of the storysift pipeline (every other Beam option passes through)."""

    @classmethod
    def _add_argparse_args(cls, parser):
        parser.add_argument(
            "--input",
            action="append",
            default=None,
            help="Glob of input dumps (.txt, .jsonl, optionally .gz/.bz2/.zst); repeat for more.",
        )
        parser.add_argument("--output", default=None, help="Output directory (local path or gs://, s3://).")
        parser.add_argument(
            "--text-field", dest="text_field", default="text", help="JSONL field holding a dump's text."
        )
        parser.add_argument(
            "--threshold",
            type=float,
            default=0.8,
            help="Jaccard similarity at which two stories are near-copies.",
        )
        parser.add_argument(
            "--containment-threshold",
            dest="containment_threshold",
            type=float,
            default=DedupConfig.containment_threshold,
            help="Share of a story found inside a fuller one for it to count as contained (teasers, trims).",
        )
        parser.add_argument(
            "--num-perm", dest="num_perm", type=int, default=128, help="MinHash permutations."
        )
        parser.add_argument(
            "--shingle-size", dest="shingle_size", type=int, default=5, help="Words per shingle for MinHash."
        )
        parser.add_argument(
            "--min-chars",
            dest="min_chars",
            type=int,
            default=DEFAULT_MIN_CHARS,
            help="Stories with a shorter body are rejected as too short.",
        )
        parser.add_argument(
            "--topic-penalty",
            dest="topic_penalty",
            type=float,
            default=DEFAULT_PENALTY,
            help="Cost of a topic-shift boundary; higher splits less (calibrated default).",
        )
        parser.add_argument(
            "--repeated-line-min-dumps",
            dest="repeated_line_min_dumps",
            type=int,
            default=RepeatConfig.min_dumps,
            help="A short line seen in this many dumps, before as many different lines, is boilerplate (0: off).",
        )
        parser.add_argument(
            "--num-shards",
            dest="num_shards",
            type=int,
            default=4,
            help="Output files per folder (fixed: deterministic).",
        )
        parser.add_argument("--compression", choices=COMPRESSIONS, default="gzip", help="Output compression.")
        parser.add_argument(
            "--overwrite", action="store_true", default=False, help="Replace an existing output directory."
        )


@dataclass(frozen=True)
class StageConfigs:
    inputs: tuple[str, ...]
    text_field: str
    split: SplitConfig
    repeat: RepeatConfig
    parse: ParseConfig
    dedup: DedupConfig
    corpus: CorpusConfig


def configs_from_options(options: StorysiftOptions) -> StageConfigs:
    """The per-stage configs; raises ValueError with a clear message on bad values."""
    o = options
    if not o.input:
        raise ValueError("--input is required (a glob of dumps; repeat it for more)")
    if not o.output:
        raise ValueError("--output is required (a directory)")
    if not 0.0 < o.threshold <= 1.0:
        raise ValueError(f"--threshold must be in (0, 1], got {o.threshold}")
    if not 0.0 < o.containment_threshold <= 1.0:
        raise ValueError(f"--containment-threshold must be in (0, 1], got {o.containment_threshold}")
    if o.num_perm < 16:
        raise ValueError(f"--num-perm must be at least 16, got {o.num_perm}")
    if o.shingle_size < 1:
        raise ValueError(f"--shingle-size must be at least 1, got {o.shingle_size}")
    if o.num_shards < 1:
        raise ValueError(f"--num-shards must be at least 1, got {o.num_shards}")
    if o.min_chars < 0:
        raise ValueError(f"--min-chars must be >= 0, got {o.min_chars}")
    return StageConfigs(
        inputs=tuple(o.input),
        text_field=o.text_field,
        split=SplitConfig(topic_penalty=o.topic_penalty),
        repeat=RepeatConfig(
            min_dumps=o.repeated_line_min_dumps,
            min_contexts=o.repeated_line_min_dumps,
            enabled=o.repeated_line_min_dumps > 0,
        ),
        parse=ParseConfig(min_chars=o.min_chars),
        dedup=DedupConfig(
            threshold=o.threshold,
            num_perm=o.num_perm,
            shingle_size=o.shingle_size,
            containment_threshold=o.containment_threshold,
        ),
        corpus=CorpusConfig(output_dir=o.output, num_shards=o.num_shards, compression=o.compression),
    )
