"""Forms of the e-bike pages: they collect input; the actions check it (``rules``)."""

from __future__ import annotations

from django import forms
from django.utils.translation import gettext_lazy as _

from pingan.ebikes import imports

TEXT = {"autocomplete": "off"}


class PreRegisterForm(forms.Form):
    """The online pre-registration; the same fields as the ``ebike_registration`` service."""

    brand = forms.CharField(label=_("品牌"), max_length=50, widget=forms.TextInput(attrs={"list": "ebike-brands"}))
    model = forms.CharField(
        label=_("型号"),
        max_length=60,
        help_text=_("以车辆合格证上的产品型号为准，例如 TDT1000Z。"),
        widget=forms.TextInput(attrs={"list": "ebike-models"}),
    )
    colour = forms.CharField(label=_("车身颜色"), max_length=20)
    frame_number = forms.CharField(
        label=_("车架号"), max_length=40, help_text=_("车架上钢印的整车编码。"), widget=forms.TextInput(attrs=TEXT)
    )
    motor_number = forms.CharField(label=_("电机号"), max_length=40, widget=forms.TextInput(attrs=TEXT))
    purchase_date = forms.CharField(label=_("购买日期"), max_length=20, widget=forms.DateInput(attrs={"type": "date"}))
    invoice_number = forms.CharField(label=_("购车发票号码"), max_length=30, widget=forms.TextInput(attrs=TEXT))


class UploadForm(forms.Form):
    file = forms.FileField(
        label=_("销售记录文件"),
        help_text=_("CSV 或 Excel（.xlsx）文件，第一行为表头，每次最多%(n)s行。") % {"n": imports.MAX_ROWS},
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
