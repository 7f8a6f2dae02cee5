"""Throughput of storysift end to end against "dedup only" references, on generated dumps.

  python benchmarks/throughput.py --make-dumps /work/shared/bench/make_dumps.py --out /tmp/tp \\
      --pages 750 --scales 1,4,16 [--e2e-reps 3] [--memory-pages 47000] [--profile] [--skip-e2e]

Needs the `bench` extra (`pip install '.[bench]'`: rensa, psutil, py-spy). The
corpora come from the bench generator given by path (`--make-dumps`, with its `bbc-dev/` and
`config-dev.json` beside it unless --bbc/--config say otherwise); storysift itself never reads it.

For each scale k (pages = k x --pages, generator seed 1), in the same run:

- (a) storysift, the CLI end to end (read, split, parse, dedup, write), DirectRunner with
  `--direct_num_workers=2 --direct_running_mode=multi_processing`, as a subprocess;
- (b) benchmarks/reference_dedup.py --engine datasketch: dedup only, `MinHash.bulk` + `MinHashLSH`
  insert/query, on the set's gold stories (the generator's perfectly segmented story texts);
- (c) the same with rensa signatures and rensa's LSH.

Each process tree is measured alike: wall seconds, CPU seconds (user+sys of the process and the
children it waited for), peak RSS of the whole process tree (the sum over the tree, sampled every
0.2 s: workers are separate interpreters, so the sum is what the machine must hold). MB/s is the
set's dump bytes (.txt + .jsonl files) per wall second for all three, so the rates compare the work
of turning the same corpus into a deduplicated one; docs/s counts dumps for (a) and gold stories
for (b)/(c).

Then "the MinHash signature stage alone", in this process on the largest set's gold stories:
storysift's pure functions as the pipeline runs them, in batches of about SKETCH_BATCH_CHARS
characters (transforms/deduplicate.py: shingle_hash_batch + MinHasher.signatures, the signature
part of compute_sketches; and compute_sketches whole) against "the rensa path" (RMinHash per
story updated with the 5-gram strings), rensa's bulk matrix call and datasketch's MinHash.bulk;
interleaved repetitions, best of --reps; and checks that the batched shingle hashes equal their
plain-Python definition, the rensa engine's signatures RMinHash's of them, the datasketch engine's
datasketch's MinHash(hashfunc=int) of their low 32 bits.

Then "text stages without Beam": the largest set's dumps through the stages' pure functions
(read, repeated lines, split, parse, sketch) in a plain loop in this process, CPU seconds per
phase; half of the total is what two perfectly parallel workers would need for that work with no
runtime at all, printed against the datasketch reference's wall time. The rest of (a) is the
runner and the stages after sketching. Split, parse and sketch then run once more on the same
dumps cut in two halves by dump id, each half with its own memos and word caches (as two workers
keep them): the CPU of the halves against one loop is what parallel memos cost (a repeat that
falls in both halves is worked out twice); and once more with the two halves in two processes at
the same time: their wall time is what the text stages alone take on two cores with no runner at
all, printed against the datasketch reference's wall time.

--memory-pages N: one more storysift run on an N-page set (about 4.3 MB per 1,000 pages) for the
peak-memory target. --profile: one more storysift run (on --profile-scale, default the largest)
under `py-spy record --subprocesses`; prints where the samples fall per stage (the module of the
deepest storysift frame) and the top functions by self time. Results go to OUT/results.json and
a table on stdout.

The machine may be shared: only ratios measured in the same run mean much; CPU seconds are less
sensitive to other load than wall seconds. --e2e-reps N runs (a), (b) and (c) N times, one after
the other in rounds, and reports each program's median run and the wall ratio of every round.
"""

from __future__ import annotations

import argparse
import collections
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HERE = Path(__file__).resolve().parent
RUN_TIMEOUT = 6 * 3600


# ------------------------------------------------------------------ corpora


def make_set(make_dumps: Path, bbc: Path, config: Path, pages: int, out: Path, seed: int = 1) -> Path:
    """Generate (or reuse) a set of `pages` pages; returns its folder."""
    manifest = out / "manifest.json"
    if manifest.exists():
        args = json.loads(manifest.read_text())["args"]
        if args.get("pages") == pages and args.get("seed") == seed:
            return out
    cmd = [sys.executable, str(make_dumps), "--pool", "dev", "--bbc", str(bbc), "--config", str(config)]
    cmd += ["--seed", str(seed), "--pages", str(pages), "--out", str(out)]
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
    return out


def dump_files(set_dir: Path) -> list[Path]:
    return sorted(p for p in (set_dir / "dumps").iterdir() if p.suffix in (".txt", ".jsonl"))


def set_size(set_dir: Path) -> dict:
    files = dump_files(set_dir)
    manifest = json.loads((set_dir / "manifest.json").read_text())
    return {
        "pages": manifest["pages"],
        "files": len(files),
        "bytes": sum(p.stat().st_size for p in files),
        "gold_stories": manifest.get("stories"),
    }


# ------------------------------------------------------------------ measuring a process tree


def measure(
    cmd: list[str], log: Path, cwd: Path = ROOT, env: dict | None = None, limit_mb: float = 0
) -> dict:
    """Run cmd in its own session; wall/CPU seconds, peak RSS of its process tree, exit code.

    limit_mb > 0: the tree is killed as soon as its RSS passes that (the machine is shared); the
    result then says so (`killed_over_mb`) and its times are those until then."""
    import psutil

    with log.open("wb") as out:
        started = time.perf_counter()
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        root = psutil.Process(proc.pid)
        peak_tree, peak_procs, done, killed = 0, 0, False, None
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid:
                    done = True
                    proc.returncode = os.waitstatus_to_exitcode(status)  # reaped here, not by Popen
                    break
                if time.perf_counter() - started > RUN_TIMEOUT:
                    os.killpg(proc.pid, signal.SIGKILL)
                    raise TimeoutError(f"{cmd[:4]} ran longer than {RUN_TIMEOUT}s")
                total, count = 0, 0
                try:
                    tree = [root, *root.children(recursive=True)]
                except psutil.Error:
                    tree = []
                for p in tree:
                    try:
                        total += p.memory_info().rss
                        count += 1
                    except psutil.Error:
                        pass
                if total > peak_tree:
                    peak_tree, peak_procs = total, count
                if limit_mb and total > limit_mb * 2**20 and killed is None:
                    killed = round(time.perf_counter() - started, 1)
                    os.killpg(proc.pid, signal.SIGKILL)
                time.sleep(0.2)
        finally:
            try:  # whatever is left of our own process group (a failed run's workers)
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            if not done:
                proc.wait()
        wall = time.perf_counter() - started
    extra = {"killed_over_mb": limit_mb, "killed_after_s": killed} if killed is not None else {}
    return {
        **extra,
        "exit_code": proc.returncode,
        "wall_s": round(wall, 2),
        "cpu_s": round(usage.ru_utime + usage.ru_stime, 2),
        "peak_tree_rss_mb": round(peak_tree / 2**20, 1),
        "peak_tree_processes": peak_procs,
        "max_single_rss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def child_env() -> dict:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p)
    return env


def storysift_cmd(set_dir: Path, out: Path, workers: int = 2) -> list[str]:
    """The CLI on a set: 2 worker processes (multi_processing), or in memory in one process (workers=1)."""
    parallel = (
        [f"--direct_num_workers={workers}", "--direct_running_mode=multi_processing"] if workers > 1 else []
    )
    return [
        sys.executable, "-m", "pipeline",
        "--input", str(set_dir / "dumps" / "*.txt"), "--input", str(set_dir / "dumps" / "*.jsonl"),
        "--output", str(out), "--overwrite", "--log-level", "WARNING", *parallel,
    ]  # fmt: skip


def run_storysift(set_dir: Path, work: Path, tag: str, limit_mb: float = 0, workers: int = 2) -> dict:
    out = work / f"out-{tag}"
    log = work / f"storysift-{tag}.log"
    result = measure(storysift_cmd(set_dir, out, workers), log, env=child_env(), limit_mb=limit_mb)
    result["workers"] = workers
    report = out / "report.json"
    if report.exists():
        counts = json.loads(report.read_text()).get("counts", {})
        result["dumps"] = counts.get("read", {}).get("dumps")
        result["stories"] = counts.get("split", {}).get("stories")
        result["kept"] = counts.get("write", {}).get("clean")
        result["duplicates"] = counts.get("write", {}).get("duplicates")
    return result


def run_reference(engine: str, set_dir: Path, work: Path, tag: str) -> dict:
    log = work / f"{engine}-{tag}.log"
    cmd = [sys.executable, str(HERE / "reference_dedup.py"), "--engine", engine]
    cmd += ["--gold", str(set_dir / "gold.jsonl"), "--out", str(work / f"{engine}-{tag}.jsonl")]
    result = measure(cmd, log)
    lines = log.read_text().strip().splitlines()
    if result["exit_code"] == 0 and lines:
        detail = json.loads(lines[-1])
        result.update(stories=detail["stories"], dropped=detail["dropped"], stages=detail["timings"])
    return result


def rates(result: dict, corpus_bytes: int, docs: int | None) -> dict:
    wall = result["wall_s"] or float("nan")
    result["mb_per_s"] = round(corpus_bytes / 1e6 / wall, 3)
    if docs:
        result["docs_per_s"] = round(docs / wall, 1)
    return result


def median_runs(rounds: list[dict]) -> dict:
    """Of each program's runs over the rounds, the one with the median wall time (the lower one
    of an even count): a whole run, so its CPU seconds and peak memory are that run's own."""
    out = {}
    for who in rounds[0]:
        runs = sorted((one[who] for one in rounds), key=lambda run: run["wall_s"])
        out[who] = runs[(len(runs) - 1) // 2]
    return out


# ------------------------------------------------------------------ the signature stage alone


def gold_texts(set_dir: Path) -> list[str]:
    texts = []
    with (set_dir / "gold.jsonl").open(encoding="utf-8") as fh:
        for line in fh:
            g = json.loads(line)
            if g["kind"] != "boilerplate":
                texts.append(g["text"])
    return texts


def story_batches(texts: list[str], budget: int) -> list[list[str]]:
    """The texts cut into batches as the pipeline's BatchElements does (`deduplicate._story_batches`):
    a batch is emitted when the next text would take it past `budget` characters (+1 per text)."""
    batches, current, size = [], [], 0
    for t in texts:
        if current and size + len(t) + 1 > budget:
            batches.append(current)
            current, size = [], 0
        current.append(t)
        size += len(t) + 1
    return batches + ([current] if current else [])


def signature_stage(texts: list[str], reps: int) -> dict:
    """Seconds (best of reps, interleaved) to sign every text, each way; and signature agreement."""
    sys.path.insert(0, str(ROOT))
    import numpy as np
    from datasketch import MinHash
    from rensa import RMinHash

    from transforms import deduplicate as dd
    from transforms.records import Story

    config = dd.DedupConfig()
    n, num_perm, seed = config.shingle_size, config.num_perm, config.seed
    minhasher = dd.MinHasher("rensa", num_perm, seed)
    datasketch_engine = dd.MinHasher("datasketch", num_perm, seed)
    batches = story_batches(texts, dd.SKETCH_BATCH_CHARS)
    shingled = [dd.shingle_list(t, n) for t in texts]

    # The signature part of compute_sketches as the pipeline runs it (ComputeSignatures: batches
    # of about SKETCH_BATCH_CHARS characters): the batch's shingle hashes (words found and hashed
    # with numpy, 5-gram hashes combined from them), then one rensa call for its signatures.
    def ours_signature():
        for batch in batches:
            minhasher.signatures(*dd.shingle_hash_batch(batch, n))

    def ours_signature_datasketch():
        for batch in batches:
            datasketch_engine.signatures(*dd.shingle_hash_batch(batch, n))

    def ours_signature_per_story():
        for t in texts:
            minhasher.signatures(*dd.shingle_hash_batch([t], n))

    stories = [
        Story(id=f"{i:08x}", uri="u", record=0, start=0, end=len(t), text=t, kind="article",
              title=None, kicker=None, deck=None, truncated=False)
        for i, t in enumerate(texts)
    ]  # fmt: skip
    story_batches_ = []
    at = 0
    for batch in batches:
        story_batches_.append(stories[at : at + len(batch)])
        at += len(batch)

    def ours_compute_sketches():
        for batch in story_batches_:
            dd.compute_sketches(batch, config, minhasher)

    def rensa_per_story():
        for t in texts:
            m = RMinHash(num_perm=num_perm, seed=seed)
            m.update(dd.shingle_list(t, n))
            m.digest()

    def rensa_preshingled():
        for sh in shingled:
            m = RMinHash(num_perm=num_perm, seed=seed)
            m.update(sh)
            m.digest()

    def rensa_bulk():
        RMinHash.digest_matrix_from_token_sets([dd.shingle_list(t, n) for t in texts], num_perm, seed)

    def datasketch_bulk():
        MinHash.bulk([[s.encode("utf-8") for s in dd.shingle_list(t, n)] for t in texts], num_perm=num_perm)

    ways = {
        "storysift signature (shingle_hash_batch + rensa, batched as the pipeline)": ours_signature,
        "rensa RMinHash per story (same shingle_list)": rensa_per_story,
        "storysift compute_sketches (signature + text hash + set, sample, head; batched)": (
            ours_compute_sketches
        ),
        "storysift signature, --minhash-engine datasketch (batched)": ours_signature_datasketch,
        "storysift signature, one story per call": ours_signature_per_story,
        "rensa digest_matrix_from_token_sets (bulk)": rensa_bulk,
        "datasketch MinHash.bulk (same shingles)": datasketch_bulk,
        "rensa RMinHash per story, shingles given": rensa_preshingled,
    }
    best = {name: float("inf") for name in ways}
    for _ in range(reps):
        for name, fn in ways.items():
            t = time.perf_counter()
            fn()
            best[name] = min(best[name], time.perf_counter() - t)
    text_mb = sum(len(t.encode("utf-8")) for t in texts) / 1e6
    # Agreement, on a sample: the batched shingle hashes are the plain-Python definition's; the
    # rensa engine's signatures are RMinHash's of those hashes (its per-set API); the datasketch
    # engine's are datasketch's MinHash(hashfunc=int) of their stored low 32 bits.
    sample = texts[:50]
    hashes, offsets = dd.shingle_hash_batch(sample, n)
    per_text = [hashes[a:b] for a, b in zip(offsets[:-1], offsets[1:], strict=True)]
    definition = [dd.text_shingle_hashes(t, n) for t in sample]
    rensa_ref = RMinHash.digest_matrix_from_token_hash_sets(definition, num_perm, seed).to_rows()
    agreement = {
        "shingle_hashes_equal_definition": all(
            h.tolist() == d for h, d in zip(per_text, definition, strict=True)
        ),
        "rensa_engine_equals_rminhash": [
            np.frombuffer(s, dtype=">u4").tolist() for s in minhasher.signatures(hashes, offsets)
        ]
        == rensa_ref,
        "datasketch_engine_equals_datasketch": all(
            s == _datasketch_signature(MinHash, d, num_perm, seed)
            for s, d in zip(datasketch_engine.signatures(hashes, offsets), definition, strict=True)
        ),
    }
    ratio = best["rensa RMinHash per story (same shingle_list)"] / best[next(iter(ways))]
    return {
        "texts": len(texts),
        "text_mb": round(text_mb, 2),
        "batches": len(batches),
        "seconds": {k: round(v, 3) for k, v in best.items()},
        "texts_per_s": {k: round(len(texts) / v, 1) for k, v in best.items()},
        "storysift_signature_speedup_over_rensa_path": round(ratio, 2),
        "agreement": agreement,
    }


def _datasketch_signature(MinHash, hashes, num_perm, seed) -> bytes:  # noqa: N803 - the class
    m = MinHash(num_perm=num_perm, seed=seed, hashfunc=int)
    m.update_batch([h & 0xFFFFFFFF for h in hashes])
    return m.hashvalues.astype(">u4").tobytes()


# ------------------------------------------------------------------ text stages without Beam


def clear_word_caches(*modules) -> None:
    """Empty the modules' per-word caches (their bounded lru_caches, also on methods), as a fresh
    worker process has them; the loaders cached once per process (maxsize 1 or unbounded) stay."""
    for module in modules:
        found = list(vars(module).values())
        found += [m for c in vars(module).values() if isinstance(c, type) for m in vars(c).values()]
        for obj in found:
            info = getattr(obj, "cache_info", None)
            if info is not None and (info().maxsize or 0) > 1:
                obj.cache_clear()


def _timer(counter: collections.Counter) -> Callable:
    """timed(phase, fn, *args): fn(*args), its CPU seconds added to counter[phase]."""

    def timed(phase, fn, *args):
        t = time.process_time()
        out = fn(*args)
        counter[phase] += time.process_time() - t
        return out

    return timed


def _prepare_worker() -> None:
    """What a worker does once, before any story (DoFn.setup): not part of the per-story work."""
    sys.path.insert(0, str(ROOT))
    from transforms.gc_tuning import tune_for_batch
    from transforms.sentences import sentence_tokenizer

    tune_for_batch()  # the garbage collector as a worker sets it
    sentence_tokenizer()


def _read_dumps(files: list[Path], timed: Callable) -> list:
    from transforms.read_dumps import read_stream
    from transforms.records import Dump

    dumps = []
    for path in files:
        with open(path, "rb") as fh:
            items = timed("read", lambda name, raw: list(read_stream(name, raw)), str(path), fh)
        dumps += [item.item for item in items if isinstance(item.item, Dump)]
    return dumps


def _learned(dumps: list, timed: Callable) -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """The split's three side inputs over all the dumps: repeated lines, openings, continuations."""
    from transforms.repeated_lines import FindRepeatedLines
    from transforms.story_continuations import FindStoryContinuations
    from transforms.story_openings import FindStoryOpenings

    # each stage's own rule (LearnKeys.learn), with its default configuration
    return (
        timed("repeated lines", FindRepeatedLines().learn, dumps),
        timed("story openings", FindStoryOpenings().learn, dumps),
        timed("story continuations", FindStoryContinuations().learn, dumps),
    )


def _half(dumps: list, half: int) -> list:
    """The dumps one of two workers takes: cut by a hash of the dump id."""
    from transforms.records import record_key
    from transforms.write_corpus import shard_of

    return [d for d in dumps if shard_of(record_key(d.uri, d.record), 2) == half]


def _per_story_work(part: list, learned: tuple[frozenset[str], ...], timed: Callable) -> list:
    """split, parse and sketch `part` with fresh memos and word caches, as one worker does its share
    (learned: the split's side inputs, see `_learned`)."""
    from transforms import deck_split, line_cues, topic_shift
    from transforms import deduplicate as dd
    from transforms.deck_split import DeckSplitter
    from transforms.parse_teasers import ParseConfig, parse_draft
    from transforms.records import Story, StoryDraft
    from transforms.split_stories import SplitConfig, drafts_from_split, split_text
    from transforms.topic_shift import BoundedMemo, FeatureMemo

    repeated, openings, continuations = learned
    config = dd.DedupConfig()
    bands, rows = dd.lsh_params(config.threshold, config.num_perm)
    minhasher = dd.MinHasher(config.minhash_engine, config.num_perm, config.seed)

    def text_rows(texts: list[str]) -> list:
        parts = dd.text_sketches(texts, config, minhasher)
        return dd.text_rows(parts, config, bands, rows)

    clear_word_caches(topic_shift, deck_split, dd, line_cues)
    memo, splitter, parse_config = FeatureMemo(), DeckSplitter(), ParseConfig()
    sketch_memo = BoundedMemo(dd.SKETCH_MEMO_CHARS)
    found: list[Story] = []
    for dump in part:
        result = timed("split", split_text, dump.text, SplitConfig(), repeated, memo, openings, continuations)
        for draft in drafts_from_split(dump, result):
            if isinstance(draft, StoryDraft):
                story = timed("parse", parse_draft, draft, parse_config, splitter)
                if isinstance(story, Story):
                    found.append(story)
    batch: list[str] = []
    chars = 0
    for story in found:
        batch.append(story.text)
        chars += len(story.text)
        if chars >= dd.SKETCH_BATCH_CHARS:
            timed("sketch", dd.per_distinct_text, batch, text_rows, sketch_memo)
            batch, chars = [], 0
    if batch:
        timed("sketch", dd.per_distinct_text, batch, text_rows, sketch_memo)
    return found


def text_stages(files: list[Path]) -> dict:
    """CPU seconds of storysift's own per-story work on dump files, in a plain loop in this process.

    The same pure functions the stages run, in their order, with the memos their DoFns keep:
    read_stream (decode, repair), dump_line_votes + is_repeated_boilerplate (FindRepeatedLines),
    dump_opening_votes + is_learned_opening (FindStoryOpenings), dump_pair_votes +
    is_learned_continuation (FindStoryContinuations), split_text, parse_draft, and the
    sketches (per_distinct_text over text_sketches + text_rows, in batches of about
    SKETCH_BATCH_CHARS characters). No Beam: what is left of the end-to-end
    run beyond this (candidates, components, decisions, writing, and the runner itself) is
    everything else. Half of the sum is what two workers would need if these stages alone ran,
    perfectly parallel, with no runtime at all. `stories_digest` (of the sorted story ids) lets a
    test check that this loop finds the pipeline's stories. Then split, parse and sketch run again
    on the dumps cut in two halves by a hash of their id, each half (and the whole before them) with
    fresh memos and word caches, as two workers see them: `two_halves_over_one_loop` is what
    parallel memos cost. `two_processes_at_once`: the halves again, in two processes at the same
    time (see two_processes_at_once). The garbage collector is set as in a worker
    (gc_tuning.tune_for_batch).
    """
    _prepare_worker()
    seconds = collections.Counter()
    timed = _timer(seconds)
    dumps = _read_dumps(files, timed)
    learned = _learned(dumps, timed)
    stories = _per_story_work(dumps, learned, timed)
    # The same work cut in two by dump id, each half with its own memos: what two workers' memos
    # see (a repeat that falls in both halves is worked out twice).
    halves_seconds = collections.Counter()
    for half in (0, 1):
        _per_story_work(_half(dumps, half), learned, _timer(halves_seconds))
    one_loop = sum(seconds[phase] for phase in halves_seconds)
    halves = sum(halves_seconds.values())
    total = sum(seconds.values())
    return {
        "dumps": len(dumps),
        "stories": len(stories),
        "stories_digest": hashlib.sha256("\n".join(sorted(s.id for s in stories)).encode()).hexdigest(),
        "cpu_s": {phase: round(s, 2) for phase, s in seconds.items()},
        "cpu_s_total": round(total, 2),
        "two_worker_floor_s": round(total / 2, 2),
        "split_parse_sketch_cpu_s": {"one loop": round(one_loop, 2), "two halves": round(halves, 2)},
        "two_halves_over_one_loop": round(halves / one_loop, 2) if one_loop else None,
        "two_processes_at_once": two_processes_at_once(files),
    }


TEXT_HALF = "--text-half"  # the child mode of two_processes_at_once: `throughput.py --text-half K`


def two_processes_at_once(files: list[Path]) -> dict:
    """Split, parse and sketch the two halves in two processes at the same time: the text stages'
    own wall time on two cores, with no runner at all.

    Each child (this script with --text-half K, the dump files' paths on its stdin) reads the
    dumps and finds the repeated lines, says it is ready, and on "go" (sent to both at once) does
    its half as _per_story_work does, timing that part. `wall_s` is from the first child's start to
    the last one's end. Separate interpreters, not forked ones: a fork inherits the native thread
    pool of the signature library half set up, and hangs in it. Two busy cores run the same code
    slower than one (shared caches, the host's other load), which the CPU of the halves run one
    after the other does not show.
    """
    listing = json.dumps([str(p) for p in files])
    children = [
        subprocess.Popen(
            [sys.executable, str(Path(__file__).resolve()), TEXT_HALF, str(half)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=child_env(),
        )
        for half in (0, 1)
    ]
    for child in children:
        child.stdin.write(listing + "\n")
        child.stdin.flush()
    ready = [child.stdout.readline().strip() for child in children]
    if ready != ["ready", "ready"]:
        raise RuntimeError(f"a --text-half child did not get ready: {ready}")
    for child in children:
        child.stdin.write("go\n")
        child.stdin.flush()
    reports = [json.loads(child.communicate()[0]) for child in children]
    if any(child.returncode != 0 for child in children):
        raise RuntimeError("a --text-half child failed")
    return {
        "wall_s": round(max(r["end"] for r in reports) - min(r["start"] for r in reports), 2),
        "each_wall_s": [round(r["end"] - r["start"], 2) for r in reports],
        "each_cpu_s": [round(r["cpu_s"], 2) for r in reports],
        "stories": [r["stories"] for r in reports],
    }


def text_half_main(half: int) -> int:
    """The child of two_processes_at_once: dump paths (JSON) on stdin, then "go"; a JSON report."""
    files = [Path(p) for p in json.loads(sys.stdin.readline())]
    _prepare_worker()
    dumps = _read_dumps(files, _timer(collections.Counter()))
    learned = _learned(dumps, _timer(collections.Counter()))  # over all the dumps, as the side inputs are
    mine = _half(dumps, half)
    print("ready", flush=True)
    if sys.stdin.readline().strip() != "go":
        return 1
    start, cpu = time.time(), time.process_time()
    stories = _per_story_work(mine, learned, _timer(collections.Counter()))
    report = {"start": start, "end": time.time(), "cpu_s": time.process_time() - cpu, "stories": len(stories)}
    print(json.dumps(report), flush=True)
    return 0


# ------------------------------------------------------------------ profile


STAGE_OF_MODULE = {
    "read_dumps": "ReadDumps",
    "repeated_lines": "FindRepeatedLines",
    "story_openings": "FindStoryOpenings",
    "story_continuations": "FindStoryContinuations",
    "split_stories": "SplitStories",
    "line_cues": "SplitStories",
    "topic_shift": "SplitStories",
    "parse_teasers": "ParseTeasers",
    "deck_split": "ParseTeasers",
    "truncation": "ParseTeasers",
    "sentences": "(sentences: split+parse)",
    "deduplicate": "Deduplicate",
    "write_corpus": "WriteCorpus",
    "accounting": "AccountCharacters",
}
FRAME = re.compile(r"^(?P<func>.*) \((?P<file>[^:()]+):(?P<line>\d+)\)$")


IDLE_LEAVES = (
    "Condition.wait (threading.py)",
    "_serve (grpc/_server.py)",
    "_run_channel_spin_thread.<locals>.channel_spin (grpc/_channel.py)",
    "Popen._try_wait (subprocess.py)",
    "Thread._wait_for_tstate_lock (threading.py)",
    "Event.wait (threading.py)",
    "Queue.get (queue.py)",
    "_wait_once (grpc/_common.py)",
)


def profile_storysift(set_dir: Path, work: Path, top: int = 25) -> dict:
    """py-spy over the whole process tree, then `summarize_profile`."""
    raw = work / "pyspy-raw.txt"
    py_spy = shutil.which(
        "py-spy", path=os.pathsep.join((str(Path(sys.executable).parent), os.environ["PATH"]))
    )
    if py_spy is None:
        raise SystemExit("--profile needs py-spy (pip install py-spy)")
    cmd = [py_spy, "record", "--subprocesses", "--format", "raw", "--rate", "50", "-o", str(raw), "--"]
    cmd += storysift_cmd(set_dir, work / "out-profile")
    return {"run": measure(cmd, work / "profile.log", env=child_env()), **summarize_profile(raw, top)}


def summarize_profile(raw: Path, top: int = 25) -> dict:
    """Busy samples (idle waits left out) per process kind, per stage (the module of the deepest
    storysift frame under transforms/), and the top functions by self time, overall and per stage."""
    by_stage: collections.Counter = collections.Counter()
    by_process: collections.Counter = collections.Counter()
    self_time: collections.Counter = collections.Counter()
    stage_self: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    total = idle = 0
    for line in raw.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        leaf = FRAME.match(frames[-1])
        name = f"{leaf['func']} ({leaf['file']})" if leaf else frames[-1]
        if name in IDLE_LEAVES or name.startswith("process "):
            idle += n
            continue
        total += n
        procs = [f for f in frames if f.startswith("process ")]
        kind = "SDK workers" if procs and "sdk_worker_main" in procs[-1] else "runner (main process)"
        by_process[kind] += n
        stage = "Beam runtime (coders, data plane, bundles) / other"
        if kind == "runner (main process)":
            stage = "runner process (FnApiRunner: shuffles, buffers, gRPC)"
        for frame in frames:
            m = FRAME.match(frame)
            if not m or "apache_beam/" in m["file"] or "site-packages" in m["file"]:
                continue
            parts = m["file"].replace("\\", "/").split("/")
            if len(parts) >= 2 and parts[-2] == "transforms":
                module = parts[-1].removesuffix(".py")
                stage = STAGE_OF_MODULE.get(module, f"transforms/{module}")
        by_stage[stage] += n
        self_time[name] += n
        stage_self[stage][name] += n

    def share(counter: collections.Counter, k: int) -> list[tuple[str, float]]:
        return [(name, round(100 * c / max(total, 1), 1)) for name, c in counter.most_common(k)]

    return {
        "busy_samples": total,
        "idle_samples_left_out": idle,
        "percent_by_process": share(by_process, 5),
        "percent_by_stage": share(by_stage, 20),
        "top_self": share(self_time, top),
        "top_self_by_stage": {s: share(c, 8) for s, c in stage_self.items()},
    }


# ------------------------------------------------------------------ main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--make-dumps", required=True, type=Path, help="path of the bench's make_dumps.py")
    ap.add_argument("--bbc", type=Path, help="article pool (default: bbc-dev/ beside make_dumps.py)")
    ap.add_argument("--config", type=Path, help="generator config (default: config-dev.json beside it)")
    ap.add_argument("--out", required=True, type=Path, help="work folder: sets, outputs, results.json")
    ap.add_argument("--pages", type=int, default=750, help="pages of the 1x set (about 4.3 MB per 1,000)")
    ap.add_argument("--scales", default="1,4,16", help="multiples of --pages to run")
    ap.add_argument("--memory-pages", type=int, default=0, help="also a storysift run on this many pages")
    ap.add_argument(
        "--memory-limit-mb",
        type=float,
        default=6144,
        help="kill a storysift run whose process tree passes this RSS (0: never); protects a shared machine",
    )
    ap.add_argument("--memory-workers", default="2", help="worker counts for the memory run: 2, 1 or 2,1")
    ap.add_argument("--reps", type=int, default=3, help="repetitions of the signature-stage timing")
    ap.add_argument(
        "--e2e-reps",
        type=int,
        default=1,
        help="rounds of the three end-to-end runs per scale, interleaved; the table shows each "
        "program's median run (a shared machine's load varies by tens of percent between runs)",
    )
    ap.add_argument("--signature-texts", type=int, default=10000, help="gold stories for the signature stage")
    ap.add_argument("--profile", action="store_true", help="py-spy a storysift run (see --profile-scale)")
    ap.add_argument("--profile-scale", type=int, default=0, help="scale to profile (default: the largest)")
    ap.add_argument("--skip-e2e", action="store_true", help="only references and the signature stage")
    ap.add_argument(
        "--signature-only", action="store_true", help="only the signature stage (sets must exist)"
    )
    args = ap.parse_args(argv)
    if args.e2e_reps < 1:
        ap.error(f"--e2e-reps must be at least 1, got {args.e2e_reps}")

    bench = args.make_dumps.resolve().parent
    bbc, config = args.bbc or bench / "bbc-dev", args.config or bench / "config-dev.json"
    args.out.mkdir(parents=True, exist_ok=True)
    scales = [int(s) for s in args.scales.split(",")]
    results: dict = {"pages_1x": args.pages, "scales": {}, "cpu_count": os.cpu_count()}
    results["load_average_start"] = os.getloadavg()
    for k in [] if args.signature_only else scales:
        pages = k * args.pages
        set_dir = make_set(args.make_dumps, bbc, config, pages, args.out / f"set-{pages}")
        size = set_size(set_dir)
        row: dict = {"set": size}
        print(f"[{k}x] {pages} pages, {size['bytes'] / 1e6:.1f} MB", file=sys.stderr, flush=True)
        rounds = []
        for r in range(args.e2e_reps):
            tag = f"{pages}" if args.e2e_reps == 1 else f"{pages}-r{r + 1}"
            one: dict = {}
            if not args.skip_e2e:
                run = run_storysift(set_dir, args.out, tag, args.memory_limit_mb)
                one["storysift"] = rates(run, size["bytes"], size["pages"])
            for engine in ("datasketch", "rensa"):
                ref = run_reference(engine, set_dir, args.out, tag)
                one[engine] = rates(ref, size["bytes"], ref.get("stories"))
            rounds.append(one)
        row.update(median_runs(rounds))
        if "storysift" in row:
            ours = row["storysift"]
            for engine in ("datasketch", "rensa"):
                row[f"storysift_over_{engine}_wall"] = round(ours["wall_s"] / row[engine]["wall_s"], 2)
                row[f"storysift_over_{engine}_cpu"] = round(ours["cpu_s"] / row[engine]["cpu_s"], 2)
        if len(rounds) > 1:
            row["rounds"] = rounds
            if "storysift" in row:
                row["storysift_over_datasketch_wall_by_round"] = [
                    round(one["storysift"]["wall_s"] / one["datasketch"]["wall_s"], 2) for one in rounds
                ]
        results["scales"][str(k)] = row
        (args.out / "results.json").write_text(json.dumps(results, indent=2))
    base = results["scales"].get(str(scales[0]), {})
    for k in scales[1:] if base else []:
        row = results["scales"][str(k)]
        for who in ("storysift", "datasketch", "rensa"):
            if who in row and who in base:
                row[f"{who}_time_ratio_vs_{scales[0]}x"] = {
                    "wall": round(row[who]["wall_s"] / base[who]["wall_s"], 2),
                    "cpu": round(row[who]["cpu_s"] / base[who]["cpu_s"], 2),
                    "data": round(row["set"]["bytes"] / base["set"]["bytes"], 2),
                }
    largest = args.out / f"set-{scales[-1] * args.pages}"
    print("[signature stage]", file=sys.stderr, flush=True)
    results["signature_stage"] = signature_stage(gold_texts(largest)[: args.signature_texts], args.reps)
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    if not args.signature_only:
        print("[text stages without Beam]", file=sys.stderr, flush=True)
        results["text_stages"] = text_stages(dump_files(largest))
        (args.out / "results.json").write_text(json.dumps(results, indent=2))
    if args.profile:
        print("[profile]", file=sys.stderr, flush=True)
        profiled = args.out / f"set-{(args.profile_scale or scales[-1]) * args.pages}"
        results["profile"] = profile_storysift(profiled, args.out)
        (args.out / "results.json").write_text(json.dumps(results, indent=2))
    if args.memory_pages:
        pages = args.memory_pages
        set_dir = make_set(args.make_dumps, bbc, config, pages, args.out / f"set-{pages}")
        size = set_size(set_dir)
        print(f"[memory] {pages} pages, {size['bytes'] / 1e6:.1f} MB", file=sys.stderr, flush=True)
        results["memory_run"] = {"set": size}
        for workers in (int(w) for w in args.memory_workers.split(",")):
            run = run_storysift(set_dir, args.out, f"{pages}-w{workers}", args.memory_limit_mb, workers)
            results["memory_run"][f"storysift_workers_{workers}"] = rates(run, size["bytes"], size["pages"])
            (args.out / "results.json").write_text(json.dumps(results, indent=2))
        (args.out / "results.json").write_text(json.dumps(results, indent=2))
    results["load_average_end"] = os.getloadavg()
    (args.out / "results.json").write_text(json.dumps(results, indent=2))
    print_table(results)
    return 0


def print_table(results: dict) -> None:
    print("| scale | MB | who | wall s | CPU s | peak tree RSS MB | MB/s | docs/s | exit |")
    print("|---|---|---|---|---|---|---|---|---|")
    for k, row in results["scales"].items():
        mb = row["set"]["bytes"] / 1e6
        for who in ("storysift", "datasketch", "rensa"):
            r = row.get(who)
            if r:
                print(
                    f"| {k}x | {mb:.1f} | {who} | {r['wall_s']} | {r['cpu_s']} | {r['peak_tree_rss_mb']} | "
                    f"{r.get('mb_per_s')} | {r.get('docs_per_s')} | {r['exit_code']} |"
                )
    for k, row in results["scales"].items():
        for r, one in enumerate(row.get("rounds", []), start=1):
            walls = ", ".join(f"{who} {run['wall_s']} s" for who, run in one.items())
            print(f"{k}x round {r}: {walls}")
        ratios = {key: v for key, v in row.items() if "_over_" in key or "_ratio_" in key}
        if ratios:
            print(f"{k}x ratios: {json.dumps(ratios)}")
    sig = results.get("signature_stage")
    if sig:
        print(f"\nsignature stage on {sig['texts']} gold stories ({sig['text_mb']} MB), best of reps:")
        for name, seconds in sig["seconds"].items():
            print(f"  {seconds:8.3f} s  {sig['texts_per_s'][name]:>10} texts/s  {name}")
        speedup = sig["storysift_signature_speedup_over_rensa_path"]
        print(f"  storysift signature over the rensa path: {speedup}x")
        print(f"  agreement: {json.dumps(sig['agreement'])}")
    text = results.get("text_stages")
    if text:
        print(
            f"\ntext stages without Beam on the largest set ({text['dumps']} dumps, {text['stories']} "
            f"stories), CPU s: {json.dumps(text['cpu_s'])}; total {text['cpu_s_total']}, "
            f"half of it (two perfectly parallel workers, no runtime): {text['two_worker_floor_s']} s"
        )
        largest = list(results["scales"].values())[-1] if results["scales"] else {}
        if "datasketch" in largest:
            ratio = round(text["two_worker_floor_s"] / largest["datasketch"]["wall_s"], 2)
            print(f"  that half over the datasketch reference's wall time: {ratio}x")
        parallel = text.get("two_processes_at_once")
        if parallel:
            wall = parallel["wall_s"]
            line = f"  split+parse+sketch, the two halves in two processes at once (no runner): {wall} s wall"
            if "datasketch" in largest:
                line += f", {round(wall / largest['datasketch']['wall_s'], 2)}x the datasketch reference's"
            print(line)
        print(
            f"  split+parse+sketch cut in two halves by dump id, each with its own memos and word caches: "
            f"{text['split_parse_sketch_cpu_s']['two halves']} CPU s against "
            f"{text['split_parse_sketch_cpu_s']['one loop']} in one loop "
            f"({text['two_halves_over_one_loop']}x)"
        )
    if "memory_run" in results:
        m = results["memory_run"]
        for key, run in m.items():
            if key != "set":
                print(f"\nmemory run, {key}: {m['set']['bytes'] / 1e6:.1f} MB -> {json.dumps(run)}")
    if "profile" in results:
        p = results["profile"]
        print(f"\nprofile ({p['busy_samples']} busy samples): by process {p['percent_by_process']}")
        for stage, pct in p["percent_by_stage"]:
            print(f"  {pct:5.1f}%  {stage}")
            for name, spct in p["top_self_by_stage"].get(stage, [])[:5]:
                print(f"           {spct:5.1f}%  {name}")


if __name__ == "__main__":
    if sys.argv[1:2] == [TEXT_HALF]:
        sys.exit(text_half_main(int(sys.argv[2])))
    sys.exit(main())
