"""storysift's command-line options, as a Beam PipelineOptions subclass.

Transforms never read options: `configs_from_options` turns them into the small config
dataclasses each stage takes in its constructor.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass

from apache_beam.options.pipeline_options import PipelineOptions, StandardOptions

from pipeline.runners import LOCAL_RUNNER_NAMES
from transforms.deduplicate import MINHASH_ENGINES, VERIFY_MODES, DedupConfig, check_against
from transforms.parse_teasers import DEFAULT_MIN_CHARS, ParseConfig
from transforms.read_dumps import DEFAULT_MAX_FILE_BYTES, DEFAULT_MAX_RECORD_BYTES, ReadConfig
from transforms.repeated_lines import RepeatConfig
from transforms.split_stories import SplitConfig
from transforms.story_continuations import ContinuationConfig
from transforms.story_openings import OpeningConfig
from transforms.topic_shift import DEFAULT_PENALTY
from transforms.write_corpus import FORMATS as OUTPUT_FORMATS
from transforms.write_corpus import CorpusConfig, check_level, parse_shard_size

COMPRESSIONS = ("gzip", "none", "zstd")
DEFAULT_NUM_SHARDS = 4
DEFAULT_MAX_REJECT_FRACTION = 0.1


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
            "--verify",
            choices=VERIFY_MODES,
            default=DedupConfig.verify,
            help="How candidate pairs are checked: exact Jaccard/containment on the shingle hash sets "
            "(default; 4 bytes per distinct shingle per story), or estimated from the MinHash signatures "
            "and shingle samples (about 0.6 KB per story, less for long stories, noisier near the "
            "thresholds).",
        )
        parser.add_argument(
            "--minhash-engine",
            dest="minhash_engine",
            choices=MINHASH_ENGINES,
            default=DedupConfig.minhash_engine,
            help="Who computes the MinHash signatures of the shingle hashes: rensa (native, a batch of "
            "stories per call; default) or datasketch (its affine32 permutations, in numpy). Signatures "
            "of one engine are not comparable with the other's: --against needs the same engine.",
        )
        parser.add_argument(
            "--against",
            action="append",
            default=None,
            metavar="PREVIOUS_OUTPUT",
            help="An earlier storysift output: today's stories that copy one of its kept stories (or of "
            "the runs it was itself run against) go to duplicates/ with duplicate_of = that story's id. "
            "Repeat for more.",
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
            help=(
                "A short line seen in this many dumps, after and before as many different "
                "lines, is boilerplate (0: off)."
            ),
        )
        parser.add_argument(
            "--opening-min-dumps",
            dest="opening_min_dumps",
            type=int,
            default=OpeningConfig.min_dumps,
            help=(
                "A paragraph seen under a headline (or at the top of a dump) in this many dumps, "
                "under as many different texts, opens a story wherever it appears (0: off)."
            ),
        )
        parser.add_argument(
            "--continuation-min-dumps",
            dest="continuation_min_dumps",
            type=int,
            default=ContinuationConfig.min_dumps,
            help=(
                "Two lines one after the other in this many dumps, on pages that open with as many "
                "different lines, stand in one story: no story opens between them (0: off)."
            ),
        )
        parser.add_argument(
            "--num-shards",
            dest="num_shards",
            type=int,
            default=None,
            help=f"Output files per folder (fixed: deterministic; default {DEFAULT_NUM_SHARDS}).",
        )
        parser.add_argument(
            "--shard-size",
            dest="shard_size",
            default=None,
            help="Instead of --num-shards: records (50000) or uncompressed bytes (500MB, 1GiB) per shard; "
            "the shard count of each folder is then derived from the data, deterministically.",
        )
        parser.add_argument(
            "--compression",
            choices=COMPRESSIONS,
            default="gzip",
            help="Output compression (Parquet: the codec inside the file).",
        )
        parser.add_argument(
            "--compression-level",
            dest="compression_level",
            type=int,
            default=None,
            help="Compression level: gzip 1-9 (default 1, the fastest: 6 takes 3x the CPU for 13%% "
            "fewer bytes on news text), zstd 1-22 (default 3); Parquet: the codec's level "
            "(default pyarrow's).",
        )
        parser.add_argument(
            "--format",
            dest="output_format",
            choices=OUTPUT_FORMATS,
            default="jsonl",
            help="jsonl: the output contract; dolma: Dolma's documents layout (OUTPUT/documents/...); "
            "parquet: Parquet shards with an explicit schema.",
        )
        parser.add_argument(
            "--dolma-source",
            dest="dolma_source",
            default="storysift",
            help="With --format dolma: the value of Dolma's `source` field (the name of this data source).",
        )
        parser.add_argument(
            "--date",
            dest="run_date",
            default=None,
            help="The run's date (YYYY-MM-DD, today or yesterday, UTC): fills {date} (or {date:%%Y/%%m/%%d}) "
            "in --input and --output, and Dolma's `added`.",
        )
        parser.add_argument(
            "--progress-every",
            dest="progress_every",
            type=int,
            default=10000,
            help="Log progress every N elements per stage and worker (files read: every N/100; 0: off).",
        )
        parser.add_argument(
            "--overwrite", action="store_true", default=False, help="Replace an existing output directory."
        )
        parser.add_argument(
            "--max-reject-fraction",
            dest="max_reject_fraction",
            type=float,
            default=DEFAULT_MAX_REJECT_FRACTION,
            help="Fail (exit code 3) when more than this fraction of the input BYTES (after "
            "decompression) is unusable: rejected by ReadDumps or failed in a later stage. The output "
            "is still written, without _SUCCESS. 1 turns the check off.",
        )
        parser.add_argument(
            "--max-record-bytes",
            dest="max_record_bytes",
            type=int,
            default=DEFAULT_MAX_RECORD_BYTES,
            help="Largest dump read (a .txt file or one JSONL line, after decompression); a larger one "
            "is rejected as too-large without being expanded into memory (zip bombs).",
        )
        parser.add_argument(
            "--max-file-bytes",
            dest="max_file_bytes",
            type=int,
            default=DEFAULT_MAX_FILE_BYTES,
            help="Most bytes read from one .jsonl file after decompression; the rest is rejected as "
            "too-large.",
        )
        # Read by the CLI only; declared here so that Beam, which parses the same argv, knows them
        # (else it logs "Unparseable argument" and looks for a close match among its options).
        parser.add_argument(
            "--log-level",
            dest="log_level",
            default="INFO",
            help="Logging level (DEBUG, INFO, WARNING, ERROR).",
        )
        parser.add_argument(
            "--detach",
            action="store_true",
            default=False,
            help="Submit the job and exit without waiting (Flex Templates); report.json then says "
            "'submitted' until `storysift report OUTPUT` adds the figures.",
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
    run_date: str | None = None  # --date, resolved (YYYY-MM-DD)
    read: ReadConfig = ReadConfig()  # --max-record-bytes, --max-file-bytes
    max_reject_fraction: float = DEFAULT_MAX_REJECT_FRACTION  # checked by the CLI after the run
    openings: OpeningConfig = OpeningConfig()  # --opening-min-dumps
    continuations: ContinuationConfig = ContinuationConfig()  # --continuation-min-dumps
    progress_every: int = 10000  # log progress every N elements per stage and worker (0: off)


def resolve_date(text: str, today: datetime.date | None = None) -> datetime.date:
    """--date: YYYY-MM-DD, or `today`/`yesterday` in UTC (for cron jobs that cannot template)."""
    today = today or datetime.datetime.now(datetime.UTC).date()
    word = text.strip().lower()
    if word == "today":
        return today
    if word == "yesterday":
        return today - datetime.timedelta(days=1)
    try:
        return datetime.date.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--date must be YYYY-MM-DD, today or yesterday, got {text!r}") from None


def render_date(pattern: str, run_date: datetime.date | None, option: str) -> str:
    """`gs://crawl/{date}/*.gz` -> `gs://crawl/2026-11-28/*.gz`; `{date:%Y/%m/%d}` takes strftime codes.

    Only `{date...}` fields are filled; other braces (glob alternatives) are left alone.
    """
    fields = re.findall(r"\{date(?::[^{}]*)?\}", pattern)
    if not fields:
        return pattern
    if run_date is None:
        raise ValueError(f"{option} {pattern!r} has {fields[0]} but no --date was given")
    return re.sub(r"\{date(?::([^{}]*))?\}", lambda m: format(run_date, m.group(1) or "%Y-%m-%d"), pattern)


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
    if o.num_shards is not None and o.num_shards < 1:
        raise ValueError(f"--num-shards must be at least 1, got {o.num_shards}")
    if o.num_shards is not None and o.shard_size is not None:
        raise ValueError("give --num-shards or --shard-size, not both")
    shard_size, shard_unit = parse_shard_size(o.shard_size) if o.shard_size is not None else (None, "records")
    run_date = resolve_date(o.run_date) if o.run_date else None
    inputs = tuple(render_date(pattern, run_date, "--input") for pattern in o.input)
    output = render_date(o.output, run_date, "--output")
    if o.min_chars < 0:
        raise ValueError(f"--min-chars must be >= 0, got {o.min_chars}")
    if not 0.0 <= o.max_reject_fraction <= 1.0:
        raise ValueError(f"--max-reject-fraction must be in [0, 1], got {o.max_reject_fraction}")
    if o.max_record_bytes < 1 or o.max_file_bytes < 1:
        raise ValueError("--max-record-bytes and --max-file-bytes must be at least 1")
    try:
        check_level(o.compression, o.compression_level)
    except ValueError as e:
        raise ValueError(f"--compression-level: {e}") from None
    dedup = DedupConfig(
        threshold=o.threshold,
        num_perm=o.num_perm,
        shingle_size=o.shingle_size,
        containment_threshold=o.containment_threshold,
        verify=o.verify,
        minhash_engine=o.minhash_engine,
        against=tuple(o.against or ()),
        signatures_shards=o.num_shards or DEFAULT_NUM_SHARDS,  # the folder: assembly.build_pipeline
        # the local runner holds everything in memory anyway: its keyed side inputs are dicts
        side_inputs="dict" if o.view_as(StandardOptions).runner in LOCAL_RUNNER_NAMES else "multimap",
    )
    for previous in dedup.against:
        check_against(previous, output, dedup)  # ValueError: not an output, other parameters
    return StageConfigs(
        inputs=inputs,
        text_field=o.text_field,
        split=SplitConfig(topic_penalty=o.topic_penalty),
        repeat=RepeatConfig(
            min_dumps=o.repeated_line_min_dumps,
            min_contexts=o.repeated_line_min_dumps,
            enabled=o.repeated_line_min_dumps > 0,
        ),
        openings=OpeningConfig(min_dumps=o.opening_min_dumps, enabled=o.opening_min_dumps > 0),
        continuations=ContinuationConfig(
            min_dumps=o.continuation_min_dumps, enabled=o.continuation_min_dumps > 0
        ),
        parse=ParseConfig(min_chars=o.min_chars),
        dedup=dedup,
        corpus=CorpusConfig(
            output_dir=output,
            num_shards=o.num_shards or DEFAULT_NUM_SHARDS,
            compression=o.compression,
            compression_level=o.compression_level,
            format=o.output_format,
            shard_size=shard_size,
            shard_unit=shard_unit,
            added=f"{run_date.isoformat()}T00:00:00.000Z" if run_date else "",
            dolma_source=o.dolma_source,
        ),
        run_date=run_date.isoformat() if run_date else None,
        read=ReadConfig(max_record_bytes=o.max_record_bytes, max_file_bytes=o.max_file_bytes),
        max_reject_fraction=o.max_reject_fraction,
        progress_every=max(0, o.progress_every),
    )
