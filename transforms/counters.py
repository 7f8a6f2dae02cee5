"""Every Beam metric name storysift uses, in one place (no free-text counter names)."""

NAMESPACE = "storysift"

# ReadDumps
FILES_READ = "read.files"
DUMPS_READ = "read.dumps"
INPUT_CHARS = "read.input_chars"
READ_REJECTED = "read.rejected"
LEGACY_DECODED = "read.legacy_decoded"
REPAIRED_DUMPS = "read.repaired_dumps"  # mojibake, surrogates or control characters repaired
INPUT_BYTES = "read.input_bytes"  # bytes after decompression (size on disk for unreadable files)
READ_REJECTED_BYTES = "read.rejected_bytes"  # of INPUT_BYTES, in read-stage rejects
READ_REJECTED_CHARS = "read.rejected_chars"  # text carried by read-stage rejects (e.g. a bad JSON line)


def read_rejected(reason: str) -> str:
    """Counter of read-stage rejects for one reason (reasons: read_dumps.REASONS)."""
    return f"read.rejected.{reason}"


# Accounting (transforms/accounting.py): where every character of every dump went.
ACCOUNT_DUMPS = "account.dumps"
ACCOUNT_INPUT_CHARS = "account.input_chars"
ACCOUNT_KEPT_CHARS = "account.kept_chars"
ACCOUNT_DUPLICATE_CHARS = "account.duplicate_chars"
ACCOUNT_BOILERPLATE_CHARS = "account.boilerplate_chars"
ACCOUNT_REJECTED_CHARS = "account.rejected_chars"
ACCOUNT_WHITESPACE_CHARS = "account.whitespace_chars"
ACCOUNT_LOST_CHARS = "account.lost_chars"  # must be 0
ACCOUNT_OVERLAP_CHARS = "account.overlap_chars"  # characters claimed twice; must be 0
ACCOUNT_UNBALANCED_DUMPS = "account.unbalanced_dumps"  # must be 0
ACCOUNT_ORPHAN_SPANS = "account.orphan_spans"  # output spans of no dump read; must be 0
ACCOUNT_FAILED_BYTES = "account.failed_bytes"  # UTF-8 bytes of dumps a later stage failed on

# SplitStories
DRAFTS = "split.stories"
BOILERPLATE_LINES = "split.boilerplate_lines"
LEARNED_BOILERPLATE = "split.learned_boilerplate"  # line keys FindRepeatedLines learned
LEARNED_OPENINGS = "split.learned_openings"  # paragraph keys FindStoryOpenings learned
LEARNED_CONTINUATIONS = "split.learned_continuations"  # line pairs FindStoryContinuations learned
OPENED_AT_LEARNED = "split.opened_at_learned_openings"  # stories a learned opening opened
SPLIT_REJECTED = "split.rejected"

# ParseTeasers
ARTICLES = "parse.articles"
TEASERS = "parse.teasers"
TRUNCATED = "parse.truncated"
PARSE_REJECTED = "parse.rejected"

# Deduplicate
EXACT_DUPLICATES = "dedup.exact_duplicates"
NEAR_DUPLICATES = "dedup.near_duplicates"
CONTAINED_DUPLICATES = "dedup.contained_duplicates"
CANDIDATE_PAIRS = "dedup.candidate_pairs"
VERIFIED_PAIRS = "dedup.verified_pairs"
OVERSIZED_BUCKETS = "dedup.oversized_buckets"
# "contained" edges dropped because their contained story keeps only its best container
PRUNED_CONTAINMENT_EDGES = "dedup.pruned_containment_edges"
# a complete article inside a story more than twice its length (two articles run together): kept apart
SHARE_REFUSED = "dedup.share_refused"
# edges of components not converged after the large-star/small-star rounds (finished by union-find)
CC_FALLBACK_EDGES = "dedup.cc_fallback_edges"
PREVIOUS_SIGNATURES = "dedup.previous_signatures"  # kept stories of earlier runs read (--against)
PREVIOUS_DUPLICATES = "dedup.previous_duplicates"  # today's stories dropped as copies of those
SIGNATURES_WRITTEN = "dedup.signatures_written"
KEPT = "dedup.kept"
DROPPED = "dedup.dropped"
# teasers whose deck/lede seam was re-cut where the article they were dropped for begins
RESEAMED_TEASERS = "dedup.reseamed_teasers"

# WriteCorpus
WRITTEN_CLEAN = "write.clean"
WRITTEN_DUPLICATES = "write.duplicates"
WRITTEN_REJECTED = "write.rejected"

# Distributions
STORY_CHARS = "dist.story_chars"
CLUSTER_SIZE = "dist.cluster_size"


# Counters whose running total is also logged as progress, with the share of --progress-every
# at which each logs (files are few and slow: every N/100 of them).
PROGRESS_DIVISORS = {
    FILES_READ: 100,
    DUMPS_READ: 1,
    DRAFTS: 1,
    ARTICLES: 1,
    TEASERS: 1,
    WRITTEN_CLEAN: 1,
    WRITTEN_DUPLICATES: 1,
    WRITTEN_REJECTED: 1,
}
_progress = {"every": 10000}


def set_progress_every(every: int) -> None:
    """Log progress counters every `every` increments per worker (0: off); set before building."""
    _progress["every"] = max(0, int(every))


class ProgressCounter:
    """A Beam counter that also logs its running total on this worker every `every` increments.

    Works on every runner (no metrics polling): the log line comes from the worker doing the work.
    """

    def __init__(self, name: str, every: int):
        from apache_beam.metrics import Metrics

        self.name = name
        self.every = every
        self.counter = Metrics.counter(NAMESPACE, name)
        self.seen = 0

    def inc(self, n: int = 1) -> None:
        self.counter.inc(n)
        before, self.seen = self.seen, self.seen + n
        if self.every and self.seen // self.every > before // self.every:
            import logging

            logging.getLogger("storysift.progress").info(
                "progress: %s %s (this worker)", self.name, f"{self.seen:,}"
            )

    def dec(self, n: int = 1) -> None:
        self.inc(-n)


def counter(name: str):
    """A Beam counter in storysift's namespace (call in DoFn.__init__/setup, not per element)."""
    from apache_beam.metrics import Metrics

    if name in PROGRESS_DIVISORS and _progress["every"]:
        return ProgressCounter(name, max(1, _progress["every"] // PROGRESS_DIVISORS[name]))
    return Metrics.counter(NAMESPACE, name)


def distribution(name: str):
    from apache_beam.metrics import Metrics

    return Metrics.distribution(NAMESPACE, name)
