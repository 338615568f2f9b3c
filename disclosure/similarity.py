"""Near-duplicate pages across two releases without comparing every pair: shingles and MinHash.

Each page becomes the set of its 4-word shingles (analyzer terms, so case and punctuation do
not matter). A MinHash signature of 64 values estimates the Jaccard similarity of two such
sets; pages whose signatures agree on any of 32 bands of 2 values become candidate pairs
(a pair with Jaccard 0.3 is found with probability 0.95), and only candidates are compared
exactly. Hashes are fixed (crc32 and seeded multipliers), so results are deterministic.
"""

from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Hashable, Iterable, Sequence
from typing import TypeVar

import numpy as np

from foiarchive.index.analysis import terms

SHINGLE_WORDS = 4
SIGNATURE_SIZE = 64
BAND_ROWS = 2
#: A band value shared by more pages than this is boilerplate; it proposes no candidates.
MAX_BUCKET = 64

K = TypeVar("K", bound=Hashable)
_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)
_rng = np.random.default_rng(20261128)
_A = _rng.integers(1, 2**63, size=SIGNATURE_SIZE, dtype=np.uint64) | np.uint64(1)
_B = _rng.integers(0, 2**63, size=SIGNATURE_SIZE, dtype=np.uint64)
_POWERS = np.array([1_000_003**i for i in range(SHINGLE_WORDS)][::-1], dtype=np.uint64)


class ShingledPage:
    """A page's shingle hashes (a set for exact comparison) and its MinHash signature."""

    __slots__ = ("shingles", "signature")

    def __init__(self, text: str, term_hashes: dict[str, int]) -> None:
        words = terms(text)
        for word in words:
            if word not in term_hashes:
                term_hashes[word] = zlib.crc32(word.encode())
        codes = np.fromiter((term_hashes[w] for w in words), dtype=np.uint64, count=len(words))
        if len(codes) >= SHINGLE_WORDS:
            windows = np.lib.stride_tricks.sliding_window_view(codes, SHINGLE_WORDS)
            with np.errstate(over="ignore"):
                hashes = np.unique((windows * _POWERS).sum(axis=1, dtype=np.uint64))
        else:
            hashes = np.unique(codes)
        self.shingles = hashes  # sorted, distinct: 8 bytes a shingle, not a Python set's ~60
        if len(hashes):
            with np.errstate(over="ignore"):
                permuted = (np.outer(_A, hashes) + _B[:, None]) & _MASK
            self.signature: tuple[int, ...] = tuple(permuted.min(axis=1).tolist())
        else:
            self.signature = ()


def similarity(a: ShingledPage, b: ShingledPage) -> float:
    """How much of the shorter page the other holds: 1.0 when one page's text contains the
    other's (a page re-released with passages blacked out still scores high)."""
    if not len(a.shingles) or not len(b.shingles):
        return 0.0
    shared = len(np.intersect1d(a.shingles, b.shingles, assume_unique=True))
    return shared / min(len(a.shingles), len(b.shingles)) if shared >= 2 else 0.0


def candidate_pairs(
    old: Sequence[tuple[K, ShingledPage]], new: Sequence[tuple[K, ShingledPage]]
) -> set[tuple[K, K]]:
    """(old key, new key) pairs that share at least one MinHash band."""
    buckets: dict[tuple[int, tuple[int, ...]], tuple[list[K], list[K]]] = defaultdict(
        lambda: ([], [])
    )
    for side, pages in ((0, old), (1, new)):
        for key, page in pages:
            for band, start in enumerate(range(0, len(page.signature), BAND_ROWS)):
                buckets[(band, page.signature[start : start + BAND_ROWS])][side].append(key)
    pairs: set[tuple[K, K]] = set()
    for olds, news in buckets.values():
        if olds and news and len(olds) <= MAX_BUCKET and len(news) <= MAX_BUCKET:
            pairs.update((o, n) for o in olds for n in news)
    return pairs


def best_pairs(scored: Iterable[tuple[float, K, K]], threshold: float) -> list[tuple[float, K, K]]:
    """One-to-one pairs, best score first (ties broken by the keys, for determinism)."""
    taken_old: set[K] = set()
    taken_new: set[K] = set()
    chosen = []
    for score, old, new in sorted(scored, key=lambda t: (-t[0], str(t[1]), str(t[2]))):
        if score < threshold or old in taken_old or new in taken_new:
            continue
        taken_old.add(old)
        taken_new.add(new)
        chosen.append((score, old, new))
    return chosen
