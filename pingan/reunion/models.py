"""团圆 records (row S1 of the seed): people reported missing, people found who cannot be
identified, and adults searching for their birth family; the candidates the attribute
matcher proposes between them; the reunions; and the specialist teams.

Personal names and contacts are encrypted (``EncryptedTextField``); nothing here holds DNA:
genotypes live in the separate ``dna`` store under codes, linked to a record only by its
``reference``.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pingan.core.identity import EncryptedTextField
from pingan.core.workflow import StateField, WorkflowModel


class Kind(models.TextChoices):
    MISSING = "missing", _("失踪人员")  # 家寻亲: a family (or the police) looks for someone
    FOUND = "found", _("身份不明人员")  # rescued, wandering or unable to say who they are
    SEEKER = "seeker", _("自主寻亲")  # an adult searching for the birth family


# The sides the matcher compares: a missing person against found persons and seekers.
FOUND_SIDE = (Kind.FOUND, Kind.SEEKER)


class Circumstance(models.TextChoices):
    # missing
    ABDUCTED = "abducted", _("被拐卖")
    LOST = "lost", _("走失")
    RUNAWAY = "runaway", _("离家出走")
    UNKNOWN = "unknown", _("原因不明")
    # found
    RESCUED = "rescued", _("解救的被拐儿童")
    SUSPECTED = "suspected", _("疑似被拐儿童")
    WANDERING = "wandering", _("流浪乞讨人员")
    UNABLE = "unable", _("无法说明身份人员")
    # seeker
    ADOPTED = "adopted", _("幼年被收养或送养")


class Sex(models.TextChoices):
    MALE = "M", _("男")
    FEMALE = "F", _("女")
    UNKNOWN = "U", _("不详")


class Channel(models.TextChoices):
    ONLINE = "online", _("网上登记")
    STATION = "station", _("派出所登记")
    POLICE = "police", _("民警登记")


class Relation(models.TextChoices):
    """A relative's relation to the person the record is about (for DNA: who to sample)."""

    FATHER = "father", _("父亲")
    MOTHER = "mother", _("母亲")
    FULL_SIBLING = "full_sibling", _("同胞兄弟姐妹")
    HALF_SIBLING = "half_sibling", _("同父异母/同母异父兄弟姐妹")
    GRANDPARENT = "grandparent", _("祖父母/外祖父母")
    UNCLE_AUNT = "uncle_aunt", _("叔伯姑舅姨")
    CHILD = "child", _("子女")
    SPOUSE = "spouse", _("配偶")
    OTHER = "other", _("其他")


class CloseCode(models.TextChoices):
    """Why a record ended without a reunion (``close``, ``reject`` and ``withdraw``)."""

    FOUND_BY_FAMILY = "found_by_family", _("已自行找到")
    DECEASED = "deceased", _("已确认死亡")
    FALSE_REPORT = "false_report", _("虚假或不实报告")
    DUPLICATE = "duplicate", _("重复登记")
    OTHER = "other", _("其他")
    REJECTED = "rejected", _("核查不实")
    WITHDRAWN = "withdrawn", _("登记人撤销")


ACTIVE_STATES = ("reported", "active")


class PersonRecord(WorkflowModel):
    """One record. ``org`` is the handling unit (its staff see and act on it), ``org_path``
    its path. Age and birth year are kept as ranges because found persons' are estimates:
    ``birth_year_min``/``_max`` are equal when the date of birth is known. ``event_date`` is
    the last-seen date (missing) or the date found (found, seeker: when registered)."""

    workflow_code = "reunion_record"

    state = StateField(_("状态"), db_index=False)
    reference = models.CharField(_("编号"), max_length=20, unique=True)
    kind = models.CharField(_("类别"), max_length=10, choices=Kind.choices)
    circumstance = models.CharField(_("情形"), max_length=12, choices=Circumstance.choices)
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("承办单位"), on_delete=models.PROTECT, related_name="+")
    org_path = models.CharField(max_length=255, editable=False)
    channel = models.CharField(_("登记渠道"), max_length=10, choices=Channel.choices)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("登记人"), on_delete=models.PROTECT, related_name="+"
    )
    reporter_relation = models.CharField(_("登记人与当事人关系"), max_length=14, blank=True, choices=Relation.choices)

    name_sealed = EncryptedTextField(_("姓名"), blank=True, default="")
    id_number_sealed = EncryptedTextField(_("身份证号码"), blank=True, default="")
    sex = models.CharField(_("性别"), max_length=1, choices=Sex.choices)
    birth_date = models.DateField(_("出生日期"), null=True, blank=True)
    birth_year_min = models.PositiveSmallIntegerField(_("出生年份（最早）"))
    birth_year_max = models.PositiveSmallIntegerField(_("出生年份（最晚）"))
    height_cm = models.PositiveSmallIntegerField(_("身高（厘米，当时）"), null=True, blank=True)
    marks = models.TextField(_("体表特征"), blank=True, help_text="胎记、疤痕、痣等，自由描述")
    mark_tags = models.JSONField(_("特征标签"), default=list, blank=True)
    dialect = models.CharField(_("口音/方言"), max_length=40, blank=True)

    event_date = models.DateField(_("失踪/发现日期"))
    event_date_approx = models.BooleanField(_("日期为估计"), default=False)
    event_at = models.DateTimeField(_("失踪/发现时间"), null=True, blank=True)
    place_text = models.CharField(_("地点"), max_length=200)
    latitude = models.FloatField(_("纬度"), null=True, blank=True)
    longitude = models.FloatField(_("经度"), null=True, blank=True)
    division_code = models.CharField(_("地点所在县（区）代码"), max_length=6, blank=True)
    circumstances = models.TextField(_("经过"), blank=True)
    public_description = models.TextField(_("可公开的描述"), blank=True)

    consent_at = models.DateTimeField(_("同意处理个人信息时间"), null=True, blank=True)
    consent_version = models.CharField(_("同意书版本"), max_length=20, blank=True)
    reported_at = models.DateTimeField(_("报告时间"), help_text="when the report was made (back-dated for imports)")
    verified_at = models.DateTimeField(_("核查时间"), null=True, blank=True)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    next_step = models.CharField(_("下一步工作"), max_length=500, blank=True)
    last_action_at = models.DateTimeField(_("最近工作时间"), null=True, blank=True)
    closed_at = models.DateTimeField(_("结束时间"), null=True, blank=True)
    close_code = models.CharField(_("结束类别"), max_length=16, blank=True, choices=CloseCode.choices)
    closed_reason = models.CharField(_("结束原因"), max_length=2000, blank=True)
    reunited_at = models.DateTimeField(_("团圆时间"), null=True, blank=True)
    idempotency_key = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(_("登记时间"), auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            # Attribute blocking: one side, one sex, a birth-year window.
            models.Index(fields=["kind", "sex", "birth_year_min", "birth_year_max"], name="record_blocking_idx"),
            models.Index(fields=["org_path", "state", "kind"], name="record_queue_idx"),
            models.Index(fields=["reported_by", "-created_at"], name="record_reporter_idx"),
            # Cold cases: active records by the date of the event.
            models.Index(fields=["state", "event_date"], name="record_state_event_idx"),
            # Indicators: records closed in a period.
            models.Index(fields=["closed_at", "close_code"], name="record_closed_idx"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(birth_year_min__lte=models.F("birth_year_max")), name="record_birth_years_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(latitude__isnull=True) | models.Q(latitude__gte=-90, latitude__lte=90),
                name="record_latitude_range",
            ),
            models.CheckConstraint(
                condition=models.Q(longitude__isnull=True) | models.Q(longitude__gte=-180, longitude__lte=180),
                name="record_longitude_range",
            ),
            models.UniqueConstraint(
                fields=["reported_by", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="record_idempotency_unique",
            ),
        ]
        verbose_name = _("团圆寻亲记录")
        verbose_name_plural = _("团圆寻亲记录")

    def __str__(self) -> str:
        return self.reference

    def get_absolute_url(self) -> str:
        return reverse("reunion:record", args=[self.reference])

    def timeline_org_path(self) -> str:
        return self.org_path

    def clock_budget(self, clock: str) -> int:
        return 1  # verification of a report: within one working day

    @property
    def name(self) -> str:
        return self.name_sealed

    @property
    def is_active(self) -> bool:
        return self.state in ACTIVE_STATES

    @property
    def birth_year_label(self) -> str:
        if self.birth_date:
            return str(self.birth_date.year)
        if self.birth_year_min == self.birth_year_max:
            return str(self.birth_year_min)
        return f"{self.birth_year_min}–{self.birth_year_max}"

    def age_range_at_event(self) -> tuple[int, int]:
        """(youngest, oldest) possible age on the event date."""
        if self.birth_date:
            day = self.event_date
            years = (
                day.year - self.birth_date.year - ((day.month, day.day) < (self.birth_date.month, self.birth_date.day))
            )
            return years, years
        youngest = max(0, self.event_date.year - self.birth_year_max - 1)
        return youngest, max(youngest, self.event_date.year - self.birth_year_min)

    @property
    def age_at_event_label(self) -> str:
        youngest, oldest = self.age_range_at_event()
        return str(youngest) if youngest == oldest else f"{youngest}–{oldest}"


class Relative(models.Model):
    """A family member named on a record, who may give a DNA sample. Consent and samples
    live in the ``dna`` app; this row only says who they are and how to reach them."""

    record = models.ForeignKey(PersonRecord, on_delete=models.CASCADE, related_name="relatives")
    relation = models.CharField(_("关系"), max_length=14, choices=Relation.choices)
    name_sealed = EncryptedTextField(_("姓名"), blank=True, default="")
    phone_sealed = EncryptedTextField(_("联系电话"), blank=True, default="")
    id_number_sealed = EncryptedTextField(_("身份证号码"), blank=True, default="")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    can_give_dna = models.BooleanField(_("可采集DNA"), default=True)
    deceased = models.BooleanField(_("已故"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["record", "id"]
        verbose_name = _("亲属")
        verbose_name_plural = _("亲属")

    def __str__(self) -> str:
        return f"{self.record.reference} {self.get_relation_display()}"


def photo_path(instance: RecordPhoto, filename: str) -> str:
    # Never the uploaded name; MEDIA_ROOT is not served directly.
    return f"reunion/{instance.record_id}/{instance.token}.{instance.extension}"


class RecordPhoto(models.Model):
    record = models.ForeignKey(PersonRecord, on_delete=models.CASCADE, related_name="photos")
    token = models.CharField(max_length=32, unique=True)
    extension = models.CharField(max_length=5)
    content_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    file = models.FileField(upload_to=photo_path, max_length=200)
    caption = models.CharField(_("说明"), max_length=200, blank=True)
    public = models.BooleanField(_("可公开"), default=False)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["record", "id"]

    def __str__(self) -> str:
        return f"{self.record_id}/{self.token}"


class CandidateStatus(models.TextChoices):
    OPEN = "open", _("待研判")
    PURSUED = "pursued", _("已安排核查")
    EXCLUDED = "excluded", _("已排除")


class AttributeCandidate(models.Model):
    """A pair the attribute matcher proposes: a missing record and a found/seeker record,
    with the Fellegi–Sunter weight (log10 Bayes factor) and the reasons. An excluded pair
    is never proposed again."""

    missing = models.ForeignKey(PersonRecord, on_delete=models.CASCADE, related_name="+")
    found = models.ForeignKey(PersonRecord, on_delete=models.CASCADE, related_name="+")
    log10_bf = models.FloatField(_("特征比对得分（log10）"))
    reasons = models.JSONField(_("比对理由"), default=list)
    status = models.CharField(_("研判状态"), max_length=10, choices=CandidateStatus.choices, default="open")
    exclusion_reason = models.CharField(_("排除理由"), max_length=500, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-log10_bf", "id"]
        constraints = [models.UniqueConstraint(fields=["missing", "found"], name="attribute_candidate_pair_unique")]
        indexes = [models.Index(fields=["found", "status"], name="attribute_candidate_found_idx")]

    def __str__(self) -> str:
        return f"{self.missing_id}↔{self.found_id} ({self.log10_bf:.1f})"


class Method(models.TextChoices):
    DNA = "dna", _("DNA比对")
    ATTRIBUTES = "attributes", _("特征比对")
    CLUE = "clue", _("群众线索")
    OTHER = "other", _("其他")


class Reunion(models.Model):
    """A family reunited: the missing record and the found (or seeker) record it resolved.
    Both records move to ``reunited`` in the same transaction (``actions.reunion_record``)."""

    missing = models.OneToOneField(PersonRecord, on_delete=models.PROTECT, related_name="reunion_as_missing")
    found = models.OneToOneField(PersonRecord, on_delete=models.PROTECT, related_name="reunion_as_found")
    method = models.CharField(_("认定方式"), max_length=12, choices=Method.choices)
    evidence = models.CharField(_("依据"), max_length=200, blank=True, help_text="e.g. the DNA candidate's code")
    note = models.TextField(_("说明"), blank=True)
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("认定单位"), on_delete=models.PROTECT, related_name="+")
    reunited_at = models.DateTimeField(_("团圆时间"))
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    days_from_report = models.PositiveIntegerField(_("自登记至团圆天数"))

    class Meta:
        ordering = ["-reunited_at", "-id"]
        indexes = [models.Index(fields=["reunited_at", "org"], name="reunion_date_org_idx")]

    def __str__(self) -> str:
        return f"reunion #{self.pk}"


class SpecialistTeam(models.Model):
    """A 打拐/寻亲 specialist team at a province, city or county bureau."""

    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("所属单位"), on_delete=models.PROTECT, related_name="+")
    name = models.CharField(_("名称"), max_length=100)
    duty = models.CharField(_("职责"), max_length=300, blank=True)
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("负责人"), on_delete=models.PROTECT, related_name="+"
    )
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, verbose_name=_("成员"), related_name="+", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["org__path", "name"]
        constraints = [models.UniqueConstraint(fields=["org", "name"], name="specialist_team_unique")]

    def __str__(self) -> str:
        return self.name
