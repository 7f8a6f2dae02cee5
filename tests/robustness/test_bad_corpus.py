"""The bad corpus (tests/robustness/bad_inputs.py) through the CLI in one job: every bad item
rejected with the right reason, every odd-but-readable item processed, offsets exact, the
accounting balanced, and the good files exactly as when they run alone."""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from pathlib import Path

import pytest

from pipeline.cli import EXIT_BAD_INPUT, run
from pipeline.staging import STAGING_PREFIX, SUCCESS
from tests.robustness.bad_inputs import PARTIAL, PROCESSED, REJECTED
from transforms.read_dumps import REASONS, read_file


def read_folder(folder: Path) -> list[dict]:
    out = []
    for path in sorted(folder.glob("part-*")):
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        out.extend(json.loads(line) for line in raw.decode("utf-8").splitlines() if line)
    return out


def outputs(out: Path) -> dict[str, list[dict]]:
    """Every output record, by the base name of its input file ("folder" says where it was)."""
    by_file: dict[str, list[dict]] = defaultdict(list)
    for folder in ("clean", "duplicates", "rejected"):
        for record in read_folder(out / folder):
            by_file[record["source"]["uri"].rsplit("/", 1)[-1]].append({**record, "folder": folder})
    return by_file


@pytest.fixture(scope="module")
def bad_run(corpus, tmp_path_factory):
    out = tmp_path_factory.mktemp("bad-corpus-out") / "out"
    code = run(["--input", str(corpus.folder / "*"), "--output", str(out)])
    return corpus, code, out


def test_the_corpus_has_at_least_30_kinds_of_bad_input(bad_run):
    corpus, _, _ = bad_run
    assert len(corpus.cases) >= 30
    assert len({case.file for case in corpus.cases}) == len(corpus.cases)  # one file per case


def test_the_job_finishes_and_fails_loudly_on_the_reject_fraction(bad_run):
    _, code, out = bad_run
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert code == EXIT_BAD_INPUT  # the bombs and the 50 MB line are most of the input's bytes
    assert report["status"] == "failed: too much bad input"
    assert report["bad_input"]["exceeded"] and report["bad_input"]["reject_fraction"] > 0.5
    assert not (out / SUCCESS).exists()  # written, but not marked complete
    assert not list(out.glob(f"{STAGING_PREFIX}*"))
    for folder in ("clean", "duplicates", "rejected"):
        assert len(list((out / folder).glob("part-*"))) == 4


def test_every_bad_item_is_rejected_with_its_reason(bad_run):
    corpus, _, out = bad_run
    by_file = outputs(out)
    for case in corpus.cases:
        records = by_file[case.file]
        assert records, f"{case.name}: nothing in the output"
        read_rejects = sorted(
            (r for r in records if r.get("stage") == "read"), key=lambda r: r["source"]["record"] or -1
        )
        assert tuple(r["reason"] for r in read_rejects) == case.reasons, case.name
        for r in read_rejects:
            assert r["folder"] == "rejected" and r["kind"] == "rejected" and r["detail"], case.name
            assert r["source"]["uri"].endswith(case.file)
        if case.outcome == REJECTED:
            assert all(r.get("stage") == "read" for r in records), case.name


def test_readable_items_are_processed_and_repairs_noted(bad_run):
    corpus, _, out = bad_run
    by_file = outputs(out)
    for case in corpus.cases:
        if case.outcome not in (PROCESSED, PARTIAL):
            continue
        records = [r for r in by_file[case.file] if r.get("stage") != "read"]
        assert records, f"{case.name}: no story or boilerplate came out"
        if case.dumps is not None:
            assert len({r["source"]["record"] for r in records}) == case.dumps, case.name
        stories = [r for r in records if r["kind"] in ("article", "teaser")]
        if case.decoding:
            assert stories and all(case.decoding in r["metadata"]["storysift_decoding"] for r in stories), (
                case.name
            )
        texts = " ".join(
            " ".join(str(r.get(k) or "") for k in ("title", "kicker", "deck", "text")) for r in records
        )
        for wanted in case.contains:
            assert " ".join(wanted.split()) in " ".join(texts.split()), (case.name, wanted)
        for unwanted in case.absent:
            assert unwanted not in texts, (case.name, unwanted)


def test_offsets_point_into_the_text_read_file_reproduces(bad_run):
    corpus, _, out = bad_run
    by_file = outputs(out)
    for case in corpus.cases:
        if case.outcome not in (PROCESSED, PARTIAL):
            continue
        path = corpus.folder / case.file
        decoded = {
            d.record: d.text for d in read_file(str(path), path.read_bytes()) if hasattr(d, "decoding")
        }
        for r in by_file[case.file]:
            if r.get("stage") == "read":
                continue
            src = r["source"]
            span = decoded[src["record"]][src["start"] : src["end"]]
            assert span and span == span.strip(), case.name
            if r["kind"] == "boilerplate":
                assert r["text"] == span
            elif r["kind"] in ("article", "teaser"):
                first = " ".join(r["text"].split("\n\n")[0].split())[:40]
                assert first in " ".join(span.split()), (case.name, first)
                if r["title"]:
                    assert span.startswith(r["title"][:20])


def test_the_accounting_balances(bad_run):
    corpus, _, out = bad_run
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    accounting = report["accounting"]
    assert accounting["balanced"] is True, accounting["problems"]
    assert accounting["lost_chars"] == 0 and accounting["overlap_chars"] == 0
    assert accounting["input_chars"] == sum(
        accounting[k]
        for k in (
            "kept_chars",
            "duplicate_chars",
            "boilerplate_chars",
            "rejected_chars",
            "whitespace_chars",
        )
    )
    expected = defaultdict(int)
    for case in corpus.cases:
        for reason in case.reasons:
            expected[reason] += 1
    got = report["bad_input"]["rejected_records_by_reason"]
    assert got == {r: n for r, n in expected.items() if r in REASONS}


def test_good_files_come_out_as_when_they_run_alone(bad_run, good_run):
    corpus, _, out = bad_run
    with_bad, by_themselves = outputs(out), outputs(good_run)
    for name in corpus.good:
        assert by_themselves[name], name
        key = lambda r: (r["folder"], r["source"]["record"], r["source"]["start"], r["id"])  # noqa: E731
        assert sorted(with_bad[name], key=key) == sorted(by_themselves[name], key=key), name
