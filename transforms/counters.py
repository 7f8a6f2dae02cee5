"""Every Beam metric name storysift uses, in one place (no free-text counter names)."""

NAMESPACE = "storysift"

# ReadDumps
FILES_READ = "read.files"
DUMPS_READ = "read.dumps"
INPUT_CHARS = "read.input_chars"
READ_REJECTED = "read.rejected"
LEGACY_DECODED = "read.legacy_decoded"

# SplitStories
DRAFTS = "split.stories"
BOILERPLATE_LINES = "split.boilerplate_lines"
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
KEPT = "dedup.kept"
DROPPED = "dedup.dropped"

# WriteCorpus
WRITTEN_CLEAN = "write.clean"
WRITTEN_DUPLICATES = "write.duplicates"
WRITTEN_REJECTED = "write.rejected"

# Distributions
STORY_CHARS = "dist.story_chars"
CLUSTER_SIZE = "dist.cluster_size"


def counter(name: str):
    """A Beam counter in storysift's namespace (call in DoFn.__init__/setup, not per element)."""
    from apache_beam.metrics import Metrics

    return Metrics.counter(NAMESPACE, name)


def distribution(name: str):
    from apache_beam.metrics import Metrics

    return Metrics.distribution(NAMESPACE, name)
