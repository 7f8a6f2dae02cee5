"""A prototype of a vectorised MinHash signature stage (benchmark only; not used by storysift).

What it shows: most of the signature stage's cost today is one Python-level sha1 call per shingle
(plus building each shingle string) before datasketch's numpy permutations. Hashing each distinct
*word* once (a per-process cache), combining the n word hashes of a shingle with numpy, and applying
the permutations to a whole batch of stories at once removes every per-shingle Python step.

Same shingles as storysift (lowercased `\\w+` words, n-grams; a text of fewer words is one
shingle), deterministic on every worker (blake2b word hashes and a seeded numpy generator, never
Python's salted `hash()`), but NOT the same values as datasketch's `MinHash` (which hashes the
shingle's UTF-8 bytes with sha1): estimates of Jaccard agree in distribution, not bit for bit.
"""

from __future__ import annotations

import hashlib
import re

import numpy as np

WORD = re.compile(r"\w+")
_MULT = np.uint64(0x9E3779B97F4A7C15)  # combines word hashes into a shingle hash (mod 2**64)


class FastMinHash:
    def __init__(self, num_perm: int = 128, seed: int = 1, n: int = 5):
        rng = np.random.Generator(np.random.PCG64(seed))
        # (a * x + b) mod 2**32 with odd a: a permutation of the 32-bit shingle hashes per column
        self.a = rng.integers(0, 2**32, size=(num_perm, 1), dtype=np.uint32) | np.uint32(1)
        self.b = rng.integers(0, 2**32, size=(num_perm, 1), dtype=np.uint32)
        self.n = n
        self._words: dict[str, int] = {}

    def _word_hashes(self, text: str) -> np.ndarray:
        cache = self._words
        out = []
        for w in WORD.findall(text.lower()):
            h = cache.get(w)
            if h is None:
                h = cache[w] = int.from_bytes(
                    hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest(), "little"
                )
            out.append(h)
        return np.array(out, dtype=np.uint64)

    def shingle_hashes(self, text: str) -> np.ndarray:
        """32-bit hashes of the distinct shingles of a text (order-sensitive combination of n words)."""
        w = self._word_hashes(text)
        if len(w) == 0:
            return w.astype(np.uint32)
        k = min(self.n, len(w))
        m = len(w) - k + 1
        acc = np.zeros(m, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for j in range(k):
                acc = acc * _MULT + w[j : j + m]
        return np.unique((acc >> np.uint64(32)).astype(np.uint32))

    def signatures(self, texts: list[str]) -> np.ndarray:
        """(len(texts), num_perm) uint32 signatures; a wordless text gets all 0xFFFFFFFF."""
        parts = [self.shingle_hashes(t) for t in texts]
        lengths = np.array([len(p) for p in parts])
        sig = np.full((len(self.a), len(texts)), 0xFFFFFFFF, dtype=np.uint32)
        nonempty = np.flatnonzero(lengths)
        if len(nonempty):
            flat = np.concatenate([parts[i] for i in nonempty])
            starts = np.concatenate(([0], np.cumsum(lengths[nonempty])[:-1]))
            with np.errstate(over="ignore"):
                values = self.a * flat[None, :] + self.b  # (num_perm, shingles), mod 2**32
            sig[:, nonempty] = np.minimum.reduceat(values, starts, axis=1)
        return sig.T
