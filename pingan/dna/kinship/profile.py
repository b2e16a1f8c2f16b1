"""STR profiles: marker → two alleles, validated at the edge.

``parse_profile`` is the one way in from outside (a lab export, the examiner's form, the
``kinship`` command). It collects every problem before refusing, so a lab sees all its
mistakes at once, and each message names the marker.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from .frequencies import FrequencyTable, allele_sort_key, default_table, normalise_allele

Genotype = tuple[str, str]


def _(message: str) -> str:
    """gettext when Django is configured (the app, the command); the text as is otherwise
    (the benchmarks import the engine without Django)."""
    try:
        from django.conf import settings

        if settings.configured:
            from django.utils.translation import gettext

            return gettext(message)
    except ImportError:  # pragma: no cover - Django is a dependency of the project
        pass
    return message


class ProfileError(ValueError):
    """A profile that cannot be used; ``errors`` lists every problem, one per marker."""

    def __init__(self, errors: Sequence[str]) -> None:
        self.errors = list(errors)
        super().__init__("；".join(self.errors))


class Profile(Mapping[str, Genotype]):
    """An immutable STR profile: marker → (allele, allele), the pair in repeat order.

    A homozygote is ``("12", "12")``. Markers not typed are simply absent. Build one with
    :func:`parse_profile`; the constructor trusts its input.
    """

    __slots__ = ("_hash", "_loci")

    def __init__(self, loci: Mapping[str, Sequence[str]] | None = None) -> None:
        ordered: dict[str, Genotype] = {}
        for marker, pair in (loci or {}).items():
            first, second = sorted((str(pair[0]), str(pair[-1])), key=allele_sort_key)
            ordered[marker] = (first, second)
        self._loci = ordered
        self._hash: int | None = None

    def __getitem__(self, marker: str) -> Genotype:
        return self._loci[marker]

    def __iter__(self) -> Iterator[str]:
        return iter(self._loci)

    def __len__(self) -> int:
        return len(self._loci)

    def __hash__(self) -> int:
        if self._hash is None:
            self._hash = hash(frozenset(self._loci.items()))
        return self._hash

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Profile):
            return self._loci == other._loci
        return super().__eq__(other)

    def __repr__(self) -> str:
        inner = ", ".join(f"{marker}: {a}/{b}" for marker, (a, b) in self._loci.items())
        return f"Profile({inner})"

    def to_json(self) -> dict[str, list[str]]:
        return {marker: list(pair) for marker, pair in self._loci.items()}


def parse_profile(data: Mapping[str, Sequence[str | int | float]], table: FrequencyTable | None = None) -> Profile:
    """Validate ``{marker: [allele, allele]}`` against the table's markers.

    Accepts one allele or two equal alleles for a homozygote; ``9.3`` (number or string) is the
    microvariant "9.3". Raises :class:`ProfileError` listing every unknown marker, non-numeric
    allele and wrong allele count.
    """
    table = table or default_table()
    if not isinstance(data, Mapping):
        raise ProfileError([_("图谱应为“位点: [等位基因, 等位基因]”的对象")])
    errors: list[str] = []
    loci: dict[str, Genotype] = {}
    for raw_marker, raw_alleles in data.items():
        label = str(raw_marker)
        marker = table.canonical_marker(label) if isinstance(raw_marker, str) else None
        if marker is None:
            errors.append(_("未知位点“{marker}”（频率表 {table} 中没有）").format(marker=label, table=table.name))
            continue
        if marker in loci:
            errors.append(_("位点 {marker} 重复出现").format(marker=marker))
            continue
        if isinstance(raw_alleles, str | bytes) or not isinstance(raw_alleles, Sequence):
            errors.append(_("位点 {marker}：等位基因应写成列表，例如 [12, 13]").format(marker=marker))
            continue
        if not 1 <= len(raw_alleles) <= 2:
            errors.append(
                _("位点 {marker}：应有 1 或 2 个等位基因，收到 {count} 个").format(
                    marker=marker, count=len(raw_alleles)
                )
            )
            continue
        alleles = [normalise_allele(value) for value in raw_alleles]
        bad = [str(value) for value, allele in zip(raw_alleles, alleles, strict=True) if allele is None]
        if bad:
            errors.append(
                _("位点 {marker}：等位基因“{allele}”不是重复数（如 12 或微变异 9.3）").format(
                    marker=marker, allele="、".join(bad)
                )
            )
            continue
        first, second = sorted((alleles[0], alleles[-1]), key=allele_sort_key)  # type: ignore[arg-type]
        loci[marker] = (first, second)
    if not errors and not loci:
        errors.append(_("图谱中没有任何位点"))
    if errors:
        raise ProfileError(errors)
    return Profile(loci)
