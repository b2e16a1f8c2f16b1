"""The electric-bicycle register (row S15 of the seed: 36 million e-bikes registered and
plated in Shandong): the compliant-product catalogue, authorised dealers, plates allocated
per city, the bicycles themselves with their inspections and transfers, and dealers' batch
imports. docs/ebikes.md describes the rules; ``actions.py`` holds every write.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pingan.core.identity import EncryptedTextField
from pingan.core.workflow import StateField, WorkflowModel, due_at_field

# GB 17761-2018 《电动自行车安全技术规范》: the limits a compliant product keeps.
MAX_SPEED_KMH = 25
MAX_WEIGHT_KG = 55
MAX_MOTOR_POWER_W = 400
MAX_BATTERY_VOLTAGE_V = 48


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("有效")
    SUSPENDED = "suspended", _("暂停")
    REVOKED = "revoked", _("撤销")


class CompliantModel(models.Model):
    """One product of the national catalogue of compliant e-bikes (《电动自行车产品目录》),
    with its CCC certificate. Only a product listed here, with a valid certificate and
    within the limits of GB 17761-2018, can be registered.

    ``brand_key``/``model_key`` are the normalised names (NFKC, upper case, no spaces) the
    register matches on, so ``雅迪 dE2`` finds ``雅迪 DE2``. The demo ships a synthetic list
    (``catalogue.py``); a real deployment loads the published catalogue.
    """

    brand = models.CharField(_("品牌"), max_length=50)
    model = models.CharField(_("型号"), max_length=60)
    brand_key = models.CharField(max_length=50, editable=False)
    model_key = models.CharField(max_length=60, editable=False)
    manufacturer = models.CharField(_("生产企业"), max_length=100)
    ccc_certificate = models.CharField(_("CCC证书编号"), max_length=20, unique=True)
    certificate_status = models.CharField(
        _("证书状态"), max_length=10, choices=CertificateStatus.choices, default=CertificateStatus.VALID
    )
    max_speed_kmh = models.PositiveSmallIntegerField(_("最高设计车速（km/h）"))
    weight_kg = models.DecimalField(_("整车质量（kg）"), max_digits=5, decimal_places=1)
    motor_power_w = models.PositiveSmallIntegerField(_("电机额定功率（W）"))
    battery_voltage_v = models.PositiveSmallIntegerField(_("蓄电池标称电压（V）"))
    pedals = models.BooleanField(_("具有脚踏骑行能力"), default=True)

    class Meta:
        ordering = ["brand_key", "model_key"]
        constraints = [
            models.UniqueConstraint(fields=["brand_key", "model_key"], name="ebike_product_unique"),
        ]
        verbose_name = _("合规产品")
        verbose_name_plural = _("合规产品目录")

    def __str__(self) -> str:
        return f"{self.brand} {self.model}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        from pingan.ebikes.rules import normalise_key

        self.brand_key, self.model_key = normalise_key(self.brand), normalise_key(self.model)
        super().save(*args, **kwargs)


class Dealer(models.Model):
    """An authorised e-bike dealer (授权经销商): a partner account that may import what it
    sold and inspect those bicycles. ``org`` is the supervising public-security unit (the
    partner's), ``city`` the city bureau whose plates its customers receive."""

    partner = models.OneToOneField(
        settings.AUTH_USER_MODEL, verbose_name=_("合作单位账号"), on_delete=models.PROTECT, related_name="ebike_dealer"
    )
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("主管公安机关"), on_delete=models.PROTECT, related_name="+")
    city = models.ForeignKey("orgs.OrgUnit", verbose_name=_("所在城市"), on_delete=models.PROTECT, related_name="+")
    is_active = models.BooleanField(_("授权有效"), default=True)
    authorised_at = models.DateTimeField(_("授权时间"), auto_now_add=True)

    class Meta:
        ordering = ["city", "id"]
        verbose_name = _("授权经销商")
        verbose_name_plural = _("授权经销商")

    def __str__(self) -> str:
        return self.partner.name


class PlateCounter(models.Model):
    """The last serial handed out in one city. Allocation locks this row
    (``select_for_update``), so serials are handed out one at a time per city."""

    city = models.OneToOneField("orgs.OrgUnit", on_delete=models.PROTECT, related_name="+")
    prefix = models.CharField(_("号牌前缀"), max_length=4)
    last_serial = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("号牌序号")
        verbose_name_plural = _("号牌序号")

    def __str__(self) -> str:
        return f"{self.prefix} {self.last_serial}"


class PlateStatus(models.TextChoices):
    ISSUED = "issued", _("在用")
    RETIRED = "retired", _("已收回")


class Plate(models.Model):
    """A plate (号牌) of one city: ``济南A000123``. Allocated once, with the bicycle it is
    fixed to; when the registration is cancelled the plate is retired and never reissued
    (the counter only moves forward, and (city, number) is unique)."""

    city = models.ForeignKey("orgs.OrgUnit", verbose_name=_("发牌城市"), on_delete=models.PROTECT, related_name="+")
    serial = models.PositiveIntegerField(_("序号"))
    number = models.CharField(_("号牌号码"), max_length=12)
    status = models.CharField(_("状态"), max_length=10, choices=PlateStatus.choices, default=PlateStatus.ISSUED)
    issued_at = models.DateTimeField(_("发牌时间"))
    retired_at = models.DateTimeField(_("收回时间"), null=True, blank=True)

    class Meta:
        ordering = ["city", "serial"]
        constraints = [
            models.UniqueConstraint(fields=["city", "number"], name="ebike_plate_number_unique"),
            models.UniqueConstraint(fields=["city", "serial"], name="ebike_plate_serial_unique"),
        ]
        indexes = [models.Index(fields=["number"], name="ebike_plate_number_idx")]
        verbose_name = _("号牌")
        verbose_name_plural = _("号牌")

    def __str__(self) -> str:
        return self.number


class Source(models.TextChoices):
    ONLINE = "online", _("网上预登记")
    COUNTER = "counter", _("窗口登记")
    DEALER = "dealer", _("经销商代录")
    SERVICE = "service", _("网上办事申请")
    SEED = "seed", _("演示数据")


class EBike(WorkflowModel):
    """One electric bicycle in the register, from pre-registration to cancellation.

    ``org`` is the handling unit whose staff see it (the owner's police station, the
    dealer's supervising unit, or the station that inspected it); ``city`` the city bureau
    whose plate it carries. ``owner`` may be empty for a sale a dealer imported before the
    buyer opened a citizen account: ``buyer_id_hash`` (the keyed hash the accounts app uses
    for ID numbers) binds it to that buyer, who claims it on signing in.
    """

    workflow_code = "ebike"

    # Indexes: the ones in Meta, no more. Each costs every insert (a dealer's file is
    # thousands); owner, org and dealer lead a composite index there, and exact-match
    # columns get a plain one (Django's db_index adds a second, for LIKE, on PostgreSQL).
    # The register runs no deadline clocks: ``due_at`` stays empty, unindexed.
    state = StateField(_("状态"), db_index=False)
    due_at = due_at_field(indexed=False)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("所有人"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ebikes",
        db_index=False,
    )
    buyer_id_number = EncryptedTextField(_("购车人身份证号码"), blank=True, default="")
    buyer_id_hash = models.CharField(max_length=64, blank=True, default="")
    buyer_phone = EncryptedTextField(_("购车人手机号码"), blank=True, default="")
    # ``city`` is the city of ``org`` (the plate series), ``dealer`` who sold it: written
    # from rows the writer holds, never changed, and PROTECTed by Django; the database
    # checks the keys that stand on their own (owner, unit, product), not these two — a
    # dealer's file would pay 4,000 look-ups at commit (docs/decisions.md, "Bulk writes").
    # No index: bicycles are found by their handling unit; the dealer leads one in Meta.
    city = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("登记城市"),
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
        db_constraint=False,
    )
    org = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("办理单位"), on_delete=models.PROTECT, related_name="+", db_index=False
    )
    dealer = models.ForeignKey(
        Dealer,
        verbose_name=_("销售商"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="ebikes",
        db_index=False,
        db_constraint=False,
    )
    product = models.ForeignKey(
        CompliantModel, verbose_name=_("目录产品"), on_delete=models.PROTECT, related_name="ebikes"
    )
    brand = models.CharField(_("品牌"), max_length=50)
    model = models.CharField(_("型号"), max_length=60)
    colour = models.CharField(_("车身颜色"), max_length=20)
    frame_number = models.CharField(_("车架号"), max_length=20)
    motor_number = models.CharField(_("电机号"), max_length=30)
    purchase_date = models.DateField(_("购买日期"))
    invoice_number = models.CharField(_("购车发票号码"), max_length=20)
    plate = models.OneToOneField(
        Plate, verbose_name=_("号牌"), null=True, blank=True, on_delete=models.PROTECT, related_name="ebike"
    )
    credential_id = models.CharField(_("电子登记证"), max_length=64, blank=True, default="")
    source = models.CharField(_("来源"), max_length=10, choices=Source.choices)
    application_reference = models.CharField(_("办事申请编号"), max_length=24, blank=True, default="")
    # The dealer's file and row that registered it, if one did (that row's outcome is the
    # bicycle itself: ``ImportRow`` keeps only the rows that created nothing). Written with
    # the bicycle, in its transaction: no database check of the key, as for ``ImportRow``.
    import_batch = models.ForeignKey(
        "ImportBatch",
        verbose_name=_("导入批次"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="created",
        db_index=False,
        db_constraint=False,
    )
    import_row = models.PositiveIntegerField(_("导入行号"), null=True, blank=True)
    created_at = models.DateTimeField(_("预登记时间"), auto_now_add=True)
    registered_at = models.DateTimeField(_("上牌时间"), null=True, blank=True)
    stolen_at = models.DateTimeField(_("报失窃时间"), null=True, blank=True)
    cancelled_at = models.DateTimeField(_("注销时间"), null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["org", "state"], name="ebike_org_state_idx"),
            models.Index(fields=["owner", "state"], name="ebike_owner_idx"),
            models.Index(fields=["state"], name="ebike_state_idx"),
            # Only plated bicycles have a registration time (the indicators count by it).
            models.Index(
                fields=["registered_at", "org"], condition=Q(registered_at__isnull=False), name="ebike_registered_idx"
            ),
            models.Index(fields=["dealer", "state"], name="ebike_dealer_idx"),
            models.Index(fields=["frame_number"], name="ebike_frame_idx"),
            # A buyer's hash is looked up only to claim what no account holds yet.
            models.Index(fields=["buyer_id_hash"], condition=Q(owner__isnull=True), name="ebike_buyer_idx"),
            models.Index(
                fields=["import_batch", "import_row"], condition=Q(import_batch__isnull=False), name="ebike_import_idx"
            ),
        ]
        constraints = [
            # One live record per frame: a pre-registration cancelled before it was ever
            # plated (a withdrawn application, a typing error) frees the frame number; a
            # bicycle that carried a plate keeps it for good.
            models.UniqueConstraint(
                fields=["frame_number"],
                condition=Q(plate__isnull=False) | ~Q(state="cancelled"),
                name="ebike_frame_unique",
            ),
            models.UniqueConstraint(
                fields=["application_reference"],
                condition=~Q(application_reference=""),
                name="ebike_application_unique",
            ),
            models.CheckConstraint(
                condition=Q(owner__isnull=False) | ~Q(buyer_id_hash=""), name="ebike_owner_or_buyer"
            ),
            models.CheckConstraint(
                condition=Q(plate__isnull=True) | Q(state__in=["registered", "transferred", "stolen", "cancelled"]),
                name="ebike_plate_only_when_registered",
            ),
        ]
        verbose_name = _("电动自行车")
        verbose_name_plural = _("电动自行车")

    def __str__(self) -> str:
        return self.plate.number if self.plate_id and self.plate else f"{self.brand} {self.frame_number}"

    def get_absolute_url(self) -> str:
        return reverse("ebikes:detail", args=[self.pk])

    def clock_budget(self, clock: str) -> int:  # the register runs no clocks
        raise NotImplementedError(clock)


class Inspection(models.Model):
    """One check of a bicycle against its pre-registration (frame and motor numbers, the
    catalogue product), at a station by staff or by the dealer who sold it."""

    ebike = models.ForeignKey(EBike, on_delete=models.CASCADE, related_name="inspections")
    inspector = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dealer = models.ForeignKey(Dealer, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("查验单位"), on_delete=models.PROTECT, related_name="+")
    passed = models.BooleanField(_("查验合格"))
    note = models.CharField(_("查验意见"), max_length=500, blank=True)
    inspected_at = models.DateTimeField(_("查验时间"))

    class Meta:
        ordering = ["-inspected_at", "-id"]
        verbose_name = _("查验记录")
        verbose_name_plural = _("查验记录")

    def __str__(self) -> str:
        return f"{self.ebike_id} {'✓' if self.passed else '✗'}"


class TransferState(models.TextChoices):
    PENDING = "pending", _("待新车主确认")
    CONFIRMED = "confirmed", _("已过户")
    DECLINED = "declined", _("新车主已拒绝")
    CANCELLED = "cancelled", _("已取消")


class Transfer(models.Model):
    """A change of owner: started by the owner (or at a counter), confirmed by the new owner.
    One open transfer per bicycle at a time."""

    ebike = models.ForeignKey(EBike, on_delete=models.CASCADE, related_name="transfers")
    from_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    to_owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(max_length=10, choices=TransferState.choices, default=TransferState.PENDING)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    started_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True, blank=True)
    old_credential_id = models.CharField(max_length=64, blank=True, default="")
    new_credential_id = models.CharField(max_length=64, blank=True, default="")

    class Meta:
        ordering = ["-started_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["ebike"], condition=Q(state="pending"), name="ebike_one_pending_transfer"),
        ]
        verbose_name = _("过户")
        verbose_name_plural = _("过户")

    def __str__(self) -> str:
        return f"{self.ebike_id}: {self.from_owner_id} → {self.to_owner_id} ({self.state})"


class ImportBatch(models.Model):
    """One file a dealer uploaded: the bicycles its rows registered are ``created`` (each
    knows its row), the rows that registered nothing are ``rows`` (``queries.batch_rows``
    puts them together)."""

    dealer = models.ForeignKey(Dealer, on_delete=models.PROTECT, related_name="imports")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    file_name = models.CharField(_("文件名"), max_length=200)
    file_format = models.CharField(_("格式"), max_length=4)
    sha256 = models.CharField(max_length=64)
    uploaded_at = models.DateTimeField(_("上传时间"))
    rows_total = models.PositiveIntegerField(_("行数"), default=0)
    rows_created = models.PositiveIntegerField(_("新建"), default=0)
    rows_existing = models.PositiveIntegerField(_("已导入过"), default=0)
    rows_failed = models.PositiveIntegerField(_("有误"), default=0)

    class Meta:
        ordering = ["-uploaded_at", "-id"]
        indexes = [models.Index(fields=["dealer", "sha256"], name="ebike_import_file_idx")]
        verbose_name = _("批量导入")
        verbose_name_plural = _("批量导入")

    def __str__(self) -> str:
        return f"{self.file_name} ({self.uploaded_at:%Y-%m-%d %H:%M})"

    def get_absolute_url(self) -> str:
        return reverse("ebikes:import_detail", args=[self.pk])


class RowOutcome(models.TextChoices):
    CREATED = "created", _("已新建")
    EXISTING = "existing", _("已导入过，未重复创建")
    FAILED = "failed", _("有误，未导入")


class ImportRow(models.Model):
    """The outcome of one data row of a batch that registered no bicycle: refused, or
    imported before (``row_number`` counts the header as row 1, as a spreadsheet shows it).
    ``errors``: ``[{"column": ..., "message": ...}]``. A row that registered a bicycle is
    that bicycle's ``import_batch`` and ``import_row``: a file's thousands of good rows
    are written once, not twice."""

    # A write-once log, made in the transaction that makes its batch and bicycles: the
    # references hold by construction, and the database's check of each (a look-up per row
    # at commit) would cost a file a fifth of its time. Django still cascades and nulls.
    # No index of its own for the batch: the unique (batch, row_number) leads with it.
    batch = models.ForeignKey(
        ImportBatch, on_delete=models.CASCADE, related_name="rows", db_index=False, db_constraint=False
    )
    row_number = models.PositiveIntegerField(_("行号"))
    outcome = models.CharField(_("结果"), max_length=10, choices=RowOutcome.choices)
    frame_number = models.CharField(_("车架号"), max_length=40, blank=True)
    ebike = models.ForeignKey(
        EBike, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_constraint=False
    )
    errors = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["batch", "row_number"]
        constraints = [models.UniqueConstraint(fields=["batch", "row_number"], name="ebike_import_row_unique")]
        verbose_name = _("导入行")
        verbose_name_plural = _("导入行")

    def __str__(self) -> str:
        return f"{self.batch_id}#{self.row_number} {self.outcome}"
