"""Shared test fixtures: every TestPipeline runs on the offline DirectRunner."""

from __future__ import annotations

from pathlib import Path

import pytest
from apache_beam.testing.test_pipeline import TestPipeline

from pipeline.runners import OfflineDirectRunner

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DATA = Path(__file__).resolve().parent / "data"


def offline_test_pipeline() -> TestPipeline:
    """A TestPipeline that never tries Prism's download (see pipeline/runners.py)."""
    return TestPipeline(runner=OfflineDirectRunner())


@pytest.fixture
def test_pipeline() -> TestPipeline:
    return offline_test_pipeline()
