"""The organisation tree: 山东省公安厅 → city bureaus → county bureaus → police stations
→ police grids, with departments (警种) beside the bureaus at each level."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Level(models.TextChoices):
    PROVINCE = "province", _("省级")
    CITY = "city", _("市级")
    COUNTY = "county", _("县级")
    STATION = "station", _("派出所")
    GRID = "grid", _("警格")


class Kind(models.TextChoices):
    BUREAU = "bureau", _("公安机关")
    BRANCH = "branch", _("开发区分局")
    STATION = "station", _("派出所")
    GRID = "grid", _("警格")
    DEPARTMENT = "department", _("警种部门")


LEVEL_ORDER = [Level.PROVINCE, Level.CITY, Level.COUNTY, Level.STATION, Level.GRID]

# What the tree load writes for each unit (besides its code), in display order.
UNIT_FIELDS = (
    "name", "name_en", "level", "kind", "department", "parent", "path", "depth", "division_code",
    "is_development_zone", "latitude", "longitude", "population",
)  # fmt: skip


class OrgUnit(models.Model):
    """One unit of the force.

    ``path`` is the materialised path of codes from the province down to this unit
    (``37/3701/370102/370102001/``); subtree queries are prefix scans on its index.
    A department's ``level`` is that of the bureau it belongs to; staff posted to it
    have that bureau's subtree as jurisdiction (``jurisdiction_path``).
    """

    code = models.CharField(
        _("代码"), max_length=40, unique=True, help_text="division code for bureaus and stations; derived codes below"
    )
    name = models.CharField(_("名称"), max_length=100)
    name_en = models.CharField(_("英文名称"), max_length=150, blank=True)
    level = models.CharField(_("层级"), max_length=10, choices=Level.choices)
    kind = models.CharField(_("类型"), max_length=12, choices=Kind.choices)
    department = models.CharField(
        _("警种"),
        max_length=30,
        blank=True,
        help_text="department code from catalog/departments.yaml (departments only)",
    )
    parent = models.ForeignKey(
        "self", verbose_name=_("上级单位"), null=True, blank=True, on_delete=models.PROTECT, related_name="children"
    )
    path = models.CharField(max_length=255, unique=True)
    depth = models.PositiveSmallIntegerField()
    division_code = models.CharField(_("行政区划代码"), max_length=12, blank=True, db_index=True)
    is_development_zone = models.BooleanField(_("开发区"), default=False)
    latitude = models.FloatField(_("纬度"))
    longitude = models.FloatField(_("经度"))
    population = models.PositiveBigIntegerField(
        _("常住人口"), null=True, blank=True, help_text="census figure where public (cities and province)"
    )
    is_active = models.BooleanField(default=True)

    class Meta:
        ordering = ["path"]
        indexes = [models.Index(fields=["level", "path"], name="orgunit_level_path_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(latitude__gte=-90, latitude__lte=90)
                & models.Q(longitude__gte=-180, longitude__lte=180),
                name="orgunit_coordinates_valid",
            ),
        ]
        verbose_name = _("单位")
        verbose_name_plural = _("单位")

    def __str__(self) -> str:
        return self.name

    @property
    def jurisdiction_path(self) -> str:
        """The subtree a post at this unit covers: a department covers its bureau's."""
        if self.kind == Kind.DEPARTMENT and self.parent_id is not None:
            return self.path[: self.path.rstrip("/").rfind("/") + 1]
        return self.path

    @property
    def ancestor_codes(self) -> list[str]:
        return [code for code in self.path.split("/") if code]

    def timeline_org_path(self) -> str:
        return self.path
