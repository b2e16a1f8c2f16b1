"""The indicators page's picker: which unit, which period."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.indicators.periods import PERIOD_TYPE_LABELS, Period, PeriodError, PeriodType, current, parse, parse_as


class PickerForm(forms.Form):
    """``type`` and ``period`` choose the period: a value of another type is converted (a
    year picked as months becomes its last month, or the current month if that is later)."""

    org = forms.CharField(label=_("单位"), required=False, max_length=40)
    type = forms.ChoiceField(
        label=_("期间类型"),
        choices=[(kind.value, label) for kind, label in PERIOD_TYPE_LABELS.items()],
        required=False,
    )
    period = forms.CharField(
        label=_("期间"),
        required=False,
        max_length=20,
        help_text=_("如 2021、2021Q3、2021-07、2021-07-15"),
    )
    sort = forms.CharField(required=False, max_length=64, widget=forms.HiddenInput)

    def __init__(self, *args: Any, today: dt.date | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.today = today

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        kind = PeriodType(data.get("type") or PeriodType.YEAR)
        data["type"] = kind.value
        text = (data.get("period") or "").strip()
        now = current(kind, today=self.today)
        if not text:
            data["period_obj"] = now
            return data
        try:
            typed = parse(text)
            period: Period = parse_as(text, kind)
        except PeriodError as error:
            self.add_error("period", str(error))
            return data
        # Converting this year to months would land on December: do not show an empty future.
        converted = typed.type != kind
        data["period_obj"] = now if converted and period.first_day > now.first_day else period
        return data
