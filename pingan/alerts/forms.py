"""Forms of the alert pages: the subscription (a point or a county), a clue from the
public, and the staff's withdrawal and clue triage. They check shape only; the actions
check meaning (ranges, times, photos) and their errors are put back on these forms."""

from __future__ import annotations

import secrets
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from pingan.alerts.actions import MAX_CLUE_TEXT, MAX_NOTE, MAX_PLACE
from pingan.alerts.models import ClueState, WithdrawReason
from pingan.orgs.models import Kind, Level, OrgUnit

LOCAL_INPUT = "%Y-%m-%dT%H:%M"


def county_choices() -> list[tuple[str, list[tuple[int, str]]]]:
    """County-level bureaus grouped by city, as the select offers them."""
    units = OrgUnit.objects.filter(is_active=True, level__in=[Level.CITY, Level.COUNTY]).exclude(kind=Kind.DEPARTMENT)
    cities: dict[int, tuple[str, list[tuple[int, str]]]] = {}
    rows = list(units.order_by("path").values_list("pk", "parent_id", "level", "name"))
    for pk, _parent, level, name in rows:
        if level == Level.CITY:
            cities[pk] = (name.removesuffix("公安局"), [])
    for pk, parent, level, name in rows:
        if level == Level.COUNTY and parent in cities:
            cities[parent][1].append((pk, name))
    return [group for group in cities.values() if group[1]]


class PointForm(forms.Form):
    latitude = forms.FloatField(
        label=_("纬度"),
        min_value=-90,
        max_value=90,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )
    longitude = forms.FloatField(
        label=_("经度"),
        min_value=-180,
        max_value=180,
        widget=forms.NumberInput(attrs={"step": "any", "inputmode": "decimal"}),
    )


class CountyForm(forms.Form):
    county = forms.TypedChoiceField(label=_("区县"), coerce=int)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["county"].choices = [("", _("请选择")), *county_choices()]

    def unit(self) -> OrgUnit | None:
        return OrgUnit.objects.filter(pk=self.cleaned_data["county"], level=Level.COUNTY).first()


class ClueForm(forms.Form):
    place = forms.CharField(label=_("发现地点"), max_length=MAX_PLACE)
    seen_at = forms.DateTimeField(
        label=_("发现时间"),
        input_formats=[LOCAL_INPUT, "%Y-%m-%d %H:%M"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format=LOCAL_INPUT),
    )
    text = forms.CharField(
        label=_("线索内容"),
        max_length=MAX_CLUE_TEXT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("请描述您看到的情况：人员特征、同行人员、去向等。"),
    )
    phone = forms.CharField(
        label=_("联系电话"), required=False, max_length=20, help_text=_("未登录时必填，仅供民警核实线索时联系您。")
    )
    latitude = forms.FloatField(
        label=_("纬度（可选）"), required=False, widget=forms.NumberInput(attrs={"step": "any"})
    )
    longitude = forms.FloatField(
        label=_("经度（可选）"), required=False, widget=forms.NumberInput(attrs={"step": "any"})
    )
    photo = forms.FileField(label=_("照片（可选，JPG 或 PNG，5MB 以内）"), required=False)
    idempotency_key = forms.CharField(widget=forms.HiddenInput, max_length=64)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("initial", {})
        kwargs["initial"].setdefault("idempotency_key", secrets.token_urlsafe(24))
        super().__init__(*args, **kwargs)
        self.fields["latitude"].widget.attrs["data-geolocate-latitude"] = ""
        self.fields["longitude"].widget.attrs["data-geolocate-longitude"] = ""

    def clean_seen_at(self) -> Any:
        value = self.cleaned_data["seen_at"]
        return timezone.make_aware(value) if value is not None and timezone.is_naive(value) else value


class WithdrawForm(forms.Form):
    reason = forms.ChoiceField(label=_("撤回原因"), choices=WithdrawReason.choices)
    note = forms.CharField(label=_("说明"), required=False, max_length=MAX_NOTE)


class TriageForm(forms.Form):
    outcome = forms.ChoiceField(
        label=_("研判结果"), choices=[(c.value, c.label) for c in ClueState if c != ClueState.NEW]
    )
    note = forms.CharField(label=_("研判说明"), required=False, max_length=MAX_NOTE)
