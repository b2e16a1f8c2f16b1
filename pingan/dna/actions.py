"""Writes of the DNA store: consent, samples, profiles, candidate review, deletion.

    consent = dna.consent_record(record_reference="TY…", relation="father", relative_id=12,
                                 actor=officer, point=point, agreed=True)
    sample = dna.sample_collect(consent=consent, point=point, actor=officer)
    dna.sample_receive(sample=sample, actor=examiner, lab="省厅物证鉴定所")
    profile = dna.profile_enter(sample=sample, data={"D3S1358": [15, 16], …}, actor=examiner)
    # on commit: the profile is searched against the whole database (screening.py)

Every refusal is a :class:`DnaRefused` (message for the user, HTTP status), a
``ValidationError`` per field, ``ProfileError`` (every problem of a profile at once),
``access.AccessDenied`` or a ``workflow.WorkflowError``; a refusal stores nothing.
"""

from __future__ import annotations

import csv
import io
import json
import logging
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.core import access, context, timeline, workflow
from pingan.dna import kinship as engine
from pingan.dna import records, screening
from pingan.dna.models import (
    Candidate,
    Consent,
    Profile,
    Purpose,
    RecordKind,
    Role,
    Sample,
    SamplingPoint,
    new_code,
)

log = logging.getLogger(__name__)

# Who records consents and collects samples: the officers who meet the families.
SAMPLING_ROLES = frozenset(
    {"counter_officer", "community_officer", "investigator", "station_chief", "bureau_leader", "dna_examiner"}
)
EXAMINER = "dna_examiner"
MAX_PROFILE_BYTES = 64 * 1024
# A re-test must agree with the original on at least this many markers typed in both.
RETEST_MIN_COMMON_LOCI = 10


class DnaRefused(Exception):
    """A refused request; ``message`` is for the user, ``status`` for HTTP."""

    status = 409

    def __init__(self, message: str, *, status: int | None = None) -> None:
        self.message = message
        if status is not None:
            self.status = status
        super().__init__(message)


def _may_sample_at(actor: Any, *paths: str) -> bool:
    roots = access.jurisdiction_paths(actor, roles=SAMPLING_ROLES, action="act")
    return any(path and path.startswith(root) for path in paths for root in roots)


# --- Consent -------------------------------------------------------------------------------


@transaction.atomic
def consent_record(
    *,
    record_reference: str,
    relation: str,
    actor: Any,
    agreed: bool,
    relative_id: int | None = None,
    point: SamplingPoint | None = None,
    keep_after_reunion: bool = False,
    signed_at: Any = None,
) -> Consent:
    """Record a donor's written consent: identification only. ``relation`` is ``self``
    (the person the record is about) or the relation of one of the record's relatives
    (``relative_id``). No consent, no sample: ``agreed`` must be true."""
    errors: dict[str, list[str]] = {}
    if not agreed:
        errors["agreed"] = [_("采样前须取得本人书面知情同意（仅用于寻亲身份识别）。")]
    info = records.record_info(record_reference)
    if info is None:
        errors["record_reference"] = [_("未找到该团圆记录编号。")]
    if relation not in Role.values:
        errors["relation"] = [_("请选择采样人与当事人的关系。")]
    relative = None
    if info is not None and relation in Role.values:
        if relation == Role.SELF:
            relative_id = None
            if info.kind == RecordKind.MISSING:
                # A missing person cannot give a sample; their relatives can.
                errors["relation"] = [_("失踪人员本人无法采样，请为其亲属登记。")]
        else:
            relative = info.relative(relative_id) if relative_id is not None else None
            if relative is None:
                errors["relative_id"] = [_("请选择该记录登记的亲属。")]
            elif relative.relation != relation:
                errors["relative_id"] = [_("所选亲属的关系与填写的不一致。")]
            elif relative.deceased or not relative.can_give_dna:
                errors["relative_id"] = [_("该亲属登记为已故或不能采样。")]
    if info is not None and info.state not in ("active", "reported"):
        errors["record_reference"] = [_("该记录已结束（已团圆或已关闭），不再采样。")]
    if errors:
        raise ValidationError(errors)
    assert info is not None
    if access.user_kind(actor) != "staff" or not _may_sample_at(
        actor, info.org_path, point.org.path if point is not None else ""
    ):
        decision = access.Decision(
            False, _("您无权为该记录登记采样（需在记录承办单位或采血点所在单位的采样岗位）。"), 403
        )
        access.log_denial(actor, "dna.consent_record", ("dna.consent", record_reference), decision)
        raise access.AccessDenied(decision)
    existing = Consent.objects.filter(
        record_reference=info.reference, relation=relation, relative_id=relative_id, withdrawn_at__isnull=True
    ).first()
    if existing is not None:
        raise DnaRefused(_("此人已签署知情同意（编号 %(code)s），可直接采集检材。") % {"code": existing.code})
    same_donor = (
        Consent.objects.filter(record_reference=info.reference, relation=relation, relative_id=relative_id)
        .values_list("donor_code", flat=True)
        .first()
    )
    try:
        with transaction.atomic():
            consent = Consent.objects.create(
                code=new_code("C"),
                donor_code=same_donor or new_code("D"),
                purpose=Purpose.IDENTIFICATION,
                relation=relation,
                record_reference=info.reference,
                record_kind=info.kind,
                relative_id=relative_id,
                org=info.org,
                org_path=info.org_path,
                signed_at=signed_at or context.now(),
                collected_by=actor,
                point=point,
                keep_after_reunion=bool(keep_after_reunion),
            )
    except IntegrityError:
        raise DnaRefused(_("此人已签署知情同意，可直接采集检材。")) from None
    timeline.record(
        consent,
        "dna.consent_recorded",
        actor=actor,
        data={"purpose": consent.purpose, "relation": relation, "keep_after_reunion": consent.keep_after_reunion},
    )
    return consent


@transaction.atomic
def consent_withdraw(*, consent: Consent, actor: Any, reason: str = "") -> Consent:
    """The donor withdraws consent: their samples and profiles are destroyed (tombstones)."""
    locked = Consent.objects.select_for_update().get(pk=consent.pk)
    if access.user_kind(actor) != "staff" or not _may_sample_at(actor, locked.org_path):
        decision = access.Decision(False, _("您无权办理撤回。"), 403)
        access.log_denial(actor, "dna.consent_withdraw", locked, decision)
        raise access.AccessDenied(decision)
    if locked.withdrawn_at is not None:
        raise DnaRefused(_("该知情同意已撤回。"))
    locked.withdrawn_at = timezone.now()
    locked.withdrawn_reason = (reason or "")[:500]
    locked.save(update_fields=["withdrawn_at", "withdrawn_reason"])
    timeline.record(locked, "dna.consent_withdrawn", actor=actor, data={"reason": locked.withdrawn_reason})
    for sample in Sample.objects.filter(consent=locked).exclude(state="destroyed"):
        _destroy(sample, reason="consent_withdrawn")
    return locked


@transaction.atomic
def sample_register(
    *,
    record_reference: str,
    relation: str,
    relative_id: int | None,
    point: SamplingPoint,
    actor: Any,
    agreed: bool,
    keep_after_reunion: bool = False,
    lab: str = "",
) -> Sample:
    """The sampling officer's one step: the donor's consent (recorded now, or the live one
    they signed before) and the sample taken under it. Both or nothing."""
    existing = Consent.objects.filter(
        record_reference=(record_reference or "").strip().upper(),
        relation=relation,
        relative_id=relative_id if relation != Role.SELF else None,
        withdrawn_at__isnull=True,
    ).first()
    if existing is None:
        consent = consent_record(
            record_reference=record_reference,
            relation=relation,
            relative_id=relative_id,
            actor=actor,
            agreed=agreed,
            point=point,
            keep_after_reunion=keep_after_reunion,
        )
    else:
        if not agreed:
            raise ValidationError({"agreed": [_("采样前须取得本人书面知情同意（仅用于寻亲身份识别）。")]})
        consent = existing
    return sample_collect(consent=consent, point=point, actor=actor, lab=lab)


# --- Samples -------------------------------------------------------------------------------


@transaction.atomic
def sample_collect(
    *,
    consent: Consent,
    point: SamplingPoint,
    actor: Any,
    collected_at: Any = None,
    lab: str = "",
    retest_of: Profile | None = None,
) -> Sample:
    """A sample taken under ``consent`` (refused without a live consent). A re-test sample
    names the profile it re-tests, which must be the same donor's."""
    locked = Consent.objects.select_for_update().get(pk=consent.pk)
    if locked.withdrawn_at is not None:
        raise DnaRefused(_("知情同意已撤回，不能采样。"))
    if access.user_kind(actor) != "staff" or not _may_sample_at(actor, locked.org_path, point.org.path):
        decision = access.Decision(False, _("您无权为该记录采集检材。"), 403)
        access.log_denial(actor, "dna.sample_collect", locked, decision)
        raise access.AccessDenied(decision)
    if not point.is_active:
        raise ValidationError({"point": [_("该采血点已停用。")]})
    if retest_of is not None and retest_of.donor_code != locked.donor_code:
        raise ValidationError({"retest_of": [_("复核检材须采自同一人。")]})
    sample = Sample.objects.create(
        code=new_code("S"),
        consent=locked,
        point=point,
        org=locked.org,
        org_path=locked.org_path,
        collected_at=collected_at or context.now(),
        collected_by=actor,
        lab=(lab or "")[:100],
        retest_of=retest_of,
    )
    timeline.record(
        sample,
        "dna.sample_collected",
        actor=actor,
        data={"consent": locked.code, "point": point.code, "retest_of": retest_of.code if retest_of else None},
    )
    return sample


@transaction.atomic
def sample_receive(*, sample: Sample, actor: Any, lab: str = "") -> Sample:
    """The lab receives the sample (examiner)."""
    if lab:
        Sample.objects.filter(pk=sample.pk).update(lab=lab[:100])
        sample.lab = lab[:100]
    workflow.transition(sample, action="receive", actor=actor)
    Sample.objects.filter(pk=sample.pk).update(received_at=timezone.now())
    sample.refresh_from_db()
    return sample


@transaction.atomic
def sample_fail(*, sample: Sample, actor: Any, reason: str) -> Sample:
    workflow.transition(sample, action="fail", actor=actor, data={"reason": reason})
    Sample.objects.filter(pk=sample.pk).update(failure_reason=reason[:500])
    sample.refresh_from_db()
    return sample


# --- Profiles ------------------------------------------------------------------------------


def parse_upload(content: bytes | str, *, filename: str = "") -> dict[str, list[str]]:
    """A lab result as JSON (``{marker: [a, b]}``) or CSV (``marker,allele1,allele2`` per
    line, a header optional). Raises ``ProfileError`` with what is wrong."""
    if isinstance(content, bytes):
        if len(content) > MAX_PROFILE_BYTES:
            raise engine.ProfileError([_("文件过大（最多 64 KB）。")])
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise engine.ProfileError([_("文件不是 UTF-8 文本。")]) from None
    else:
        text = content
    stripped = text.strip()
    if not stripped:
        raise engine.ProfileError([_("没有填写分型。")])
    if stripped.startswith("{") or filename.lower().endswith(".json"):
        try:
            data = json.loads(stripped)
        except json.JSONDecodeError as error:
            raise engine.ProfileError([_("JSON 格式错误（第 %(line)s 行）。") % {"line": error.lineno}]) from None
        if not isinstance(data, dict):
            raise engine.ProfileError([_("JSON 应为“位点: [等位基因, 等位基因]”的对象。")])
        return data
    result: dict[str, list[str]] = {}
    errors: list[str] = []
    for number, row in enumerate(csv.reader(io.StringIO(stripped)), start=1):
        cells = [cell.strip() for cell in row if cell.strip()]
        if not cells or cells[0].startswith("#"):
            continue
        if number == 1 and cells[0].lower() in {"marker", "locus", "位点", "基因座"}:
            continue
        if len(cells) < 2:
            errors.append(_("第 %(n)s 行：位点 %(marker)s 没有等位基因。") % {"n": number, "marker": cells[0]})
            continue
        if cells[0] in result:
            errors.append(_("第 %(n)s 行：位点 %(marker)s 重复出现。") % {"n": number, "marker": cells[0]})
            continue
        result[cells[0]] = cells[1:]
    if errors:
        raise engine.ProfileError(errors)
    return result


def _loci_mismatch(first: engine.Profile, second: engine.Profile) -> tuple[int, list[str]]:
    common = [marker for marker in first if marker in second]
    return len(common), [marker for marker in common if first[marker] != second[marker]]


@transaction.atomic
def profile_enter(*, sample: Sample, data: Mapping[str, Any], actor: Any, search: bool = True) -> Profile:
    """The examiner enters (or imports) the lab's STR profile of a sample at the lab.

    ``data`` is ``{marker: [allele, allele]}``; it is validated whole before anything is
    stored (``ProfileError`` lists every problem). A re-test's profile is compared with the
    original: candidates waiting for it are confirmed when they agree. Any other profile is
    searched against the whole database once the transaction commits (``search=False``:
    the demo seed loads in bulk and searches once afterwards)."""
    access.require(actor, "act", sample, role=EXAMINER)
    freq = screening.table()
    parsed = engine.parse_profile(data, freq)
    locked = Sample.objects.select_for_update().select_related("consent").get(pk=sample.pk)
    consent = locked.consent
    if consent.withdrawn_at is not None:
        raise DnaRefused(_("知情同意已撤回，不能入库。"))
    if Profile.objects.filter(sample=locked).exists():
        raise DnaRefused(_("该检材已录入分型。"))
    workflow.transition(locked, action="profile", actor=actor)
    profile = Profile.objects.create(
        code=new_code("P"),
        sample=locked,
        donor_code=consent.donor_code,
        role=consent.relation,
        record_reference=consent.record_reference,
        record_kind=consent.record_kind,
        org=locked.org,
        org_path=locked.org_path,
        genotype=json.dumps(parsed.to_json(), ensure_ascii=False, sort_keys=True),
        loci=len(parsed),
        frequencies=freq.name,
        retest_of=locked.retest_of,
        entered_by=actor,
    )
    # The alleles never go on the timeline: only that a profile of n loci was entered.
    timeline.record(
        profile,
        "dna.profile_entered",
        actor=actor,
        data={"sample": locked.code, "loci": profile.loci, "retest_of": getattr(locked.retest_of, "code", None)},
    )
    if locked.retest_of is not None:
        _compare_retest(profile, locked.retest_of, actor=actor)
    elif search:
        profile_id, actor_id = profile.pk, getattr(actor, "pk", None)
        transaction.on_commit(lambda: _search_after_commit(profile_id, actor_id))
    return profile


def _search_after_commit(profile_id: int, actor_id: int | None) -> None:
    from django.contrib.auth import get_user_model

    actor = get_user_model().objects.filter(pk=actor_id).first() if actor_id else None
    profile = Profile.objects.get(pk=profile_id)
    try:
        screening.search_new_profile(profile, actor=actor)
    except Exception:  # the profile is stored; the nightly re-screen searches it again
        log.exception("DNA search of new profile %s failed", profile.code)


def _compare_retest(profile: Profile, original: Profile, *, actor: Any) -> None:
    if original.deleted_at is not None:
        raise DnaRefused(_("原分型已删除，无法复核。"))
    common, differing = _loci_mismatch(screening.genotype_of(profile), screening.genotype_of(original))
    matches = common >= RETEST_MIN_COMMON_LOCI and not differing
    Profile.objects.filter(pk=profile.pk).update(retest_matches=matches)
    profile.retest_matches = matches
    timeline.record(
        original,
        "dna.retest_compared",
        actor=actor,
        data={"retest": profile.code, "common_loci": common, "differing_loci": differing, "matches": matches},
    )
    waiting = Candidate.objects.filter(state="retest_ordered", person_profile=original)
    for candidate in waiting:
        if matches:
            Candidate.objects.filter(pk=candidate.pk).update(retest_profile=profile)
            workflow.transition(candidate, action="retest_match", actor=None)
        else:
            workflow.transition(
                candidate, action="retest_mismatch", actor=None, data={"loci": differing or ["(too few loci)"]}
            )


# --- Candidate review ----------------------------------------------------------------------


def _review(candidate: Candidate, *, actor: Any, action: str, data: Mapping[str, Any] | None) -> Candidate:
    workflow.transition(candidate, action=action, actor=actor, data=data)
    fields = {"reviewed_by": actor, "reviewed_at": timezone.now()}
    if action == "exclude":
        fields["exclusion_reason"] = str((data or {}).get("reason", ""))[:1000]
    if action == "request_relative":
        fields["requested_relation"] = str((data or {}).get("relation", ""))
    Candidate.objects.filter(pk=candidate.pk).update(**fields)
    candidate.refresh_from_db()
    return candidate


@transaction.atomic
def candidate_order_retest(*, candidate: Candidate, actor: Any, note: str = "") -> Candidate:
    """The examiner confirms the candidate pending a confirmatory re-test: a new sample
    from the same person (the found person or seeker); when its profile equals the first,
    the candidate is confirmed."""
    return _review(candidate, actor=actor, action="order_retest", data={"note": note} if note else {})


@transaction.atomic
def candidate_exclude(*, candidate: Candidate, actor: Any, reason: str) -> Candidate:
    """Exclude with a reason: the pair is never proposed again (searches leave it alone)."""
    candidate = _review(candidate, actor=actor, action="exclude", data={"reason": (reason or "").strip()})
    screening.refresh_posteriors({candidate.found_reference})
    return candidate


@transaction.atomic
def candidate_request_relative(*, candidate: Candidate, actor: Any, relation: str, note: str = "") -> Candidate:
    """Ask the handling unit for another relative's sample (the suggestion is shown)."""
    data: dict[str, Any] = {"relation": relation}
    if note:
        data["note"] = note
    return _review(candidate, actor=actor, action="request_relative", data=data)


@transaction.atomic
def retest_collect_and_enter(
    *, candidate: Candidate, point: SamplingPoint, data: Mapping[str, Any], actor: Any, lab: str = ""
) -> Profile:
    """The lab's shortcut for an ordered re-test: register the new sample of the same
    person under their consent, receive it and enter its profile in one step."""
    locked = Candidate.objects.select_for_update().get(pk=candidate.pk)
    access.require(actor, "act", locked, role=EXAMINER)
    if locked.state != "retest_ordered":
        raise DnaRefused(_("该比中未安排复核检验。"))
    original = locked.person_profile
    engine.parse_profile(data, screening.table())  # refuse a bad profile before any row is made
    consent = original.sample.consent
    sample = sample_collect(consent=consent, point=point, actor=actor, lab=lab, retest_of=original)
    sample_receive(sample=sample, actor=actor)
    return profile_enter(sample=sample, data=data, actor=actor)


@transaction.atomic
def candidate_record_reunion(*, candidate: Candidate, actor: Any, note: str = "") -> Any:
    """From a confirmed candidate, record the reunion of the two records (团圆), by the
    examiner or an investigator handling the case. The records' side is
    ``pingan.reunion.actions.reunion_record``; the relatives' DNA is deleted when it
    announces the reunion (receivers.py)."""
    from pingan.reunion import actions as reunion_actions

    locked = Candidate.objects.select_for_update().get(pk=candidate.pk)
    access.require(actor, "act", locked, role={EXAMINER, "investigator"})
    if locked.state != "confirmed":
        raise DnaRefused(_("只有经复核确认的比中才能认定团圆。"))
    missing = records.record_info(locked.missing_reference)
    found = records.record_info(locked.found_reference)
    if missing is None or found is None:
        raise DnaRefused(_("未找到比中对应的团圆记录。"), status=404)
    reunion = reunion_actions.reunion_record(
        missing=missing.record,
        found=found.record,
        method="dna",
        evidence=locked.code,
        actor=actor,
        note=note,
    )
    timeline.record(locked, "dna.reunion_recorded", actor=actor, data={"reunion": getattr(reunion, "pk", None)})
    return reunion


# --- Deletion -----------------------------------------------------------------------------


def _destroy(sample: Sample, *, reason: str, actor: Any = None) -> None:
    """Destroy a sample and wipe its profile (the row stays, as a tombstone for audit)."""
    workflow.transition(sample, action="destroy", actor=actor, data={"reason": reason})
    now = timezone.now()
    Sample.objects.filter(pk=sample.pk).update(destroyed_at=now)
    for profile in Profile.objects.filter(sample=sample, deleted_at__isnull=True):
        Profile.objects.filter(pk=profile.pk).update(genotype="", deleted_at=now, deleted_reason=reason)
        timeline.record(profile, "dna.profile_deleted", actor=actor, data={"reason": reason})


@transaction.atomic
def relatives_forget(*, missing_reference: str, found_reference: str, relative_ids: list[int]) -> dict[str, int]:
    """After a reunion: destroy the relatives' samples and profiles of both records, except
    where their consent says to keep them (``keep_after_reunion``)."""
    consents = Consent.objects.select_for_update().filter(
        record_reference__in=[missing_reference, found_reference], relative_id__isnull=False
    )
    if relative_ids:
        consents = consents.filter(relative_id__in=list(relative_ids))
    deleted = kept = 0
    for consent in consents:
        if consent.keep_after_reunion and consent.withdrawn_at is None:
            kept += 1
            timeline.record(consent, "dna.kept_after_reunion", actor=None, data={"reason": "consent"})
            continue
        for sample in Sample.objects.filter(consent=consent).exclude(state="destroyed"):
            _destroy(sample, reason="reunited")
            deleted += 1
    return {"deleted_samples": deleted, "kept_consents": kept}
