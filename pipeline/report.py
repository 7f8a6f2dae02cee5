"""The run report: `report.json` (figures) and `report.html` (the same, for a person), and the
summary table the CLI prints.

Figures come from three places: Beam metrics (counts per stage, read after the run), the stats
file WriteCorpus writes beside the shards (what was written: records, bytes, histograms, a
sample of duplicate clusters; see transforms/write_corpus.py) and the input files' sizes. The
HTML page is self-contained: inline CSS and SVG charts, no script, nothing fetched.
"""

from __future__ import annotations

import difflib
import html
import json
import logging
import re
import sys
import time
from collections.abc import Iterable, Sequence

from transforms import counters
from transforms.write_corpus import (
    CARD_FILE,
    CLEAN,
    DUPLICATES,
    REJECTED,
    SIMILARITY_EDGES,
    STATS_FILE,
    STORY_CHAR_EDGES,
    CorpusConfig,
    dataset_card,
)

LOG = logging.getLogger("storysift")

REPORT_JSON = "report.json"
REPORT_HTML = "report.html"

SUMMARY_ROWS = [
    ("dump files read", counters.FILES_READ),
    ("dumps (files or JSONL records)", counters.DUMPS_READ),
    ("input characters", counters.INPUT_CHARS),
    ("inputs rejected", counters.READ_REJECTED),
    ("stories found", counters.DRAFTS),
    ("boilerplate lines", counters.BOILERPLATE_LINES),
    ("lines learned as boilerplate", counters.LEARNED_BOILERPLATE),
    ("story openings learned", counters.LEARNED_OPENINGS),
    ("stories opened at a learned opening", counters.OPENED_AT_LEARNED),
    ("line pairs learned to stay together", counters.LEARNED_CONTINUATIONS),
    ("articles", counters.ARTICLES),
    ("teasers", counters.TEASERS),
    ("truncated stories", counters.TRUNCATED),
    ("too short, rejected", counters.PARSE_REJECTED),
    ("exact duplicates", counters.EXACT_DUPLICATES),
    ("near duplicates", counters.NEAR_DUPLICATES),
    ("contained (teasers, trims)", counters.CONTAINED_DUPLICATES),
    ("teaser decks re-cut at their article", counters.RESEAMED_TEASERS),
    ("written to clean/", counters.WRITTEN_CLEAN),
    ("written to duplicates/", counters.WRITTEN_DUPLICATES),
    ("written to rejected/", counters.WRITTEN_REJECTED),
]


# ---- figures ----------------------------------------------------------------------------------


def metric_values(result) -> dict[str, float]:
    """Counters and distribution sums of storysift's namespace, by name."""
    import apache_beam as beam

    values: dict[str, float] = {}
    try:
        queried = result.metrics().query(beam.metrics.MetricsFilter().with_namespace(counters.NAMESPACE))
    except Exception as exc:  # noqa: BLE001 - some runners do not report metrics
        LOG.warning("metrics unavailable on this runner: %s", exc)
        return values
    for counter in queried.get("counters", []):
        values[counter.key.metric.name] = values.get(counter.key.metric.name, 0) + (
            counter.committed if counter.committed is not None else counter.attempted
        )
    # One distribution can be reported by several steps (and, on some runners, per worker):
    # merge them, as Beam merges counters, instead of keeping whichever came last.
    merged: dict[str, tuple[int, float, float]] = {}
    for dist in queried.get("distributions", []):
        data = dist.committed if dist.committed is not None else dist.attempted
        if data is None or not data.count:
            continue
        count, total, high = merged.get(dist.key.metric.name, (0, 0.0, data.max))
        merged[dist.key.metric.name] = (count + data.count, total + data.sum, max(high, data.max))
    for name, (count, total, high) in merged.items():
        values[name + ".count"] = count
        values[name + ".mean"] = round(total / count, 1)
        values[name + ".max"] = high
    return dict(sorted(values.items()))


def counts_by_stage(metrics: dict[str, float]) -> dict[str, dict[str, float]]:
    """{"read.files": 5} -> {"read": {"files": 5}}."""
    stages: dict[str, dict[str, float]] = {}
    for name, value in metrics.items():
        stage, _, what = name.partition(".")
        stages.setdefault(stage, {})[what] = value
    return stages


def input_sizes(patterns: Sequence[str]) -> dict:
    """Files and bytes matched by the input patterns (each file once)."""
    from apache_beam.io.filesystems import FileSystems

    sizes: dict[str, int] = {}
    for pattern in patterns:
        try:
            for m in FileSystems.match([pattern])[0].metadata_list:
                sizes[m.path] = m.size_in_bytes
        except Exception:  # noqa: BLE001 - an unmatched pattern is reported by the CLI already
            continue
    return {"patterns": list(patterns), "files": len(sizes), "bytes": sum(sizes.values())}


def read_stats(output_dir: str) -> dict | None:
    """The stats WriteCorpus wrote beside the shards, or None when there are none."""
    from apache_beam.io.filesystems import FileSystems

    path = FileSystems.join(output_dir, STATS_FILE)
    try:
        with FileSystems.open(path) as f:
            return json.loads(f.read().decode("utf-8"))
    except Exception as exc:  # noqa: BLE001 - a report without the stats is still a report
        LOG.warning("no corpus stats at %s: %s", path, exc)
        return None


def options_of(cfg) -> dict:
    """The options of a run, as the report records them."""
    corpus = cfg.corpus
    return {
        "text_field": cfg.text_field,
        "threshold": cfg.dedup.threshold,
        "containment_threshold": cfg.dedup.containment_threshold,
        "num_perm": cfg.dedup.num_perm,
        "shingle_size": cfg.dedup.shingle_size,
        "min_chars": cfg.parse.min_chars,
        "topic_penalty": cfg.split.topic_penalty,
        "num_shards": None if corpus.shard_size else corpus.num_shards,
        "shard_size": corpus.shard_size,
        "shard_unit": corpus.shard_unit if corpus.shard_size else None,
        "compression": corpus.compression,
        "format": corpus.format,
        "date": getattr(cfg, "run_date", None),
    }


def build_report(
    cfg,
    metrics: dict[str, float],
    seconds: float,
    runner: str,
    stats: dict | None = None,
    inputs: dict | None = None,
    started_at: str | None = None,
    status: str = "done",
) -> dict:
    """report.json: counts per stage and reason, timings, options, sizes and histograms."""
    report = {
        "storysift_version": version(),
        "status": status,
        "runner": runner,
        "started_at": started_at,
        "wall_seconds": round(seconds, 2),
        "timings": {"pipeline_seconds": round(seconds, 2)},  # from launch to the job's end
        "inputs": list(cfg.inputs),
        "input": inputs or {"patterns": list(cfg.inputs), "files": None, "bytes": None},
        "output": cfg.corpus.output_dir,
        "options": options_of(cfg),
        "counts": counts_by_stage(metrics),
    }
    if stats:
        report.update(stats_section(stats))
    return report


def stats_section(stats: dict) -> dict:
    """The report's figures about what was written, from WriteCorpus's stats file."""
    return {
        "written": {
            sub: {k: v for k, v in folder.items() if k != "shards"}
            for sub, folder in stats["folders"].items()
        },
        "output_bytes": sum(folder["bytes"] for folder in stats["folders"].values()),
        "shards": {sub: folder["shards"] for sub, folder in stats["folders"].items()},
        "stories": stats["stories"],
        "duplicates_by_reason": stats["duplicates_by_reason"],
        "rejected_by_reason": stats["rejected"],
        "histograms": {
            "story_chars": stats["story_chars_histogram"],
            "cluster_size": stats["cluster_sizes"],
            "similarity": stats["similarity_histogram"],
        },
    }


def version() -> str:
    try:
        from importlib.metadata import version as package_version

        return package_version("storysift")
    except Exception:  # noqa: BLE001 - running from a source tree
        return "unknown"


def summary_table(metrics: dict[str, float], seconds: float, output_dir: str) -> str:
    width = max(len(label) for label, _ in SUMMARY_ROWS)
    lines = ["", "storysift summary", "-" * (width + 14)]
    for label, name in SUMMARY_ROWS:
        value = metrics.get(name, 0)
        shown = f"{int(value or 0):,}"
        lines.append(f"{label:<{width}}  {shown:>12}")
    lines.append("-" * (width + 14))
    lines.append(f"{'wall time (s)':<{width}}  {seconds:>12.1f}")
    lines.append(f"output: {output_dir}")
    return "\n".join(lines)


def _write_text(output_dir: str, name: str, text: str, mime: str) -> str:
    from apache_beam.io.filesystems import FileSystems

    path = FileSystems.join(output_dir, name)
    with FileSystems.create(path, mime_type=mime) as f:
        f.write(text.encode("utf-8"))
    return path


def write_report(output_dir: str, report: dict) -> str:
    return _write_text(
        output_dir, REPORT_JSON, json.dumps(report, indent=2, sort_keys=True) + "\n", "application/json"
    )


def write_html(output_dir: str, page: str) -> str:
    return _write_text(output_dir, REPORT_HTML, page, "text/html")


# ---- the HTML page ----------------------------------------------------------------------------

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;
  color:#1d2330;background:#f6f7f9}
main{max-width:1100px;margin:0 auto;padding:24px}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:28px 0 8px;border-bottom:1px solid #d9dde3;padding-bottom:4px}
.meta{color:#5b6475;margin:0 0 12px}
table{border-collapse:collapse;background:#fff;margin:6px 0 12px}
th,td{border:1px solid #dfe3e8;padding:4px 10px;text-align:left;vertical-align:top}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:16px}
.chart{background:#fff;border:1px solid #dfe3e8;padding:8px}
svg text{font:12px system-ui,sans-serif;fill:#1d2330}
.cluster{background:#fff;border:1px solid #dfe3e8;margin:10px 0;padding:8px 12px}
.pair{display:grid;grid-template-columns:1fr 1fr;gap:12px;margin:8px 0}
.pair pre{white-space:pre-wrap;word-wrap:break-word;font:13px/1.4 Georgia,serif;margin:0;
  background:#fbfbfc;border:1px solid #eceef1;padding:8px;max-height:320px;overflow:auto}
.pair h4{margin:0 0 4px;font-size:13px;color:#5b6475}
del{background:#ffd7d5;text-decoration:line-through} ins{background:#ccf2d4;text-decoration:none}
.ok{color:#1a7f37} .warn{color:#b35900}
"""


def esc(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def fmt_int(value: object) -> str:
    if value is None:
        return "n/a"
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return esc(value)


def fmt_bytes(value: object) -> str:
    if value is None:
        return "n/a"
    size = float(value)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if size < 1000 or unit == "TB":
            return f"{size:,.0f} {unit}" if unit == "B" else f"{size:,.1f} {unit}"
        size /= 1000
    return f"{size:,.1f} TB"


def bar_chart_svg(
    labels: Sequence[str], values: Sequence[int], title: str, ident: str, width: int = 520, height: int = 230
) -> str:
    """A vertical bar chart as inline SVG, each bar labelled with its count."""
    left, right, top, bottom = 44, 10, 40, 50
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([*values, 1])
    n = max(len(values), 1)
    slot = plot_w / n
    bar_w = max(2.0, slot * 0.72)
    parts = [
        f'<svg id="{esc(ident)}" class="bars" xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" role="img" aria-label="{esc(title)}">',
        f'<text x="{left}" y="16" font-weight="600">{esc(title)}</text>',
        f'<line x1="{left}" y1="{top + plot_h}" x2="{left + plot_w}" y2="{top + plot_h}" stroke="#8a93a3"/>',
    ]
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        h = plot_h * value / peak
        x = left + i * slot + (slot - bar_w) / 2
        y = top + plot_h - h
        parts.append(
            f'<rect x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" height="{h:.1f}" fill="#3b6fd8" '
            f'data-label="{esc(label)}" data-value="{int(value)}">'
            f"<title>{esc(label)}: {int(value)}</title></rect>"
        )
        if value:
            parts.append(
                f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" text-anchor="middle" font-size="11">'
                f"{int(value)}</text>"
            )
        lx, ly = x + bar_w / 2, top + plot_h + 15
        if n > 8:  # long axes: labels slanted, ending under their bar
            parts.append(
                f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="end" font-size="11" '
                f'transform="rotate(-35 {lx:.1f} {ly:.1f})">{esc(label)}</text>'
            )
        else:
            parts.append(
                f'<text x="{lx:.1f}" y="{ly:.1f}" text-anchor="middle" font-size="11">{esc(label)}</text>'
            )
    parts.append("</svg>")
    return "".join(parts)


def funnel_svg(steps: Sequence[tuple[str, int | None]], width: int = 720) -> str:
    """Horizontal bars from input to clean output, widths proportional to the counts."""
    row, label_w = 30, 230
    height = row * len(steps) + 10
    known = [v for _, v in steps if v is not None]
    peak = max([*known, 1])
    parts = [
        f'<svg id="funnel" xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="funnel from input to clean output">'
    ]
    for i, (label, value) in enumerate(steps):
        y = 5 + i * row
        w = 0 if value is None else max(2.0, (width - label_w - 90) * value / peak)
        parts.append(f'<text x="0" y="{y + 17}">{esc(label)}</text>')
        parts.append(
            f'<rect x="{label_w}" y="{y + 4}" width="{w:.1f}" height="{row - 10}" fill="#5b8def" rx="2"/>'
        )
        parts.append(f'<text x="{label_w + w + 6:.1f}" y="{y + 17}">{fmt_int(value)}</text>')
    parts.append("</svg>")
    return "".join(parts)


# A word with the white space after it (or leading white space). Words are matched without
# their spaces: the thousands of equal " " tokens of diffing words and spaces apart made
# SequenceMatcher (no autojunk) about 30 times slower on the report's sample pairs, and a
# change of spacing alone is not a difference a reader of the report looks for.
_TOKEN_RE = re.compile(r"\S+\s*|\s+")


def _marked(tag: str, text: str) -> str:
    """<tag>text</tag>, the text's trailing white space left outside the mark."""
    body = text.rstrip()
    return (f"<{tag}>{esc(body)}</{tag}>" if body else "") + esc(text[len(body) :])


def diff_html(kept: str, other: str) -> tuple[str, str]:
    """Word-level difference of two texts as HTML: deletions in `kept`, insertions in `other`."""
    a, b = _TOKEN_RE.findall(kept), _TOKEN_RE.findall(other)
    matcher = difflib.SequenceMatcher(None, [t.rstrip() for t in a], [t.rstrip() for t in b], autojunk=False)
    left, right = [], []
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        old, new = "".join(a[i1:i2]), "".join(b[j1:j2])
        if op == "equal":
            left.append(esc(old))
            right.append(esc(new))
        else:
            left.append(_marked("del", old))
            right.append(_marked("ins", new))
    return "".join(left), "".join(right)


def char_bin_labels(edges: Sequence[int]) -> list[str]:
    def short(v: int) -> str:
        return f"{v // 1000}k" if v >= 1000 and v % 1000 == 0 else str(v)

    return [f"{short(lo)}–{short(hi)}" for lo, hi in zip(edges, edges[1:], strict=False)] + [
        f"≥{short(edges[-1])}"
    ]


def cluster_size_bins(sizes: dict[str, int]) -> tuple[list[str], list[int]]:
    """Cluster sizes 1, 2, ..., 9 and ≥10 (the report's chart)."""
    labels = [str(i) for i in range(1, 10)] + ["≥10"]
    values = [0] * 10
    for size, count in sizes.items():
        values[min(int(size), 10) - 1] += count
    return labels, values


def similarity_bins(histogram: dict) -> tuple[list[str], list[int]]:
    """Similarities of dropped duplicates to their kept story, all reasons added up."""
    edges = histogram.get("edges", list(SIMILARITY_EDGES))
    values = [0] * len(edges)
    for reason, counts in histogram.items():
        if reason == "edges":
            continue
        for i, c in enumerate(counts):
            values[i] += c
    return [f"{e:.2f}" for e in edges], values


def funnel_steps(report: dict) -> list[tuple[str, int | None]]:
    counts = report.get("counts", {})
    written = report.get("written", {})

    def metric(stage: str, name: str) -> int | None:
        value = counts.get(stage, {}).get(name)
        return None if value is None else int(value)

    def out(sub: str) -> int | None:
        if sub in written:
            return written[sub]["records"]
        return metric("write", sub)

    clean, dups = out(CLEAN), out(DUPLICATES)
    stories = None if clean is None or dups is None else clean + dups
    return [
        ("input files", report.get("input", {}).get("files") or metric("read", "files")),
        ("dumps (files, JSONL records)", metric("read", "dumps")),
        ("story spans found", metric("split", "stories")),
        ("stories parsed", stories),
        ("kept: clean/", clean),
        ("dropped copies: duplicates/", dups),
        ("set aside: rejected/", out(REJECTED)),
    ]


def _row(cells: Iterable[str], ident: str | None = None) -> str:
    attr = f' id="{esc(ident)}"' if ident else ""
    return f"<tr{attr}>" + "".join(cells) + "</tr>"


def _num_cell(value: object, ident: str | None = None, formatter=fmt_int) -> str:
    attr = f' id="{esc(ident)}"' if ident else ""
    raw = "" if value is None else esc(value)
    return f'<td class="n"{attr} data-value="{raw}">{formatter(value)}</td>'


def render_html(report: dict, stats: dict | None) -> str:
    """The self-contained report page."""
    stats = stats or {}
    opts = report.get("options", {})
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        "<title>storysift run report</title>",
        f"<style>{CSS}</style></head><body><main>",
        "<h1>storysift run report</h1>",
        f'<p class="meta">output <code>{esc(report.get("output"))}</code>'
        f" · runner {esc(report.get('runner'))}"
        f" · format {esc(opts.get('format'))} · date {esc(opts.get('date') or 'none')}"
        f' · wall time <span id="wall-seconds">{esc(report.get("wall_seconds"))}</span> s'
        f' · status <span id="status">{esc(report.get("status"))}</span>'
        f" · storysift {esc(report.get('storysift_version'))}</p>",
    ]

    # Funnel and sizes
    parts.append("<h2>From input to clean output</h2>")
    parts.append(funnel_svg(funnel_steps(report)))
    parts.append("<table><tr><th>folder</th><th>files</th><th>records</th><th>bytes</th></tr>")
    written = report.get("written", {})
    inp = report.get("input", {})
    parts.append(
        _row(
            [
                "<td>input</td>",
                _num_cell(inp.get("files"), "input-files"),
                _num_cell(report.get("counts", {}).get("read", {}).get("dumps"), "input-dumps"),
                _num_cell(inp.get("bytes"), "input-bytes", fmt_bytes),
            ]
        )
    )
    for sub in (CLEAN, DUPLICATES, REJECTED):
        folder = written.get(sub, {})
        parts.append(
            _row(
                [
                    f"<td>{sub}/</td>",
                    _num_cell(folder.get("files"), f"files-{sub}"),
                    _num_cell(folder.get("records"), f"count-{sub}"),
                    _num_cell(folder.get("bytes"), f"bytes-{sub}", fmt_bytes),
                ]
            )
        )
    parts.append("</table>")

    # Why records were dropped or set aside
    parts.append(
        "<h2>Dropped and set aside</h2><table><tr><th>what</th><th>reason</th><th>records</th>"
        "<th>characters</th><th>first example (file, record, offset)</th></tr>"
    )
    for reason, n in report.get("duplicates_by_reason", {}).items():
        parts.append(
            _row(
                [
                    "<td>duplicate</td>",
                    f"<td>{esc(reason)}</td>",
                    _num_cell(n, f"dup-{reason}"),
                    "<td></td>",
                    "<td></td>",
                ]
            )
        )
    for entry in report.get("rejected_by_reason", []):
        example = entry.get("example") or {}
        where = (
            f"{example.get('uri', '')} #{example.get('record')} @{example.get('start')}" if example else ""
        )
        ident = f"rejected-{entry['stage']}-{entry['reason']}-{entry['kind']}"
        parts.append(
            _row(
                [
                    f"<td>{esc(entry['kind'])} ({esc(entry['stage'])})</td>",
                    f"<td>{esc(entry['reason'])}</td>",
                    _num_cell(entry["records"], ident),
                    _num_cell(entry["chars"]),
                    f"<td><code>{esc(where)}</code></td>",
                ]
            )
        )
    parts.append("</table>")

    # Charts
    hist = report.get("histograms", {})
    parts.append('<h2>Stories and clusters</h2><div class="charts">')
    if "story_chars" in hist:
        edges = hist["story_chars"].get("edges", list(STORY_CHAR_EDGES))
        parts.append(
            '<div class="chart">'
            + bar_chart_svg(
                char_bin_labels(edges),
                hist["story_chars"].get(CLEAN, []),
                "Story length (characters), clean/",
                "chart-story-length",
            )
            + "</div>"
        )
    if "cluster_size" in hist:
        labels, values = cluster_size_bins(hist["cluster_size"])
        parts.append(
            '<div class="chart">'
            + bar_chart_svg(labels, values, "Cluster size (stories per cluster)", "chart-cluster-size")
            + "</div>"
        )
    if "similarity" in hist:
        labels, values = similarity_bins(hist["similarity"])
        parts.append(
            '<div class="chart">'
            + bar_chart_svg(
                labels,
                values,
                "Similarity of dropped copies to the kept story",
                "chart-similarity",
                width=720,
            )
            + "</div>"
        )
    parts.append("</div>")

    # Sample clusters, side by side
    samples = stats.get("sample_clusters", [])
    parts.append(f'<h2>A sample of duplicate clusters (<span id="sample-count">{len(samples)}</span>)</h2>')
    if not samples:
        parts.append("<p>No duplicates in this run.</p>")
    for cluster in samples:
        members = cluster["members"]
        kept = members[0]
        parts.append(
            f'<div class="cluster" data-cluster="{esc(cluster["cluster"])}">'
            f"<b>{esc(cluster['cluster'])}</b> · "
            f"{cluster['size']} stories · kept: <code>{esc(kept['source']['uri'])}</code> "
            f"#{esc(kept['source']['record'])} @{esc(kept['source']['start'])}"
        )
        for other in members[1:]:
            left, right = diff_html(kept["text"], other["text"])
            dedup = other.get("dedup", {})
            sim = dedup.get("similarity")
            sim_text = "n/a" if sim is None else f"{sim:.2f}"
            parts.append(
                '<div class="pair">'
                f"<div><h4>kept {esc(kept['kind'])}: "
                f"{esc(kept.get('title') or kept.get('kicker') or '')}</h4>"
                f"<pre>{left}</pre></div>"
                f"<div><h4>dropped {esc(other['kind'])} ({esc(dedup.get('reason'))}, similarity {sim_text}) "
                f"from <code>{esc(other['source']['uri'])}</code> #{esc(other['source']['record'])}</h4>"
                f"<pre>{right}</pre></div></div>"
            )
        parts.append("</div>")

    # Options and per-stage counts
    parts.append("<h2>Options</h2><table>")
    for key, value in opts.items():
        parts.append(f"<tr><th>{esc(key)}</th><td>{esc(value)}</td></tr>")
    parts.append("</table><h2>Counts per stage</h2><table><tr><th>metric</th><th>value</th></tr>")
    for stage, names in report.get("counts", {}).items():
        for name, value in names.items():
            parts.append(
                _row([f"<td>{esc(stage)}.{esc(name)}</td>", _num_cell(value, f"metric-{stage}.{name}")])
            )
    parts.append("</table></main></body></html>\n")
    return "\n".join(parts)


def finish_run(
    cfg, metrics: dict, seconds: float, runner: str, started_at: str | None, status: str = "done"
) -> dict:
    """After a run: read the stats, write report.json and report.html; returns the report."""
    began = time.monotonic()
    stats = read_stats(cfg.corpus.output_dir)
    report = build_report(cfg, metrics, seconds, runner, stats, input_sizes(cfg.inputs), started_at, status)
    page = render_html(report, stats)
    report["timings"]["report_seconds"] = round(time.monotonic() - began, 2)
    write_report(cfg.corpus.output_dir, report)
    write_html(cfg.corpus.output_dir, page)
    write_card(cfg.corpus)
    return report


def write_card(corpus) -> str:
    """README.md, the dataset card that lets `datasets.load_dataset(OUTPUT, "clean")` load the output."""
    return _write_text(corpus.output_dir, CARD_FILE, dataset_card(corpus), "text/markdown")


def run_report(argv: Sequence[str]) -> int:
    """`storysift report OUTPUT`: rebuild report.json/report.html from what a run left in OUTPUT.

    For runs started with --detach (a Flex Template launch, say): the job writes its stats file
    when it finishes; this adds them to the report.json written at submission (without metrics).
    """
    import argparse

    from apache_beam.io.filesystems import FileSystems

    parser = argparse.ArgumentParser(prog="storysift report", description=run_report.__doc__)
    parser.add_argument("output", help="A storysift output directory.")
    args = parser.parse_args(list(argv))
    path = FileSystems.join(args.output, REPORT_JSON)
    try:
        with FileSystems.open(path) as f:
            report = json.loads(f.read().decode("utf-8"))
    except Exception as exc:  # noqa: BLE001
        print(f"storysift report: error: cannot read {path}: {exc}", file=sys.stderr)
        return 2
    stats = read_stats(args.output)
    if stats is None:
        print(
            f"storysift report: error: no {STATS_FILE} in {args.output} (has the job finished?)",
            file=sys.stderr,
        )
        return 1
    report.update(stats_section(stats))
    report["status"] = "written"
    write_report(args.output, report)
    write_html(args.output, render_html(report, stats))
    opts = report.get("options", {})
    write_card(CorpusConfig(args.output, format=opts.get("format") or "jsonl"))
    print(f"storysift report: wrote {FileSystems.join(args.output, REPORT_HTML)}")
    return 0
