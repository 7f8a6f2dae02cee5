"""Wire the stages into one Beam pipeline. No text logic here: only the order of stages."""

from __future__ import annotations

from dataclasses import replace

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems

from pipeline.options import StageConfigs
from transforms.accounting import AccountCharacters
from transforms.deduplicate import SIGNATURES, Deduplicate
from transforms.parse_teasers import ParseTeasers
from transforms.read_dumps import ReadDumps
from transforms.repeated_lines import FindRepeatedLines
from transforms.split_stories import SplitStories
from transforms.story_continuations import FindStoryContinuations
from transforms.story_openings import FindStoryOpenings
from transforms.write_corpus import DUPLICATE_CLUSTERS, WriteCorpus


def is_kept(story) -> bool:
    return story.duplicate_of is None


def build_pipeline(p: beam.Pipeline, cfg: StageConfigs):
    """ReadDumps -> SplitStories (with FindRepeatedLines, FindStoryOpenings,
    FindStoryContinuations) -> ParseTeasers -> Deduplicate -> WriteCorpus.

    Returns WriteCorpus's output (what was written) for the caller's report.
    """
    dumps, read_rejected = p | "ReadDumps" >> ReadDumps(list(cfg.inputs), cfg.text_field, cfg.read)
    repeated = dumps | "FindRepeatedLines" >> FindRepeatedLines(cfg.repeat)
    openings = dumps | "FindStoryOpenings" >> FindStoryOpenings(cfg.openings)
    continuations = dumps | "FindStoryContinuations" >> FindStoryContinuations(cfg.continuations)
    split = SplitStories(cfg.split, repeated, openings, continuations)
    drafts, split_rejected = dumps | "SplitStories" >> split
    stories, parse_rejected = drafts | "ParseTeasers" >> ParseTeasers(cfg.parse)
    # The kept stories' signatures go beside the corpus (OUTPUT/signatures/), for a later --against.
    signatures = FileSystems.join(cfg.corpus.output_dir, SIGNATURES)
    deduplicated, duplicate_clusters = stories | "Deduplicate" >> Deduplicate(
        replace(cfg.dedup, signatures_dir=signatures)
    )
    kept, dropped = deduplicated | "KeptOrDropped" >> beam.Partition(
        lambda story, _: 0 if is_kept(story) else 1, 2
    )
    rejected = (read_rejected, split_rejected, parse_rejected) | "AllRejected" >> beam.Flatten()
    # Where every character went (account.* counters, checked by the CLI after the run).
    _ = {"dumps": dumps, "clean": kept, "duplicates": dropped, "rejected": rejected} | (
        "AccountCharacters" >> AccountCharacters()
    )
    written = {
        "clean": kept,
        "duplicates": dropped,
        "rejected": rejected,
        DUPLICATE_CLUSTERS: duplicate_clusters,
    }
    return written | "WriteCorpus" >> WriteCorpus(cfg.corpus)
