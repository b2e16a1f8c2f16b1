"""The rating form, built from the scheme for the subject's channel."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.ratings.actions import MAX_COMMENT
from pingan.ratings.scheme import Channel, scheme

INDICATOR_PREFIX = "indicator_"


class RatingForm(forms.Form):
    level = forms.TypedChoiceField(label=_("整体满意度"), coerce=int, widget=forms.RadioSelect)
    comment = forms.CharField(
        label=_("评价意见"),
        required=False,
        max_length=MAX_COMMENT,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("选择“不满意”或“非常不满意”时请说明原因，我们将核实整改并回访您。"),
    )

    def __init__(self, *args: Any, channel: Channel, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        plan = scheme()
        self.fields["level"].choices = plan.level_choices()
        self.fields["level"].label = channel.overall.name
        self.indicator_fields: list[str] = []
        for indicator in channel.scored:
            name = f"{INDICATOR_PREFIX}{indicator.code}"
            self.fields[name] = forms.TypedChoiceField(
                label=indicator.name,
                required=False,
                coerce=int,
                empty_value=None,
                choices=[("", _("不评")), *plan.level_choices()],
            )
            self.indicator_fields.append(name)
        self.order_fields(["level", *self.indicator_fields, "comment"])

    def indicator_bound_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in self.indicator_fields]

    def indicators(self) -> dict[str, int]:
        return {
            name.removeprefix(INDICATOR_PREFIX): value
            for name in self.indicator_fields
            if (value := self.cleaned_data.get(name)) is not None
        }


# Labels of the fields rectification steps ask for (their input schemas name them).
INPUT_LABELS = {
    "finding": _("核实情况"),
    "measures": _("整改措施"),
    "method": _("回访方式"),
    "result": _("回访情况"),
    "satisfaction": _("群众对处理结果的满意度"),
    "reason": _("退回理由"),
    "reply": _("答复群众（群众可见）"),
}
INPUT_CHOICES = {
    "method": [("phone", _("电话回访")), ("visit", _("上门回访")), ("sms", _("短信回访")), ("online", _("网上回访"))],
    "satisfaction": [("satisfied", _("满意")), ("fairly_satisfied", _("基本满意")), ("dissatisfied", _("不满意"))],
}
