"""Reference near-duplicate removal "the usual way", for benchmarks/throughput.py to time.

  python benchmarks/reference_dedup.py --engine datasketch --gold SET/gold.jsonl --out clusters.jsonl
  python benchmarks/reference_dedup.py --engine rensa      --gold SET/gold.jsonl --out clusters.jsonl

Input: the gold stories of a generated set (gold.jsonl lines whose kind is not boilerplate), i.e.
perfectly segmented stories: the reference does only dedup, no reading of dumps, no splitting, no
parsing. Shingles are storysift's (lowercased `\\w+` words, 5-grams joined by a space; a text of
fewer words is one shingle), threshold 0.8, 128 permutations, seed 1.

- datasketch: `MinHash.bulk` + `MinHashLSH(threshold)` insert then query, union-find (as the
  bench's oracle baseline does; LSH candidates are not re-verified).
- rensa: `RMinHash(num_perm, seed).update(shingles)` per story, `RMinHashLSH` (rensa requires
  num_perm % bands == 0: 16 bands of 8 rows, a lower effective threshold than datasketch's 9 x 13)
  insert then query, candidates kept when `jaccard >= threshold` (rensa's documented usage), union-find.

Writes one line per story {"id", "cluster"} and prints a JSON object of counts and stage timings.
Standalone on purpose: it imports nothing from storysift.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time

WORD = re.compile(r"\w+")


def shingle_list(text: str, n: int) -> list[str]:
    words = WORD.findall(text.lower())
    if not words:
        return []
    if len(words) < n:
        return [" ".join(words)]
    return [" ".join(words[i : i + n]) for i in range(len(words) - n + 1)]


def load_gold(path: str) -> list[tuple[str, str]]:
    stories = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            g = json.loads(line)
            if g["kind"] != "boilerplate":
                stories.append((f"{g['uri']}#{g['record']}@{g['start']}", g["text"]))
    return stories


class UnionFind:
    def __init__(self, n: int):
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def run_datasketch(shingles: list[list[str]], threshold: float, num_perm: int, seed: int, timings: dict):
    from datasketch import MinHash, MinHashLSH

    t = time.perf_counter()
    hashes = MinHash.bulk([[s.encode("utf-8") for s in sh] for sh in shingles], num_perm=num_perm, seed=seed)
    timings["signatures"] = time.perf_counter() - t
    t = time.perf_counter()
    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    for i, m in enumerate(hashes):
        lsh.insert(i, m)
    timings["lsh_insert"] = time.perf_counter() - t
    t = time.perf_counter()
    uf = UnionFind(len(hashes))
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            uf.union(i, j)
    timings["lsh_query_union"] = time.perf_counter() - t
    return uf


def run_rensa(shingles: list[list[str]], threshold: float, num_perm: int, seed: int, timings: dict):
    from rensa import RMinHash, RMinHashLSH

    t = time.perf_counter()
    hashes = []
    for sh in shingles:
        m = RMinHash(num_perm=num_perm, seed=seed)
        m.update(sh)
        hashes.append(m)
    timings["signatures"] = time.perf_counter() - t
    t = time.perf_counter()
    lsh = RMinHashLSH(threshold=threshold, num_perm=num_perm, num_bands=16)
    for i, m in enumerate(hashes):
        lsh.insert(i, m)
    timings["lsh_insert"] = time.perf_counter() - t
    t = time.perf_counter()
    uf = UnionFind(len(hashes))
    for i, m in enumerate(hashes):
        for j in lsh.query(m):
            if j != i and m.jaccard(hashes[j]) >= threshold:
                uf.union(i, j)
    timings["lsh_query_union"] = time.perf_counter() - t
    return uf


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--engine", choices=("datasketch", "rensa"), required=True)
    ap.add_argument("--gold", required=True, help="gold.jsonl of a generated set")
    ap.add_argument("--out", required=True, help="clusters JSONL to write")
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--shingle-size", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args(argv)

    timings: dict[str, float] = {}
    started = time.perf_counter()
    t = time.perf_counter()
    stories = load_gold(args.gold)
    timings["load"] = time.perf_counter() - t
    t = time.perf_counter()
    shingles = [shingle_list(text, args.shingle_size) for _, text in stories]
    # A wordless story has no shingles: it is its own cluster (its empty signature would match
    # every other wordless one).
    usable = [i for i, sh in enumerate(shingles) if sh]
    timings["shingles"] = time.perf_counter() - t
    engine = run_datasketch if args.engine == "datasketch" else run_rensa
    uf = engine([shingles[i] for i in usable], args.threshold, args.num_perm, args.seed, timings)
    t = time.perf_counter()
    cluster = {i: i for i in range(len(stories))}
    for k, i in enumerate(usable):
        cluster[i] = usable[uf.find(k)]
    with open(args.out, "w", encoding="utf-8") as fh:
        for i, (sid, _) in enumerate(stories):
            fh.write(json.dumps({"id": sid, "cluster": stories[cluster[i]][0]}) + "\n")
    timings["write"] = time.perf_counter() - t
    timings["total"] = time.perf_counter() - started
    clusters = len(set(cluster.values()))
    text_bytes = sum(len(text.encode("utf-8")) for _, text in stories)
    result = {
        "engine": args.engine,
        "stories": len(stories),
        "story_text_bytes": text_bytes,
        "clusters": clusters,
        "dropped": len(stories) - clusters,
        "timings": {k: round(v, 3) for k, v in timings.items()},
    }
    json.dump(result, sys.stdout)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
