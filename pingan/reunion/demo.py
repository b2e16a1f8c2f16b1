"""The demo's planted cases, by reference, for the steps that seed after ``reunion.demo``
(the DNA store plants genotypes for exactly these people and relatives).

- The story (modelled on the seed's lead story): a boy of four taken in Liaocheng
  (东昌府区) in June 1997, reported by his father; an adult man registered decades later
  as a seeker, having grown up in Sichuan, handled by the Liaocheng investigator as a
  cross-province case. Father and mother are named on the missing record as relatives who
  can give DNA.
- Planted pairs: a missing child and the same person found (a rescued child, or an adult
  seeker), with parents (and sometimes a full sibling) named on the missing record.
- Look-alikes: for each planted missing child, a found person of the same sex, about the
  same age, found not far away, with similar marks — but someone else (the DNA must not
  match).

Every function reads what the seed actually made, so a smaller seed scale lists fewer pairs.
"""

from __future__ import annotations

from typing import NamedTuple

from pingan.reunion.models import PersonRecord, Relation, Relative

STORY_MISSING_REF = "XRDEMO000001"
STORY_SEEKER_REF = "XRDEMO000002"
STORY_RELATIONS: tuple[str, ...] = (Relation.FATHER, Relation.MOTHER)
# A child missing in Jinan an hour before the seed ran, verified, with an emergency alert.
ALERT_MISSING_REF = "XRDEMO000003"

PLANTED_MISSING_FROM = 100  # XRDEMO000100, XRDEMO000101, ...
PLANTED_FOUND_FROM = 300
LOOKALIKE_FROM = 500
BACKGROUND_FROM = 1000
PLANTED_COUNT = {"small": 12, "city": 40, "province": 100}


def reference(number: int) -> str:
    return f"XRDEMO{number:06d}"


def planted_relations(index: int) -> tuple[str, ...]:
    """The relatives who can give DNA for the ``index``-th planted pair: both parents and a
    full sibling, both parents, or the mother alone (the father deceased: a duo search)."""
    return (
        (Relation.FATHER, Relation.MOTHER, Relation.FULL_SIBLING),
        (Relation.FATHER, Relation.MOTHER),
        (Relation.MOTHER,),
    )[index % 3]


class PlantedPair(NamedTuple):
    missing_ref: str
    found_ref: str
    relations: tuple[str, ...]  # Relation codes of the missing record's relatives who can give DNA


def planted_pairs() -> list[PlantedPair]:
    """The story first, then the planted pairs the seed made (both records present)."""
    candidates = [PlantedPair(STORY_MISSING_REF, STORY_SEEKER_REF, STORY_RELATIONS)]
    index = 0
    while index < max(PLANTED_COUNT.values()):
        candidates.append(
            PlantedPair(
                reference(PLANTED_MISSING_FROM + index),
                reference(PLANTED_FOUND_FROM + index),
                planted_relations(index),
            )
        )
        index += 1
    present = set(
        PersonRecord.objects.filter(
            reference__in=[ref for pair in candidates for ref in (pair.missing_ref, pair.found_ref)]
        ).values_list("reference", flat=True)
    )
    return [pair for pair in candidates if pair.missing_ref in present and pair.found_ref in present]


def lookalikes() -> list[tuple[str, str]]:
    """(missing reference, look-alike found reference): similar attributes, unrelated."""
    pairs = [
        (reference(PLANTED_MISSING_FROM + index), reference(LOOKALIKE_FROM + index))
        for index in range(max(PLANTED_COUNT.values()))
    ]
    present = set(
        PersonRecord.objects.filter(reference__in=[ref for pair in pairs for ref in pair]).values_list(
            "reference", flat=True
        )
    )
    return [pair for pair in pairs if pair[0] in present and pair[1] in present]


def background_refs() -> list[str]:
    """The references of the other demo records (unplanted: nobody's relative), in order."""
    planted = {ref for pair in planted_pairs() for ref in pair[:2]} | {ref for pair in lookalikes() for ref in pair}
    return [
        ref
        for ref in PersonRecord.objects.filter(
            reference__startswith="XRDEMO", reference__gte=reference(BACKGROUND_FROM)
        )
        .order_by("reference")
        .values_list("reference", flat=True)
        if ref not in planted
    ]


def relatives_of(reference: str) -> list[Relative]:
    """The relatives named on a demo record (ids and relations; names stay sealed)."""
    return list(Relative.objects.filter(record__reference=reference).order_by("id"))
