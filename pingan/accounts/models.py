"""People: staff (badge numbers, posts at org units with roles), citizens (real-name,
resident ID and mobile encrypted at rest), partners (security firms, social organisations,
authorised dealers)."""

from __future__ import annotations

from functools import cached_property

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.utils.translation import gettext_lazy as _

from pingan.core import access
from pingan.core.identity import EncryptedTextField, mask_name


class Kind(models.TextChoices):
    STAFF = "staff", _("民警")
    CITIZEN = "citizen", _("群众")
    PARTNER = "partner", _("合作单位")


class User(AbstractUser):
    """An account. ``username`` is the badge number for staff; an opaque id otherwise
    (citizens sign in with their ID number or mobile, looked up by keyed hash)."""

    kind = models.CharField(_("账号类型"), max_length=10, choices=Kind.choices)
    name = models.CharField(_("姓名"), max_length=100)

    objects = UserManager()

    class Meta:
        indexes = [models.Index(fields=["kind", "is_active"], name="user_kind_idx")]
        verbose_name = _("账号")
        verbose_name_plural = _("账号")

    def __str__(self) -> str:
        return self.timeline_label()

    def timeline_label(self) -> str:
        if self.kind == Kind.STAFF:
            return f"{self.name}（警号 {self.username}）"
        if self.kind == Kind.CITIZEN:
            return f"{mask_name(self.name)}（群众 #{self.pk}）"
        return f"{self.name}（合作单位 #{self.pk}）"

    @cached_property
    def _posts(self) -> list[access.Post]:
        if self.kind != Kind.STAFF or not self.is_active:
            return []
        return [
            access.Post(org_id=post.org_id, jurisdiction_path=post.org.jurisdiction_path, role=post.role)
            for post in self.posts.filter(is_active=True).select_related("org")
        ]

    def access_posts(self) -> list[access.Post]:
        """The access layer reads posts through this (cached for the request)."""
        return self._posts


class StaffProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="staff")
    badge_number = models.CharField(
        _("警号"), max_length=6, unique=True, help_text="6 digits; also the staff account's username"
    )
    home_org = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("所在单位"), on_delete=models.PROTECT, related_name="staff_members"
    )

    class Meta:
        verbose_name = _("民警")
        verbose_name_plural = _("民警")

    def __str__(self) -> str:
        return f"{self.user.name} {self.badge_number}"


class Post(models.Model):
    """A role held at an org unit. A staff member may hold several."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="posts")
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("单位"), on_delete=models.PROTECT, related_name="posts")
    role = models.CharField(_("角色"), max_length=30, help_text="a role code from catalog/roles.yaml")
    is_active = models.BooleanField(default=True)
    started_on = models.DateField(_("任职日期"), null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "org", "role"], name="post_unique")]
        indexes = [models.Index(fields=["org", "role", "is_active"], name="post_org_role_idx")]
        verbose_name = _("岗位")
        verbose_name_plural = _("岗位")

    def __str__(self) -> str:
        return f"{self.user.name} @ {self.org.name} ({self.role})"


class CitizenProfile(models.Model):
    """Real-name data of a citizen account. Identifiers are encrypted; ``*_hash`` columns
    (keyed HMAC) serve exact lookups and uniqueness without decrypting."""

    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="citizen")
    id_number = EncryptedTextField(_("身份证号码"))
    id_number_hash = models.CharField(max_length=64, unique=True)
    phone = EncryptedTextField(_("手机号码"))
    phone_hash = models.CharField(max_length=64, unique=True)
    birth_date = models.DateField(_("出生日期"))
    sex = models.CharField(_("性别"), max_length=1, choices=[("M", _("男")), ("F", _("女"))])
    county_code = models.CharField(
        _("户籍地区码"), max_length=6, db_index=True, help_text="first six digits of the ID number"
    )
    home_org = models.ForeignKey(
        "orgs.OrgUnit",
        verbose_name=_("所属公安机关"),
        on_delete=models.PROTECT,
        related_name="citizens",
        help_text="the bureau whose staff serve this citizen (residence)",
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        indexes = [
            models.Index(fields=["home_org", "created_at"], name="citizen_org_created_idx"),
            # Indicators count registrations in a period across a whole subtree: date first.
            models.Index(fields=["created_at", "home_org"], name="citizen_created_org_idx"),
        ]
        verbose_name = _("群众")
        verbose_name_plural = _("群众")

    def __str__(self) -> str:
        return self.user.timeline_label()

    def timeline_org_path(self) -> str:
        return self.home_org.path


class PartnerKind(models.TextChoices):
    SECURITY_COMPANY = "security_company", _("保安公司")
    SOCIAL_ORGANISATION = "social_organisation", _("平安类社会组织")
    DEALER = "dealer", _("授权经销商")
    OTHER = "other", _("其他")


class PartnerProfile(models.Model):
    user = models.OneToOneField(User, on_delete=models.CASCADE, related_name="partner")
    organisation = models.CharField(_("单位名称"), max_length=200)
    partner_kind = models.CharField(_("单位类型"), max_length=30, choices=PartnerKind.choices)
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, unique=True)
    org = models.ForeignKey(
        "orgs.OrgUnit", verbose_name=_("主管公安机关"), on_delete=models.PROTECT, related_name="partners"
    )

    class Meta:
        verbose_name = _("合作单位")
        verbose_name_plural = _("合作单位")

    def __str__(self) -> str:
        return self.organisation
