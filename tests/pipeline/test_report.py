"""The run report: report.json's figures against the files written, report.html in a real browser.

The browser test needs Debian's chromium (`.ci/run` installs it). Outside CI it is skipped with
a reason when chromium is missing; in CI (CI=true) a missing chromium fails it.
"""

from __future__ import annotations

import gzip
import html
import json
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pipeline.cli import run
from pipeline.report import (
    bar_chart_svg,
    cluster_size_bins,
    diff_html,
    funnel_steps,
    metric_values,
    render_html,
    similarity_bins,
)
from tests.conftest import SAMPLES

# ---- pure functions ---------------------------------------------------------------------------


def test_diff_html_marks_only_the_changes():
    left, right = diff_html("Rates rose 76% on <Monday>.", "Rates rose 76 percent on <Monday>.")
    assert left == "Rates rose <del>76%</del> on &lt;Monday&gt;."
    assert right == "Rates rose <ins>76 percent</ins> on &lt;Monday&gt;."
    assert diff_html("same text", "same text") == ("same text", "same text")
    # words are matched without their spacing; marks leave a word's trailing space outside
    assert diff_html("one two  three", "one two three four") == (
        "one two  three",
        "one two three <ins>four</ins>",
    )


@given(st.text(alphabet=" \n\tab<&é.", max_size=60), st.text(alphabet=" \n\tab<&é.", max_size=60))
def test_diff_html_keeps_both_texts_whole(kept, other):
    """Without its marks, each side is its text, escaped: the diff drops and adds nothing."""
    left, right = diff_html(kept, other)
    assert html.unescape(re.sub("</?del>", "", left)) == kept
    assert html.unescape(re.sub("</?ins>", "", right)) == other
    assert "<ins>" not in left and "<del>" not in right


def test_metric_values_merges_a_metric_reported_by_several_steps():
    from apache_beam.metrics.cells import DistributionData, DistributionResult
    from apache_beam.metrics.execution import MetricKey, MetricResult
    from apache_beam.metrics.metricbase import MetricName

    from transforms import counters

    def result(step, name, value):
        return MetricResult(MetricKey(step, MetricName(counters.NAMESPACE, name)), value, value)

    queried = {
        "counters": [result("A", "split.stories", 3), result("B", "split.stories", 4)],
        "distributions": [
            result("A", "split.story_chars", DistributionResult(DistributionData(30, 2, 10, 20))),
            result("B", "split.story_chars", DistributionResult(DistributionData(70, 2, 5, 50))),
        ],
    }

    class Result:
        def metrics(self):
            class Query:
                def query(self, _filter):
                    return queried

            return Query()

    values = metric_values(Result())
    assert values["split.stories"] == 7
    assert values["split.story_chars.count"] == 4
    assert values["split.story_chars.mean"] == 25.0
    assert values["split.story_chars.max"] == 50


def test_bar_chart_has_one_bar_per_value_with_its_count():
    svg = bar_chart_svg(["a", "b<", "c"], [3, 0, 7], "T & t", "chart-x")
    assert re.findall(r'data-value="(\d+)"', svg) == ["3", "0", "7"]
    assert 'id="chart-x"' in svg and "T &amp; t" in svg and "b&lt;" in svg
    heights = [float(h) for h in re.findall(r'<rect [^>]*height="([\d.]+)"', svg)]
    assert heights[2] > heights[0] > heights[1] == 0


def test_bins_for_the_charts():
    labels, values = cluster_size_bins({"1": 10, "2": 3, "12": 1, "40": 2})
    assert labels[-1] == "≥10" and values[:3] == [10, 3, 0] and values[-1] == 3
    labels, values = similarity_bins({"edges": [0.0, 0.5], "near": [1, 2], "contained": [0, 4]})
    assert (labels, values) == (["0.00", "0.50"], [1, 6])


def test_funnel_prefers_written_counts_and_says_when_unknown():
    written = {"clean": {"records": 5}, "duplicates": {"records": 2}}
    report = {"counts": {"read": {"dumps": 8}}, "written": written}
    steps = dict(funnel_steps(report))
    assert steps["dumps (files, JSONL records)"] == 8 and steps["stories parsed"] == 7
    assert steps["story spans found"] is None


def test_render_html_is_self_contained_and_escapes_text():
    stats = {
        "sample_clusters": [
            {
                "cluster": "c-1",
                "size": 2,
                "members": [
                    _member("a", "<script>alert(1)</script> kept", None),
                    _member("b", "<script>alert(1)</script> copy", "a"),
                ],
            }
        ]
    }
    page = render_html({"output": "out/", "options": {"format": "jsonl"}}, stats)
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not re.search(r"""(src|href)=["']?https?:""", page) and "<link" not in page
    assert 'id="sample-count">1<' in page


def _member(rid: str, text: str, duplicate_of: str | None) -> dict:
    return {
        "id": rid,
        "kind": "article",
        "title": None,
        "kicker": None,
        "text": text,
        "source": {"uri": f"{rid}.txt", "record": 0, "start": 0, "end": len(text)},
        "dedup": {"cluster": "c-1", "duplicate_of": duplicate_of, "reason": "near", "similarity": 0.9},
    }


# ---- a real run -------------------------------------------------------------------------------


def read_folder(folder: Path) -> list[dict]:
    records = []
    for path in sorted(folder.glob("part-*")):
        raw = gzip.decompress(path.read_bytes())
        records += [json.loads(line) for line in raw.decode("utf-8").splitlines() if line]
    return records


@pytest.fixture(scope="module")
def sample_run(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("report")
    shutil.copytree(SAMPLES, root / "samples")
    globs = [f"--input={root}/samples/*.{ext}" for ext in ("txt", "jsonl", "gz")]
    # The report is under test here, not the input checks: no --max-reject-fraction gate.
    assert run([*globs, f"--output={root}/out", "--progress-every=0", "--max-reject-fraction=1"]) == 0
    return root / "out"


def test_report_json_matches_the_files_written(sample_run: Path):
    report = json.loads((sample_run / "report.json").read_text(encoding="utf-8"))
    folders = {sub: read_folder(sample_run / sub) for sub in ("clean", "duplicates", "rejected")}
    for sub, records in folders.items():
        assert report["written"][sub]["records"] == len(records)
        assert report["written"][sub]["bytes"] == sum(p.stat().st_size for p in (sample_run / sub).iterdir())
        assert report["counts"]["write"][sub] == len(records)  # Beam's counters agree
    assert report["output_bytes"] == sum(report["written"][s]["bytes"] for s in folders)
    sample_files = [p for p in SAMPLES.iterdir() if p.suffix in (".txt", ".jsonl", ".gz")]
    assert report["input"] == {
        "patterns": report["inputs"],
        "files": len(sample_files),
        "bytes": sum(p.stat().st_size for p in sample_files),
    }
    clean, dups = folders["clean"], folders["duplicates"]
    hist = report["histograms"]
    assert sum(hist["story_chars"]["clean"]) == len(clean)
    sizes = {}
    for r in clean + dups:
        sizes[r["dedup"]["cluster"]] = sizes.get(r["dedup"]["cluster"], 0) + 1
    expected_sizes = {}
    for size in sizes.values():
        expected_sizes[str(size)] = expected_sizes.get(str(size), 0) + 1
    assert hist["cluster_size"] == expected_sizes
    assert sum(sum(v) for k, v in hist["similarity"].items() if k != "edges") == len(dups)
    by_reason = {}
    for r in dups:
        by_reason[r["dedup"]["reason"]] = by_reason.get(r["dedup"]["reason"], 0) + 1
    assert report["duplicates_by_reason"] == by_reason
    rejected = {}
    for r in folders["rejected"]:
        key = (r["stage"], r["reason"], r["kind"])
        rejected[key] = rejected.get(key, 0) + 1
    reported = {(e["stage"], e["reason"], e["kind"]): e["records"] for e in report["rejected_by_reason"]}
    assert reported == rejected
    assert report["options"]["format"] == "jsonl" and report["wall_seconds"] > 0


# ---- the page in a browser --------------------------------------------------------------------

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--enable-logging=stderr",
    "--v=0",
]


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail("chromium is not installed; .ci/run must `apt-get install -y chromium` before the tests")
    pytest.skip("chromium is not installed (apt-get install -y chromium); CI installs it and runs this test")


def browse(page: Path, tmp_path: Path, *flags: str) -> subprocess.CompletedProcess:
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    cmd = [chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", *flags, page.as_uri()]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=tmp_path, check=False)


def console_messages(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if ":CONSOLE" in line]


class _Ids(HTMLParser):
    """Text and data-value of every element with an id; the number of <rect> per chart."""

    def __init__(self):
        super().__init__()
        self.values: dict[str, str] = {}
        self.text: dict[str, str] = {}
        self.bars: dict[str, list[int]] = {}
        self._open: list[str] = []
        self._svg: str | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "svg":
            self._svg = a.get("id")
        if tag == "rect" and self._svg and "data-value" in a:
            self.bars.setdefault(self._svg, []).append(int(a["data-value"]))
        if "id" in a:
            self.values[a["id"]] = a.get("data-value", "")
            self._open.append(a["id"])
            self.text[a["id"]] = ""

    def handle_endtag(self, tag):
        if tag == "svg":
            self._svg = None
        if tag in ("td", "span") and self._open:
            self._open.pop()

    def handle_data(self, data):
        if self._open:
            self.text[self._open[-1]] += data


def test_the_console_check_catches_errors(tmp_path: Path):
    """The check below is able to fail: a page with a script error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<html><body><script>console.error('x'); notAFunction();</script></body></html>")
    proc = browse(bad, tmp_path, "--dump-dom")
    assert any("notAFunction" in line for line in console_messages(proc.stderr))


def test_report_html_renders_in_chromium_with_the_right_numbers(sample_run: Path, tmp_path: Path):
    page = sample_run / "report.html"
    proc = browse(page, tmp_path, "--dump-dom")
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert console_messages(proc.stderr) == []
    dom = proc.stdout
    assert "<title>storysift run report</title>" in dom
    report = json.loads((sample_run / "report.json").read_text(encoding="utf-8"))
    ids = _Ids()
    ids.feed(dom)
    for sub in ("clean", "duplicates", "rejected"):
        assert ids.values[f"count-{sub}"] == str(report["written"][sub]["records"])
        assert ids.text[f"count-{sub}"] == f"{report['written'][sub]['records']:,}"
        assert ids.values[f"files-{sub}"] == str(report["written"][sub]["files"])
    assert ids.values["input-files"] == str(report["input"]["files"])
    assert ids.values["input-dumps"] == str(report["counts"]["read"]["dumps"])
    for entry in report["rejected_by_reason"]:
        ident = f"rejected-{entry['stage']}-{entry['reason']}-{entry['kind']}"
        assert ids.values[ident] == str(entry["records"])
    assert sum(ids.bars["chart-story-length"]) == report["written"]["clean"]["records"]
    assert sum(ids.bars["chart-cluster-size"]) == sum(report["histograms"]["cluster_size"].values())
    assert sum(ids.bars["chart-similarity"]) == report["written"]["duplicates"]["records"]
    funnel = dict(funnel_steps(report))
    assert len(ids.bars.get("funnel", [])) == 0  # the funnel's bars carry no data-value; check its labels
    for label, value in funnel.items():
        assert label in dom and (value is None or f"{value:,}" in dom)
    samples = int(ids.text["sample-count"])
    assert samples == min(8, len({r["dedup"]["cluster"] for r in read_folder(sample_run / "duplicates")}))
    assert dom.count('class="pair"') >= samples
    shot = browse(page, tmp_path, "--screenshot=shot.png", "--window-size=1200,1800")
    assert shot.returncode == 0 and (tmp_path / "shot.png").stat().st_size > 20_000


def test_detached_run_then_report_command(tmp_path: Path):
    """--detach (Flex Templates) writes a 'submitted' report; `storysift report` completes it."""
    work = tmp_path / "samples"
    shutil.copytree(SAMPLES, work)
    out = tmp_path / "out"
    args = [f"--input={work}/*.txt", f"--output={out}", "--detach", "--progress-every=0"]
    assert run(args) == 0  # the local runner finishes before run() returns; Dataflow would not
    assert json.loads((out / "report.json").read_text(encoding="utf-8"))["status"] == "submitted"
    assert not (out / "report.html").exists()
    assert run(["report", str(out)]) == 0
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["status"] == "written"
    assert report["written"]["clean"]["records"] == len(read_folder(out / "clean")) > 0
    assert f'data-value="{report["written"]["clean"]["records"]}"' in (out / "report.html").read_text()
    assert run(["report", str(tmp_path / "nowhere")]) == 2
