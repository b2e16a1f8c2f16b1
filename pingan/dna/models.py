"""The kinship DNA store (亲缘DNA库), kept apart from every other personal record.

Like Interpol's I-Familia, profiles carry codes, never names: a profile knows its donor's
code, the donor's role (``self``: the person a record is about; or a relation such as
``father``), and the *reference* of the 团圆 record it serves — nothing that joins to a
name in this app. Genotypes are stored encrypted (``EncryptedTextField``); only the DNA
examiner role reads them, and every read goes on the timeline.

Nothing is sampled without a consent (purpose: identification only). After a reunion the
relatives' profiles and samples are destroyed (genotype wiped, the row kept as a tombstone
for audit) unless their consent says to keep them.
"""

from __future__ import annotations

import json
import secrets

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pingan.core.identity import EncryptedTextField
from pingan.core.workflow import StateField, WorkflowModel

# Base32 without look-alikes (no 0/O, 1/I/L): codes are read aloud and copied by hand.
_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"


def new_code(prefix: str, length: int = 8) -> str:
    """A random code (``D7K3M9QX2A``-style): codes carry no order, date or place."""
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(length))


class Purpose(models.TextChoices):
    IDENTIFICATION = "identification", _("仅用于寻亲身份识别")


class Role(models.TextChoices):
    """Whose DNA a profile is, relative to the person a record is about."""

    SELF = "self", _("当事人本人")
    FATHER = "father", _("父亲")
    MOTHER = "mother", _("母亲")
    FULL_SIBLING = "full_sibling", _("同胞兄弟姐妹")
    HALF_SIBLING = "half_sibling", _("同父异母/同母异父兄弟姐妹")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    UNCLE_AUNT = "uncle_aunt", _("叔伯姑舅姨")
    CHILD = "child", _("子女")


PARENT_ROLES = (Role.FATHER, Role.MOTHER)
SIBLING_ROLES = (Role.FULL_SIBLING,)
SECOND_DEGREE_ROLES = (Role.HALF_SIBLING, Role.GRANDPARENT, Role.UNCLE_AUNT)
# The relatives whose profiles the search can use (a spouse's DNA says nothing of kinship).
SEARCHABLE_RELATIONS = frozenset({*PARENT_ROLES, *SIBLING_ROLES, *SECOND_DEGREE_ROLES, Role.CHILD})


class RecordKind(models.TextChoices):
    MISSING = "missing", _("失踪人员")
    FOUND = "found", _("身份不明人员")
    SEEKER = "seeker", _("自主寻亲")


class PointKind(models.TextChoices):
    STATION = "station", _("派出所")
    BUREAU = "bureau", _("公安机关")
    HOSPITAL = "hospital", _("医院")


class SamplingPoint(models.Model):
    """A free sampling point (免费采血点): a police station or a designated hospital. Public."""

    code = models.CharField(_("编号"), max_length=20, unique=True)
    name = models.CharField(_("名称"), max_length=100)
    kind = models.CharField(_("类型"), max_length=10, choices=PointKind.choices)
    address = models.CharField(_("地址"), max_length=200)
    phone = models.CharField(_("咨询电话"), max_length=20, blank=True)
    hours = models.CharField(_("采集时间"), max_length=100, blank=True)
    latitude = models.FloatField(_("纬度"))
    longitude = models.FloatField(_("经度"))
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("负责单位"), on_delete=models.PROTECT, related_name="+")
    division_code = models.CharField(_("所在县（区）代码"), max_length=6, blank=True, db_index=True)
    is_active = models.BooleanField(_("开放"), default=True)

    class Meta:
        ordering = ["division_code", "kind", "name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90)
                & models.Q(longitude__gte=-180, longitude__lte=180),
                name="dna_point_coordinates_range",
            )
        ]
        verbose_name = _("免费采血点")
        verbose_name_plural = _("免费采血点")

    def __str__(self) -> str:
        return self.name


class Consent(models.Model):
    """A donor's written consent (知情同意) for one purpose: identification only.

    ``donor_code`` names the person in this store; ``relation`` says who they are to the
    person the record ``record_reference`` is about (``self`` for that person), and
    ``relative_id`` which relative row of the record they are (none for ``self``).
    """

    code = models.CharField(_("同意书编号"), max_length=12, unique=True)
    donor_code = models.CharField(_("采样人编码"), max_length=12, db_index=True)
    purpose = models.CharField(_("用途"), max_length=20, choices=Purpose.choices, default=Purpose.IDENTIFICATION)
    relation = models.CharField(_("与当事人关系"), max_length=14, choices=Role.choices)
    record_reference = models.CharField(_("团圆记录编号"), max_length=20, db_index=True)
    record_kind = models.CharField(_("记录类别"), max_length=10, choices=RecordKind.choices)
    relative_id = models.PositiveIntegerField(_("亲属序号"), null=True, blank=True)
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("承办单位"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False, db_index=True)
    signed_at = models.DateTimeField(_("签署时间"))
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("经办人"), on_delete=models.PROTECT, related_name="+"
    )
    point = models.ForeignKey(
        SamplingPoint, verbose_name=_("采血点"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    keep_after_reunion = models.BooleanField(_("团圆后同意继续保存"), default=False)
    withdrawn_at = models.DateTimeField(_("撤回时间"), null=True, blank=True)
    withdrawn_reason = models.CharField(_("撤回说明"), max_length=500, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-signed_at", "-id"]
        constraints = [
            # One live consent per person, record and purpose (a withdrawn one may be re-signed).
            models.UniqueConstraint(
                fields=["record_reference", "relation", "relative_id", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True) & models.Q(relative_id__isnull=False),
                name="dna_consent_relative_unique",
            ),
            models.UniqueConstraint(
                fields=["record_reference", "purpose"],
                condition=models.Q(withdrawn_at__isnull=True) & models.Q(relation="self"),
                name="dna_consent_self_unique",
            ),
            models.CheckConstraint(
                condition=models.Q(relation="self", relative_id__isnull=True)
                | (~models.Q(relation="self") & models.Q(relative_id__isnull=False)),
                name="dna_consent_relative_named",
            ),
        ]
        verbose_name = _("采样知情同意")
        verbose_name_plural = _("采样知情同意")

    def __str__(self) -> str:
        return self.code

    def timeline_org_path(self) -> str:
        return self.org_path

    @property
    def active(self) -> bool:
        return self.withdrawn_at is None


class Sample(WorkflowModel):
    """One sample (检材) taken under a consent; a re-test sample names the profile it
    re-tests (``retest_of``)."""

    workflow_code = "dna_sample"

    state = StateField(_("状态"), db_index=False)
    code = models.CharField(_("检材编号"), max_length=12, unique=True)
    consent = models.ForeignKey(Consent, verbose_name=_("知情同意"), on_delete=models.PROTECT, related_name="samples")
    point = models.ForeignKey(SamplingPoint, verbose_name=_("采血点"), on_delete=models.PROTECT, related_name="+")
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("承办单位"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    collected_at = models.DateTimeField(_("采集时间"))
    collected_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("采集人"), on_delete=models.PROTECT, related_name="+"
    )
    lab = models.CharField(_("检验实验室"), max_length=100, blank=True)
    retest_of = models.ForeignKey(
        "Profile", verbose_name=_("复核对象"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    received_at = models.DateTimeField(_("接收时间"), null=True, blank=True)
    failure_reason = models.CharField(_("失败原因"), max_length=500, blank=True)
    destroyed_at = models.DateTimeField(_("销毁时间"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-collected_at", "-id"]
        indexes = [models.Index(fields=["org_path", "state"], name="dna_sample_queue_idx")]
        verbose_name = _("检材")
        verbose_name_plural = _("检材")

    def __str__(self) -> str:
        return self.code

    def timeline_org_path(self) -> str:
        return self.org_path


class Profile(models.Model):
    """An STR profile (marker → two alleles) under codes. ``genotype`` is the encrypted
    JSON ``{marker: [allele, allele]}``; ``deleted_at`` marks a tombstone (genotype wiped).
    ``loci`` counts the typed markers (shown without revealing alleles)."""

    code = models.CharField(_("分型编号"), max_length=12, unique=True)
    sample = models.OneToOneField(Sample, verbose_name=_("检材"), on_delete=models.PROTECT, related_name="profile")
    donor_code = models.CharField(_("采样人编码"), max_length=12, db_index=True)
    role = models.CharField(_("身份"), max_length=14, choices=Role.choices)
    record_reference = models.CharField(_("团圆记录编号"), max_length=20)
    record_kind = models.CharField(_("记录类别"), max_length=10, choices=RecordKind.choices)
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("承办单位"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    genotype = EncryptedTextField(_("分型"), blank=True, default="")
    loci = models.PositiveSmallIntegerField(_("检出基因座数"))
    frequencies = models.CharField(_("频率表"), max_length=60)
    retest_of = models.ForeignKey(
        "self", verbose_name=_("复核对象"), null=True, blank=True, on_delete=models.PROTECT, related_name="retests"
    )
    retest_matches = models.BooleanField(_("复核一致"), null=True, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("录入人"), on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField(_("入库时间"), auto_now_add=True)
    deleted_at = models.DateTimeField(_("删除时间"), null=True, blank=True)
    deleted_reason = models.CharField(_("删除原因"), max_length=20, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # The in-memory search index is built from live, non-re-test profiles by side.
            models.Index(fields=["record_kind", "role", "deleted_at"], name="dna_profile_side_idx"),
            models.Index(fields=["record_reference", "role"], name="dna_profile_record_idx"),
        ]
        verbose_name = _("DNA分型")
        verbose_name_plural = _("DNA分型")

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("dna:profile", args=[self.code])

    def timeline_org_path(self) -> str:
        return self.org_path

    @property
    def deleted(self) -> bool:
        return self.deleted_at is not None

    def alleles(self) -> dict[str, list[str]]:
        """The genotype as ``{marker: [allele, allele]}`` (empty once deleted). Callers
        outside ``actions``/``queries`` must not use this: reads go through
        ``queries.profile_genotype`` (role check + timeline)."""
        return json.loads(self.genotype) if self.genotype else {}


class CandidateMode(models.TextChoices):
    TRIO = "trio", _("父母双亲与子女（三联体）")
    DUO = "duo", _("单亲与子女（二联体）")
    SIBLING = "sibling", _("全同胞")
    SECOND_DEGREE = "second-degree", _("二级亲属")


class Candidate(WorkflowModel):
    """A pair of 团圆 records whose DNA likelihood ratio reached the mode's threshold:
    the missing person's family (``family_profiles``) and the found person or seeker
    (``person_profile``). ``org`` is the missing record's handling unit (its investigators
    see the candidate's status); both records' paths are kept for scoping.

    The figures: the combined likelihood ratio (the product over loci; ``log10_lr`` is
    the sum of logs and is what is stored exactly), the inconsistent loci, the expected
    number of false hits for the database size searched at this threshold, the attribute
    Bayes factor, the prior and the posterior. An excluded pair is never proposed again.
    """

    workflow_code = "dna_candidate"

    state = StateField(_("状态"), db_index=False)
    code = models.CharField(_("比中编号"), max_length=12, unique=True)
    missing_reference = models.CharField(_("失踪人员记录"), max_length=20)
    found_reference = models.CharField(_("比对对象记录"), max_length=20)
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("承办单位"), on_delete=models.PROTECT, related_name="+")
    missing_org_path = models.CharField(max_length=255)
    found_org_path = models.CharField(max_length=255)
    person_profile = models.ForeignKey(
        Profile, verbose_name=_("比对对象分型"), on_delete=models.PROTECT, related_name="candidates_as_person"
    )
    family_profiles = models.ManyToManyField(Profile, verbose_name=_("亲属分型"), related_name="candidates_as_family")
    mode = models.CharField(_("比对模式"), max_length=14, choices=CandidateMode.choices)
    log10_lr = models.FloatField(_("累计亲权指数（log10）"))
    loci_lr = models.JSONField(_("各基因座似然比"), default=dict)
    inconsistent_loci = models.JSONField(_("不符合遗传规律的基因座"), default=list)
    skipped_markers = models.JSONField(_("未共同检出的基因座"), default=list)
    likely_exclusion = models.BooleanField(_("倾向排除"), default=False)
    frequencies = models.CharField(_("频率表"), max_length=60)
    threshold_lr = models.FloatField(_("比中阈值"))
    database_size = models.PositiveIntegerField(_("检索库容"))
    expected_false_hits = models.FloatField(_("预期假阳性数"))
    attribute_log10_bf = models.FloatField(_("特征比对贝叶斯因子（log10）"), null=True, blank=True)
    attribute_reasons = models.JSONField(_("特征比对理由"), default=list)
    prior = models.FloatField(_("先验概率（在库）"))
    posterior = models.FloatField(_("后验概率"), default=0.0)
    suggestions = models.JSONField(_("建议补采亲属"), default=list)
    retest_profile = models.ForeignKey(
        Profile, verbose_name=_("复核分型"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    requested_relation = models.CharField(_("补采亲属"), max_length=14, blank=True, choices=Role.choices)
    exclusion_reason = models.CharField(_("排除理由"), max_length=1000, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    screened_at = models.DateTimeField(_("最近比对时间"))
    created_at = models.DateTimeField(_("比中时间"), auto_now_add=True)

    class Meta:
        ordering = ["-posterior", "-log10_lr", "id"]
        constraints = [
            models.UniqueConstraint(fields=["missing_reference", "found_reference"], name="dna_candidate_pair_unique"),
            models.CheckConstraint(
                condition=models.Q(posterior__gte=0) & models.Q(posterior__lte=1), name="dna_candidate_posterior_range"
            ),
        ]
        indexes = [
            models.Index(fields=["state", "-posterior"], name="dna_candidate_queue_idx"),
            models.Index(fields=["found_reference"], name="dna_candidate_found_idx"),
        ]
        verbose_name = _("亲缘比中")
        verbose_name_plural = _("亲缘比中")

    def __str__(self) -> str:
        return self.code

    def get_absolute_url(self) -> str:
        return reverse("dna:candidate", args=[self.code])

    def timeline_org_path(self) -> str:
        return self.missing_org_path

    @property
    def combined_lr(self) -> float:
        return 10.0**self.log10_lr if self.log10_lr < 300 else float("inf")


class SearchKind(models.TextChoices):
    NEW_PROFILE = "new_profile", _("新入库分型即时比对")
    RESCREEN = "rescreen", _("夜间全库复筛")


class SearchLog(models.Model):
    """One search of the database: which profile (or family), against how many profiles,
    at which threshold, the expected false hits and the hits found."""

    kind = models.CharField(_("类型"), max_length=12, choices=SearchKind.choices)
    profile = models.ForeignKey(
        Profile, verbose_name=_("查询分型"), null=True, blank=True, on_delete=models.PROTECT, related_name="searches"
    )
    query_codes = models.JSONField(_("查询分型编号"), default=list)
    mode = models.CharField(_("比对模式"), max_length=14, choices=CandidateMode.choices)
    database_size = models.PositiveIntegerField(_("检索库容"))
    threshold_lr = models.FloatField(_("阈值"))
    expected_false_hits = models.FloatField(_("预期假阳性数"))
    hits = models.PositiveIntegerField(_("比中数"))
    candidate_codes = models.JSONField(_("比中编号"), default=list)
    frequencies = models.CharField(_("频率表"), max_length=60)
    milliseconds = models.FloatField(_("耗时（毫秒）"))
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["-at", "-id"]
        verbose_name = _("比对日志")
        verbose_name_plural = _("比对日志")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.mode} {self.at:%Y-%m-%d %H:%M}"


class Rescreen(models.Model):
    """One nightly re-screen of the whole database (one row per day: two workers never
    both run it)."""

    day = models.DateField(_("日期"), unique=True)
    frequencies = models.CharField(_("频率表"), max_length=60)
    started_at = models.DateTimeField(_("开始时间"))
    finished_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    searches = models.PositiveIntegerField(_("检索次数"), default=0)
    created = models.PositiveIntegerField(_("新增比中"), default=0)
    updated = models.PositiveIntegerField(_("更新比中"), default=0)

    class Meta:
        ordering = ["-day"]
        verbose_name = _("夜间复筛")
        verbose_name_plural = _("夜间复筛")

    def __str__(self) -> str:
        return f"rescreen {self.day:%Y-%m-%d}"
