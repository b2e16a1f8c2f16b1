"""Electronic credentials (电子证照) and the keys that sign them.

A :class:`Credential` is issued to a citizen by an org unit (which decides which staff may
see and act on it); its claims are personal data, encrypted at rest. The holder shows it as
a short-lived signed presentation (a QR code) that anyone verifies offline with the public
keys of :class:`SigningKey` (``/credentials/keys.json``).
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pingan.core.identity import EncryptedTextField
from pingan.core.workflow import WorkflowModel
from pingan.credentials import catalog


class SigningKey(models.Model):
    """A key pair of one signature suite. Exactly one key is active (it signs new
    presentations, issuance records and revocation lists); retired keys stay published so
    that what they signed still verifies. The private key never leaves the server: it is
    stored encrypted with the field-encryption keys under ``var/`` (never in git)."""

    kid = models.CharField(_("密钥标识"), max_length=40, unique=True)
    suite = models.CharField(_("签名算法"), max_length=20)
    public_key = models.TextField(_("公钥"), help_text="as the suite exports it (base64url)")
    private_key = EncryptedTextField(_("私钥"), help_text="PKCS#8 DER, base64url; encrypted at rest")
    is_active = models.BooleanField(_("当前使用"), default=True)
    valid_from = models.DateTimeField(_("启用时间"))
    retired_at = models.DateTimeField(_("停用时间"), null=True, blank=True)

    class Meta:
        ordering = ["valid_from", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_active"], condition=models.Q(is_active=True), name="credentials_one_active_key"
            ),
            models.CheckConstraint(
                condition=models.Q(is_active=True, retired_at__isnull=True)
                | models.Q(is_active=False, retired_at__isnull=False),
                name="credentials_key_retired_iff_inactive",
            ),
        ]
        verbose_name = _("签名密钥")
        verbose_name_plural = _("签名密钥")

    def __str__(self) -> str:
        return f"{self.kid} ({self.suite})"


class Credential(WorkflowModel):
    """One credential held by one citizen.

    ``org`` is the issuing unit: staff whose jurisdiction covers it see the credential and
    (counter officers, station chiefs, bureau leaders) suspend, reinstate or revoke it.
    ``state`` moves only through the ``credential`` workflow; expiry is ``valid_until``.
    ``issuer_signature`` signs the issuance record (serial, kind, holder, dates and a digest
    of the claims) with the key then active: a row altered in the database no longer
    matches it, and the credential is refused until re-issued.
    """

    workflow_code = "credential"

    serial = models.CharField(_("证照编号"), max_length=24, unique=True)
    kind = models.CharField(_("证照类型"), max_length=40, help_text="a code from catalog/credentials.yaml")
    holder = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("持证人"), on_delete=models.PROTECT, related_name="credentials"
    )
    org = models.ForeignKey("orgs.OrgUnit", verbose_name=_("签发单位"), on_delete=models.PROTECT, related_name="+")
    claims_data = EncryptedTextField(_("证照内容"), help_text="JSON of the claims; encrypted at rest")
    issued_at = models.DateTimeField(_("签发时间"))
    valid_until = models.DateField(_("有效期至"), null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    source_type = models.CharField(max_length=100, blank=True, help_text="what produced it, e.g. an application")
    source_id = models.CharField(max_length=64, blank=True)
    issuer_kid = models.CharField(max_length=40)
    issuer_signature = models.TextField()
    status_reason = models.CharField(_("状态变更原因"), max_length=500, blank=True)
    status_changed_at = models.DateTimeField(_("状态变更时间"), null=True, blank=True)

    class Meta:
        ordering = ["-issued_at", "-id"]
        indexes = [
            models.Index(fields=["holder", "kind"], name="credential_holder_kind_idx"),
            models.Index(fields=["org", "state"], name="credential_org_state_idx"),
            models.Index(fields=["kind", "state"], name="credential_kind_state_idx"),
            models.Index(fields=["source_type", "source_id"], name="credential_source_idx"),
            models.Index(fields=["state", "status_changed_at"], name="credential_status_idx"),
        ]
        verbose_name = _("电子证照")
        verbose_name_plural = _("电子证照")

    def __str__(self) -> str:
        return f"{self.kind_spec.name} {self.serial}"

    def get_absolute_url(self) -> str:
        return reverse("credentials:detail", args=[self.serial])

    def clock_budget(self, clock: str) -> int:  # the credential workflow has no clocks
        raise NotImplementedError

    @property
    def kind_spec(self) -> catalog.CredentialKind:
        return catalog.get(self.kind)

    @property
    def claims(self) -> dict[str, Any]:
        cached = self.__dict__.get("_claims")
        if cached is None or cached[0] != self.claims_data:
            cached = (self.claims_data, json.loads(self.claims_data) if self.claims_data else {})
            self.__dict__["_claims"] = cached
        return dict(cached[1])

    def is_expired(self, today: dt.date) -> bool:
        return self.valid_until is not None and today > self.valid_until

    def status_on(self, today: dt.date) -> str:
        """``valid``, ``expired``, ``suspended`` or ``revoked`` as of ``today``."""
        if self.state == "valid" and self.is_expired(today):
            return "expired"
        return self.state
