"""The whole graph, built as the CLI builds it: with Beam's construction-time type check on it
builds (the CLI turns the check off unless asked, to start faster)."""

import apache_beam as beam
from apache_beam.options.pipeline_options import PipelineOptions, TypeOptions

from pipeline.assembly import build_pipeline
from pipeline.cli import skip_construction_type_check
from pipeline.options import StorysiftOptions, configs_from_options


def _options(*extra: str) -> PipelineOptions:
    return PipelineOptions(["--input", "samples/*", "--output", "/tmp/storysift-unused", *extra])


def test_the_whole_graph_type_checks_at_construction() -> None:
    options = _options()
    assert options.view_as(TypeOptions).pipeline_type_check  # Beam's default
    p = beam.Pipeline(options=options)
    build_pipeline(p, configs_from_options(options.view_as(StorysiftOptions)))
    labels = {t.full_label for t in p.transforms_stack[0].parts}
    assert {"ReadDumps", "SplitStories", "ParseTeasers", "Deduplicate", "WriteCorpus"} <= labels


def test_the_cli_skips_the_construction_check_unless_asked() -> None:
    for argv, expected in (
        ([], False),
        (["--pipeline_type_check"], True),
        (["--pipeline-type-check"], True),
        (["--no_pipeline_type_check"], False),
    ):
        options = _options(*argv)
        skip_construction_type_check(options, argv)
        assert options.view_as(TypeOptions).pipeline_type_check is expected, argv
