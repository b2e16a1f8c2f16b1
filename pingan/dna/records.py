"""What the DNA store needs to know of 团圆 records, through ``pingan.reunion``'s public
functions only: a record's kind, handling unit and relatives (relation and id; the name
masked for the sampling officer, never stored here), and the attribute Bayes factor of a
pair. The store itself holds record *references*, never a join to a name."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pingan.core.identity import mask_name


@dataclass(frozen=True)
class RelativeInfo:
    id: int
    relation: str
    relation_label: str
    masked_name: str
    can_give_dna: bool
    deceased: bool


@dataclass(frozen=True)
class RecordInfo:
    reference: str
    kind: str
    state: str
    org: Any  # OrgUnit
    org_path: str
    relatives: tuple[RelativeInfo, ...]
    record: Any  # the reunion record itself, for reunion's own functions

    def relative(self, relative_id: int) -> RelativeInfo | None:
        return next((relative for relative in self.relatives if relative.id == relative_id), None)


def _record(reference: str) -> Any:
    from pingan.reunion import queries as reunion_queries

    try:
        return reunion_queries.record_get_for_system(reference)
    except Exception as error:  # the record's own DoesNotExist, whatever its class
        if type(error).__name__ == "DoesNotExist":
            return None
        raise


def record_info(reference: str) -> RecordInfo | None:
    """The record with this reference (``None`` if there is none)."""
    from pingan.reunion import queries as reunion_queries

    reference = (reference or "").strip().upper()
    if not reference or len(reference) > 20:
        return None
    record = _record(reference)
    if record is None:
        return None
    relatives = tuple(
        RelativeInfo(
            id=relative.pk,
            relation=relative.relation,
            relation_label=str(relative.get_relation_display()),
            masked_name=mask_name(relative.name_sealed) if relative.name_sealed else "",
            can_give_dna=bool(getattr(relative, "can_give_dna", True)),
            deceased=bool(getattr(relative, "deceased", False)),
        )
        for relative in reunion_queries.relatives_for_system(record)
    )
    return RecordInfo(
        reference=record.reference,
        kind=record.kind,
        state=record.state,
        org=record.org,
        org_path=record.org_path,
        relatives=relatives,
        record=record,
    )


@dataclass(frozen=True)
class AttributeEvidence:
    log10_bf: float | None
    reasons: tuple[str, ...] = ()


def attribute_evidence(missing: RecordInfo, found: RecordInfo) -> AttributeEvidence:
    """The attribute matcher's log10 Bayes factor for the pair (and its reasons where the
    matcher gives them). ``None`` when the matcher is not installed: the posterior then
    rests on the DNA alone (a factor of 1), and the page says so."""
    try:
        from pingan.reunion import matching
    except ImportError:
        return AttributeEvidence(None)
    scorer = getattr(matching, "attribute_log10_bf", None)
    if scorer is None:
        return AttributeEvidence(None)
    value = float(scorer(missing.record, found.record))
    explain = getattr(matching, "explain", None)
    reasons: tuple[str, ...] = ()
    if callable(explain):
        reasons = tuple(str(getattr(reason, "text", reason)) for reason in explain(missing.record, found.record))
    return AttributeEvidence(value, reasons)
