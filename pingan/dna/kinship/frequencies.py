"""Allele frequency tables: the shipped East Asian table, or any table in the same CSV shape.

A table is ``marker,allele,frequency`` rows. Alleles are kept as the strings the lab writes
(``"9"``, ``"9.3"``): a microvariant is a different allele, never a rounded one.

**The floor.** An allele the table has never seen, or one rarer than the floor, is given the
floor frequency. The default floor is 0.001, the shipped table's own minimum (the norSTR
database applies it to its rare alleles); NRC II's 5/(2N) would need the sample size N, which
the shipped table does not state. A deployment with a table of known N passes
``floor=5 / (2 * n)`` to :meth:`FrequencyTable.from_csv`.
"""

from __future__ import annotations

import csv
import math
import re
from collections.abc import Iterable, Mapping
from functools import cache
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[3]
DEFAULT_PATH = REPO / "data" / "str-frequencies" / "east-asia.csv"
DEFAULT_NAME = "east-asia-v2023"
DEFAULT_SOURCE = (
    'norSTR "East Asia" allele frequency database v2023, Department of Forensic Sciences, Oslo '
    "(norSTR data package, MIT licence)"
)
DEFAULT_FLOOR = 0.001
_ALLELE = re.compile(r"^([0-9]{1,3})(?:\.([0-9]+))?$")

#: The 20 CODIS core loci, the set the 打拐 database and the calibration use.
CODIS_CORE = (
    "CSF1PO", "D1S1656", "D2S441", "D2S1338", "D3S1358", "D5S818", "D7S820", "D8S1179", "D10S1248",
    "D12S391", "D13S317", "D16S539", "D18S51", "D19S433", "D21S11", "D22S1045", "FGA", "TH01", "TPOX", "vWA",
)  # fmt: skip
#: CODIS core plus the two pentanucleotide loci Chinese kinship kits also type.
DEFAULT_SEARCH_MARKERS = (*CODIS_CORE, "Penta D", "Penta E")


def marker_key(name: str) -> str:
    """How marker names are compared: case, spaces, hyphens and underscores do not count
    (``Penta D`` = ``PentaD`` = ``penta_d``; ``VWA`` = ``vWA``)."""
    return "".join(ch for ch in name.casefold() if ch not in " _-")


def allele_sort_key(allele: str) -> tuple[int, float, str]:
    try:
        return (0, float(allele), allele)
    except ValueError:
        return (1, 0.0, allele)


def normalise_allele(value: object) -> str | None:
    """The canonical string of an allele, or None when it is not a repeat number.

    ``9``, ``"9"``, ``9.0`` → ``"9"``; ``9.3`` and ``"9.3"`` → ``"9.3"`` (a microvariant: nine
    repeats and three bases, not 9.3 of anything). One digit after the point at most.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        text = str(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            return None
        text = repr(value)
    elif isinstance(value, str):
        text = value.strip()
    else:
        return None
    match = _ALLELE.match(text)
    if match is None:
        return None
    integer, fraction = match.group(1), (match.group(2) or "").rstrip("0")
    number = int(integer)
    if number == 0 or len(fraction) > 1:
        return None
    return f"{number}.{fraction}" if fraction else str(number)


class FrequencyTable:
    """Allele frequencies per marker, with the floor for rare and unseen alleles."""

    def __init__(
        self,
        frequencies: Mapping[str, Mapping[str, float]],
        *,
        name: str,
        source: str = "",
        floor: float = DEFAULT_FLOOR,
    ) -> None:
        if not 0 < floor < 1:
            raise ValueError(f"floor must be in (0, 1), got {floor}")
        self.name = name
        self.source = source
        self.floor = floor
        self._freq: dict[str, dict[str, float]] = {}
        for marker, alleles in frequencies.items():
            ordered = sorted(alleles, key=allele_sort_key)
            self._freq[marker] = {allele: max(float(alleles[allele]), floor) for allele in ordered}
        self.markers: tuple[str, ...] = tuple(self._freq)
        self._by_key = {marker_key(marker): marker for marker in self.markers}
        self._arrays: dict[str, np.ndarray] = {}

    @classmethod
    def from_csv(
        cls, path: str | Path, *, name: str | None = None, source: str = "", floor: float = DEFAULT_FLOOR
    ) -> FrequencyTable:
        """Read a ``marker,allele,frequency`` CSV; raises ValueError naming the bad line."""
        path = Path(path)
        frequencies: dict[str, dict[str, float]] = {}
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            if reader.fieldnames is None or not {"marker", "allele", "frequency"} <= set(reader.fieldnames):
                raise ValueError(f"{path}: the header must name marker, allele and frequency")
            for line, row in enumerate(reader, start=2):
                marker = (row["marker"] or "").strip()
                allele = normalise_allele(row["allele"] or "")
                try:
                    frequency = float(row["frequency"])
                except (TypeError, ValueError):
                    frequency = math.nan
                if not marker or allele is None or not 0 < frequency <= 1:
                    raise ValueError(f"{path}:{line}: bad row {row!r}")
                if allele in frequencies.setdefault(marker, {}):
                    raise ValueError(f"{path}:{line}: allele {allele} of {marker} given twice")
                frequencies[marker][allele] = frequency
        if not frequencies:
            raise ValueError(f"{path}: no frequencies")
        return cls(frequencies, name=name or path.stem, source=source or str(path), floor=floor)

    def __repr__(self) -> str:
        return f"<FrequencyTable {self.name}: {len(self.markers)} markers, floor {self.floor}>"

    def canonical_marker(self, name: str) -> str | None:
        """The table's spelling of a marker name, or None when the table does not know it."""
        return self._by_key.get(marker_key(name))

    def alleles(self, marker: str) -> tuple[str, ...]:
        """The table's alleles of a marker, in repeat order."""
        return tuple(self._freq[marker])

    def freq(self, marker: str, allele: str) -> float:
        """The allele's frequency; an allele the table has not seen gets the floor."""
        return self._freq[marker].get(allele, self.floor)

    def freq_array(self, marker: str, alleles: Iterable[str]) -> np.ndarray:
        table = self._freq[marker]
        return np.array([table.get(allele, self.floor) for allele in alleles], dtype=np.float64)

    def table_freqs(self, marker: str) -> np.ndarray:
        """The frequencies of :meth:`alleles` (read-only, cached)."""
        array = self._arrays.get(marker)
        if array is None:
            array = np.array(list(self._freq[marker].values()), dtype=np.float64)
            array.setflags(write=False)
            self._arrays[marker] = array
        return array


@cache
def default_table() -> FrequencyTable:
    """The shipped table, ``data/str-frequencies/east-asia.csv`` (read once)."""
    return FrequencyTable.from_csv(DEFAULT_PATH, name=DEFAULT_NAME, source=DEFAULT_SOURCE)
