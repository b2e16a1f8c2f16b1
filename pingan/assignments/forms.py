from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.assignments.models import MAX_WORKING_DAYS, Plan, PlanArea
from pingan.orgs.models import Kind, OrgUnit


class AssignmentForm(forms.Form):
    title = forms.CharField(label=_("事项"), min_length=2, max_length=200)
    description = forms.CharField(
        label=_("要求"), widget=forms.Textarea(attrs={"rows": 4}), required=False, max_length=4000
    )
    org = forms.CharField(
        label=_("承办单位代码"), max_length=40, help_text=_("派出所或公安机关的代码，如 370102001（解放路派出所）。")
    )
    working_days = forms.IntegerField(
        label=_("办理时限（工作日）"), min_value=1, max_value=MAX_WORKING_DAYS, initial=10
    )
    plan = forms.ModelChoiceField(label=_("工作方案"), queryset=Plan.objects.none(), required=False)
    area = forms.ModelChoiceField(label=_("工作领域"), queryset=PlanArea.objects.none(), required=False)
    key_task = forms.BooleanField(label=_("重点任务"), required=False)

    def __init__(self, *args: Any, plans: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if plans is not None:
            self.fields["plan"].queryset = plans
            self.fields["area"].queryset = PlanArea.objects.filter(plan__in=plans).select_related("plan")

    def clean_org(self) -> OrgUnit:
        code = self.cleaned_data["org"].strip()
        unit = OrgUnit.objects.filter(code=code, is_active=True).exclude(kind=Kind.DEPARTMENT).first()
        if unit is None:
            raise forms.ValidationError(_("未找到代码为 %(code)s 的单位。"), params={"code": code}, code="unknown_org")
        return unit


# Labels of the fields workflow steps ask for (their input schemas name them).
INPUT_LABELS = {
    "note": _("交办说明"),
    "reason": _("理由"),
    "question": _("需要补充的内容"),
    "answer": _("补充说明"),
    "summary": _("办理情况"),
    "comment": _("审核意见"),
}


def input_label(name: str) -> str:
    return str(INPUT_LABELS.get(name, name))
