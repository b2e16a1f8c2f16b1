"""Forms of the DNA pages: registering a sample with its consent, entering a profile,
reviewing a candidate."""

from __future__ import annotations

from typing import Any

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.dna.models import Role, SamplingPoint
from pingan.dna.records import RecordInfo

RELATIONS_TO_REQUEST = [
    (code, label)
    for code, label in Role.choices
    if code in {"father", "mother", "full_sibling", "half_sibling", "grandparent", "uncle_aunt"}
]


class SampleRegisterForm(forms.Form):
    record_reference = forms.CharField(label=_("团圆记录编号"), max_length=20, widget=forms.HiddenInput)
    donor = forms.ChoiceField(label=_("采样人"))
    point = forms.ModelChoiceField(label=_("采血点"), queryset=SamplingPoint.objects.none(), to_field_name="code")
    lab = forms.CharField(label=_("送检实验室"), max_length=100, required=False)
    agreed = forms.BooleanField(
        label=_("采样人已签署书面知情同意：样本及分型仅用于寻亲身份识别"),
        required=True,
        error_messages={"required": _("采样前须取得本人书面知情同意（仅用于寻亲身份识别）。")},
    )
    keep_after_reunion = forms.BooleanField(label=_("团圆后同意继续保存本人分型（可帮助其他家庭）"), required=False)

    def __init__(self, *args: Any, record: RecordInfo, points: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices: list[tuple[str, str]] = []
        if record.kind != "missing":
            choices.append(("self", str(_("当事人本人"))))
        for relative in record.relatives:
            if relative.can_give_dna and not relative.deceased:
                label = f"{relative.relation_label}"
                if relative.masked_name:
                    label += f"（{relative.masked_name}）"
                choices.append((f"relative:{relative.id}", label))
        self.fields["donor"].choices = choices
        self.fields["point"].queryset = points
        self.record = record

    def donor_parts(self) -> tuple[str, int | None]:
        donor = self.cleaned_data["donor"]
        if donor == "self":
            return "self", None
        relative_id = int(donor.split(":", 1)[1])
        relative = self.record.relative(relative_id)
        return (relative.relation if relative else ""), relative_id


class ProfileEntryForm(forms.Form):
    text = forms.CharField(
        label=_("分型（JSON 或 CSV）"),
        required=False,
        max_length=64 * 1024,
        widget=forms.Textarea(attrs={"rows": 14, "spellcheck": "false", "class": "mono"}),
        help_text=_('JSON：{"D3S1358": [15, 16], "TH01": [9.3]}；CSV：每行“位点,等位基因1,等位基因2”。'),
    )
    upload = forms.FileField(label=_("或上传实验室结果文件（.json / .csv）"), required=False)

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if not data.get("text", "").strip() and not data.get("upload"):
            raise forms.ValidationError(_("请填写分型或上传实验室结果文件。"))
        return data


class ExcludeForm(forms.Form):
    reason = forms.CharField(
        label=_("排除理由"), min_length=2, max_length=1000, widget=forms.Textarea(attrs={"rows": 2})
    )


class RequestRelativeForm(forms.Form):
    relation = forms.ChoiceField(label=_("补采亲属"), choices=RELATIONS_TO_REQUEST)
    note = forms.CharField(label=_("说明"), max_length=1000, required=False)


class RetestForm(forms.Form):
    point = forms.ModelChoiceField(label=_("采血点"), queryset=SamplingPoint.objects.none(), to_field_name="code")
    text = forms.CharField(
        label=_("复核检材分型（JSON 或 CSV）"),
        max_length=64 * 1024,
        widget=forms.Textarea(attrs={"rows": 10, "spellcheck": "false", "class": "mono"}),
    )

    def __init__(self, *args: Any, points: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["point"].queryset = points
