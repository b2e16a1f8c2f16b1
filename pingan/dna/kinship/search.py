"""Searching the whole profile store at once: ``ProfileMatrix`` and ``search``.

**Storage.** One ``uint16`` genotype code per locus and profile, stored locus by locus
(``codes[locus, row]``), plus the profile's ``int64`` key: 20 loci take 40 + 8 = 48 bytes per
profile, the default 22 (CODIS core + Penta D/E) 52. A code numbers the unordered pair of
allele indices (i ≤ j) of the locus's allele list: ``1 + j(j+1)/2 + i``; 0 is *not typed*.
The allele list starts as the frequency table's alleles and grows when a profile brings an
allele the table has not seen (that allele then gets the table's floor frequency).

**A query** builds, per locus, the log10 LR of every genotype code the locus can hold (a few
hundred numbers, computed by ``engine.locus_lrs``, the same formulas as a single comparison),
then scans the matrix in chunks that stay in the CPU cache: per locus one gather
(``np.take``) and one add. Loci the query does not type contribute nothing. Only rows at or
above the threshold leave the chunk loop; their inconsistent loci are counted afterwards.

The search is symmetric where the data are: a duo query with a parent finds stored children
and a duo query with a child finds stored parents.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import engine
from .engine import KinshipSettings
from .frequencies import DEFAULT_SEARCH_MARKERS, FrequencyTable, default_table
from .profile import Profile

CODE_DTYPE = np.uint16
KEY_DTYPE = np.int64
#: The most alleles one locus may hold: their genotype codes still fit in uint16.
MAX_ALLELES = 361
DEFAULT_CHUNK = 16_384
QUERY_SIZES = {"trio": 2, "duo": 1, "sibling": 1, "second-degree": 1}


@dataclass(frozen=True)
class Hit:
    key: int
    log10_lr: float
    inconsistent: int


def genotype_codes(i: np.ndarray, j: np.ndarray) -> np.ndarray:
    """The code of the unordered allele-index pairs (i, j); negative indices mean not typed."""
    i = np.asarray(i, dtype=np.int64)
    j = np.asarray(j, dtype=np.int64)
    lo = np.minimum(i, j)
    hi = np.maximum(i, j)
    code = 1 + hi * (hi + 1) // 2 + lo
    return np.where(lo < 0, 0, code).astype(CODE_DTYPE)


@lru_cache(maxsize=64)
def code_alleles(n_alleles: int) -> tuple[np.ndarray, np.ndarray]:
    """(lo, hi) allele indices of codes 1 … n(n+1)/2, in code order."""
    hi, lo = np.nonzero(np.tril(np.ones((n_alleles, n_alleles), dtype=bool)))
    # np.nonzero walks row by row: row hi, columns lo ≤ hi, which is code order.
    lo.setflags(write=False)
    hi.setflags(write=False)
    return lo, hi


class ProfileMatrix:
    """The in-memory search store: ``len(markers)`` uint16 codes and one int64 key per profile."""

    def __init__(
        self, markers: Sequence[str] = DEFAULT_SEARCH_MARKERS, table: FrequencyTable | None = None, *, capacity: int = 0
    ) -> None:
        table = table or default_table()
        unknown = [marker for marker in markers if marker not in table.markers]
        if unknown:
            raise ValueError(f"markers not in the frequency table {table.name}: {', '.join(unknown)}")
        if len(set(markers)) != len(markers):
            raise ValueError("markers repeat")
        self.markers: tuple[str, ...] = tuple(markers)
        self.table_name = table.name
        self._vocab: list[list[str]] = [list(table.alleles(marker)) for marker in self.markers]
        self._index: list[dict[str, int]] = [{a: i for i, a in enumerate(v)} for v in self._vocab]
        self._codes = np.zeros((len(self.markers), capacity), dtype=CODE_DTYPE)
        self._keys = np.zeros(capacity, dtype=KEY_DTYPE)
        self._n = 0

    # --- building ---------------------------------------------------------------------------

    @classmethod
    def build(
        cls,
        rows: Iterable[tuple[int, Profile]],
        table: FrequencyTable | None = None,
        *,
        markers: Sequence[str] = DEFAULT_SEARCH_MARKERS,
    ) -> ProfileMatrix:
        """A matrix of (key, profile) rows; a key given twice keeps its last profile."""
        rows = list(rows)
        matrix = cls(markers, table, capacity=len(rows))
        for key, profile in rows:
            matrix.add(key, profile)
        return matrix

    @classmethod
    def from_allele_indices(
        cls,
        keys: np.ndarray,
        alleles: np.ndarray,
        table: FrequencyTable | None = None,
        *,
        markers: Sequence[str] = DEFAULT_SEARCH_MARKERS,
    ) -> ProfileMatrix:
        """Bulk load: ``alleles[n, locus, 2]`` indices into each marker's ``table.alleles()``,
        negative (or 255 in uint8) for not typed. For simulations and benchmarks."""
        matrix = cls(markers, table, capacity=0)
        keys = np.asarray(keys, dtype=KEY_DTYPE)
        if len(np.unique(keys)) != len(keys):
            raise ValueError("keys repeat")
        alleles = np.asarray(alleles)
        if alleles.shape != (len(keys), len(matrix.markers), 2):
            raise ValueError(f"alleles must have shape (n, {len(matrix.markers)}, 2), not {alleles.shape}")
        codes = np.zeros((len(matrix.markers), len(keys)), dtype=CODE_DTYPE)
        for locus, vocab in enumerate(matrix._vocab):  # locus by locus: small temporaries
            pair = alleles[:, locus, :].astype(np.int64)
            if alleles.dtype == np.uint8:
                pair[pair == 255] = -1
            if pair.max(initial=-1) >= len(vocab):
                raise ValueError(f"allele index out of range at {matrix.markers[locus]}")
            codes[locus] = genotype_codes(pair[:, 0], pair[:, 1])
        matrix._codes = codes
        matrix._keys = keys.copy()
        matrix._n = len(keys)
        return matrix

    @classmethod
    def from_codes(
        cls,
        keys: np.ndarray,
        codes: np.ndarray,
        table: FrequencyTable | None = None,
        *,
        markers: Sequence[str] = DEFAULT_SEARCH_MARKERS,
    ) -> ProfileMatrix:
        """Bulk load genotype codes ``codes[locus, row]`` over the table's allele lists (taken
        as is, not copied: for benchmarks that build 10 million rows block by block)."""
        matrix = cls(markers, table, capacity=0)
        keys = np.asarray(keys, dtype=KEY_DTYPE)
        if codes.dtype != CODE_DTYPE or codes.shape != (len(matrix.markers), len(keys)):
            raise ValueError(f"codes must be uint16 of shape ({len(matrix.markers)}, {len(keys)})")
        for locus, vocab in enumerate(matrix._vocab):
            if int(codes[locus].max(initial=0)) > len(vocab) * (len(vocab) + 1) // 2:
                raise ValueError(f"genotype code out of range at {matrix.markers[locus]}")
        matrix._codes = np.ascontiguousarray(codes)
        matrix._keys = keys
        matrix._n = len(keys)
        return matrix

    def _allele_index(self, locus: int, allele: str) -> int:
        index = self._index[locus]
        found = index.get(allele)
        if found is None:
            if len(self._vocab[locus]) >= MAX_ALLELES:
                raise ValueError(f"{self.markers[locus]} holds {MAX_ALLELES} alleles already")
            found = index[allele] = len(self._vocab[locus])
            self._vocab[locus].append(allele)
        return found

    def encode(self, profile: Profile) -> np.ndarray:
        """The profile's codes on this matrix's markers (markers it does not hold are dropped)."""
        codes = np.zeros(len(self.markers), dtype=CODE_DTYPE)
        for locus, marker in enumerate(self.markers):
            genotype = profile.get(marker)
            if genotype is not None:
                i = self._allele_index(locus, genotype[0])
                j = self._allele_index(locus, genotype[1])
                codes[locus] = genotype_codes(np.array(i), np.array(j))
        return codes

    def _row(self, key: int) -> int | None:
        rows = np.flatnonzero(self._keys[: self._n] == key)
        return int(rows[0]) if len(rows) else None

    def add(self, key: int, profile: Profile) -> None:
        """Store a profile under ``key``, replacing the profile the key had."""
        codes = self.encode(profile)
        row = self._row(key)
        if row is None:
            if self._n == self._keys.shape[0]:
                self._grow(max(16, int(self._n * 1.5)))
            row = self._n
            self._n += 1
            self._keys[row] = key
        self._codes[:, row] = codes

    def remove(self, key: int) -> bool:
        """Forget a key's profile; False when the key was not stored."""
        row = self._row(key)
        if row is None:
            return False
        last = self._n - 1
        if row != last:
            self._codes[:, row] = self._codes[:, last]
            self._keys[row] = self._keys[last]
        self._n = last
        return True

    def _grow(self, capacity: int) -> None:
        codes = np.zeros((len(self.markers), capacity), dtype=CODE_DTYPE)
        codes[:, : self._n] = self._codes[:, : self._n]
        keys = np.zeros(capacity, dtype=KEY_DTYPE)
        keys[: self._n] = self._keys[: self._n]
        self._codes, self._keys = codes, keys

    def compact(self) -> None:
        """Drop spare capacity (after a bulk of adds)."""
        self._codes = np.ascontiguousarray(self._codes[:, : self._n])
        self._keys = self._keys[: self._n].copy()

    # --- reading ----------------------------------------------------------------------------

    def __len__(self) -> int:
        return self._n

    def __contains__(self, key: object) -> bool:
        return isinstance(key, int | np.integer) and self._row(int(key)) is not None

    @property
    def keys(self) -> np.ndarray:
        return self._keys[: self._n]

    @property
    def codes(self) -> np.ndarray:
        """codes[locus, row] (a view: do not write)."""
        return self._codes[:, : self._n]

    def vocabulary(self, marker: str) -> tuple[str, ...]:
        return tuple(self._vocab[self.markers.index(marker)])

    @property
    def nbytes(self) -> int:
        """Bytes the stored profiles take (codes and keys, without spare capacity)."""
        return self._n * (len(self.markers) * np.dtype(CODE_DTYPE).itemsize + np.dtype(KEY_DTYPE).itemsize)

    @property
    def bytes_per_profile(self) -> int:
        return len(self.markers) * np.dtype(CODE_DTYPE).itemsize + np.dtype(KEY_DTYPE).itemsize

    def profile(self, key: int) -> Profile:
        """The stored profile of a key (KeyError if none)."""
        row = self._row(key)
        if row is None:
            raise KeyError(key)
        loci = {}
        for locus, marker in enumerate(self.markers):
            code = int(self._codes[locus, row])
            if code:
                lo, hi = code_alleles(len(self._vocab[locus]))
                loci[marker] = (self._vocab[locus][lo[code - 1]], self._vocab[locus][hi[code - 1]])
        return Profile(loci)

    # --- persistence ------------------------------------------------------------------------

    def save(self, path: str | Path) -> None:
        """Write to ``path`` (NumPy .npz, no pickles)."""
        meta = {"markers": list(self.markers), "vocabulary": self._vocab, "table": self.table_name}
        with Path(path).open("wb") as handle:
            np.savez(handle, codes=self.codes, keys=self.keys, meta=np.array(json.dumps(meta)))

    @classmethod
    def load(cls, path: str | Path, table: FrequencyTable | None = None) -> ProfileMatrix:
        with np.load(Path(path), allow_pickle=False) as data:
            meta = json.loads(str(data["meta"]))
            matrix = cls(meta["markers"], table, capacity=0)
            matrix._vocab = [list(v) for v in meta["vocabulary"]]
            matrix._index = [{a: i for i, a in enumerate(v)} for v in matrix._vocab]
            matrix._codes = np.ascontiguousarray(data["codes"], dtype=CODE_DTYPE)
            matrix._keys = np.array(data["keys"], dtype=KEY_DTYPE)
            matrix._n = len(matrix._keys)
            matrix.table_name = meta.get("table", matrix.table_name)
        return matrix


# --- Queries -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueryTables:
    """Per locus: log10 LR and inconsistency of every genotype code (index 0 = not typed)."""

    log10: list[np.ndarray]
    inconsistent: list[np.ndarray]
    active: list[int]


def query_tables(
    matrix: ProfileMatrix,
    mode: str,
    query: Sequence[Profile],
    table: FrequencyTable | None = None,
    settings: KinshipSettings | None = None,
) -> QueryTables:
    if mode not in QUERY_SIZES:
        raise ValueError(f"unknown mode {mode!r}; one of {', '.join(engine.MODES)}")
    if len(query) != QUERY_SIZES[mode]:
        raise ValueError(f"{mode} takes {QUERY_SIZES[mode]} query profile(s), not {len(query)}")
    table = table or default_table()
    settings = settings or KinshipSettings()
    log10_tables: list[np.ndarray] = []
    inconsistent_tables: list[np.ndarray] = []
    active: list[int] = []
    for locus, marker in enumerate(matrix.markers):
        vocab = matrix._vocab[locus]
        n_codes = 1 + len(vocab) * (len(vocab) + 1) // 2
        genotypes = [person.get(marker) for person in query]
        if all(g is None for g in genotypes) or (mode != "trio" and None in genotypes):
            log10_tables.append(np.zeros(n_codes))
            inconsistent_tables.append(np.zeros(n_codes, dtype=bool))
            continue
        if marker not in table.markers:
            raise ValueError(f"marker {marker} is not in the frequency table {table.name}")
        local = list(vocab)
        index = dict(matrix._index[locus])
        for genotype in genotypes:
            for allele in genotype or ():
                if allele not in index:
                    index[allele] = len(local)
                    local.append(allele)
        f = table.freq_array(marker, local)
        q = [None if g is None else (index[g[0]], index[g[1]]) for g in genotypes]
        lo, hi = code_alleles(len(vocab))
        lr, bad = engine.locus_lrs(mode, q, lo, hi, f, engine.locus_params(table, marker, settings))
        log10_tables.append(np.concatenate(([0.0], np.log10(lr))))
        inconsistent_tables.append(np.concatenate(([False], bad)))
        active.append(locus)
    return QueryTables(log10_tables, inconsistent_tables, active)


def _scan(
    codes: np.ndarray, tables: QueryTables, *, cut: float | None, out: np.ndarray | None, chunk: int
) -> tuple[np.ndarray, np.ndarray]:
    """Sum the active loci's log10 LRs chunk by chunk. With ``out`` every score is written
    there; with ``cut`` only (rows, scores) at or above it are returned."""
    n = codes.shape[1]
    active = tables.active
    acc_buffer = np.empty(min(chunk, max(n, 1)))
    tmp_buffer = np.empty_like(acc_buffer)
    found_rows: list[np.ndarray] = []
    found_scores: list[np.ndarray] = []
    for start in range(0, n, chunk):
        stop = min(start + chunk, n)
        size = stop - start
        acc = out[start:stop] if out is not None else acc_buffer[:size]
        tmp = tmp_buffer[:size]
        if not active:
            acc.fill(0.0)
        else:
            # mode="clip": codes are always in range, and "raise" buffers ``out`` (slow).
            np.take(tables.log10[active[0]], codes[active[0], start:stop], out=acc, mode="clip")
            for locus in active[1:]:
                np.take(tables.log10[locus], codes[locus, start:stop], out=tmp, mode="clip")
                np.add(acc, tmp, out=acc)
        if cut is not None:
            rows = np.flatnonzero(acc >= cut)
            if len(rows):
                found_rows.append(rows + start)
                found_scores.append(acc[rows].copy())
    if not found_rows:
        return np.zeros(0, dtype=np.int64), np.zeros(0)
    return np.concatenate(found_rows), np.concatenate(found_scores)


def scores(
    matrix: ProfileMatrix,
    mode: str,
    query: Sequence[Profile],
    *,
    table: FrequencyTable | None = None,
    settings: KinshipSettings | None = None,
    chunk: int = DEFAULT_CHUNK,
) -> np.ndarray:
    """log10 LR of the query against every stored row, in row order (``matrix.keys``)."""
    tables = query_tables(matrix, mode, query, table, settings)
    out = np.empty(len(matrix))
    _scan(matrix.codes, tables, cut=None, out=out, chunk=chunk)
    return out


def inconsistent_counts(matrix: ProfileMatrix, tables: QueryTables, rows: np.ndarray) -> np.ndarray:
    counts = np.zeros(len(rows), dtype=np.int64)
    for locus in tables.active:
        counts += tables.inconsistent[locus][matrix.codes[locus, rows]]
    return counts


def search(
    matrix: ProfileMatrix,
    mode: str,
    query: Sequence[Profile],
    *,
    table: FrequencyTable | None = None,
    settings: KinshipSettings | None = None,
    threshold_lr: float = engine.DEFAULT_THRESHOLD_LR,
    limit: int | None = 50,
    chunk: int = DEFAULT_CHUNK,
) -> list[Hit]:
    """Stored profiles whose LR with the query reaches ``threshold_lr``, best first.

    Query shapes: duo [parent] (finds children, or parents for a query child); trio
    [mother, father] against stored children; sibling [person]; second-degree [person].
    """
    if not threshold_lr > 0:
        raise ValueError("threshold_lr must be positive")
    tables = query_tables(matrix, mode, query, table, settings)
    rows, found = _scan(matrix.codes, tables, cut=math.log10(threshold_lr), out=None, chunk=chunk)
    order = np.lexsort((matrix.keys[rows], -found))
    if limit is not None:
        order = order[:limit]
    rows, found = rows[order], found[order]
    counts = inconsistent_counts(matrix, tables, rows)
    keys = matrix.keys[rows]
    return [
        Hit(key=int(key), log10_lr=float(score), inconsistent=int(count))
        for key, score, count in zip(keys, found, counts, strict=True)
    ]
