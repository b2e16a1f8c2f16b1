"""Forms of the sign-in and account pages. They check shape and length; the rules on
identifiers live in ``pingan.core.identity`` (through ``actions.citizen_data_clean``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pingan.accounts import actions
from pingan.accounts.models import Kind, User
from pingan.accounts.signin import IDENTIFIER_MAX_LENGTH
from pingan.core.catalog import staff_roles
from pingan.core.identity import parse_resident_id
from pingan.orgs import queries as orgs
from pingan.orgs.models import Level, OrgUnit

# Long enough for any pass phrase; short enough that hashing it costs nothing unusual.
PASSWORD_MAX_LENGTH = 128


def _password_field(label: Any, *, autocomplete: str) -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        max_length=PASSWORD_MAX_LENGTH,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


def role_choices(*, blank: Any = None) -> list[tuple[str, str]]:
    choices = [(code, role.name) for code, role in staff_roles().items()]
    return [("", str(blank)), *choices] if blank is not None else choices


class UnitCodeField(forms.CharField):
    """An org unit typed by its code (e.g. ``370102001``), cleaned to the active unit."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("max_length", 40)
        kwargs.setdefault("help_text", _("单位代码，如 370102001（派出所）或 3701-criminal（警种部门）。"))
        super().__init__(**kwargs)

    def clean(self, value: Any) -> OrgUnit | None:  # type: ignore[override]
        code = super().clean(value)
        if not code:
            return None
        try:
            return orgs.unit_get(code.strip())
        except OrgUnit.DoesNotExist:
            raise ValidationError(
                _("没有代码为 %(code)s 的单位。"), code="unknown_unit", params={"code": code}
            ) from None


class LoginForm(forms.Form):
    username = forms.CharField(
        label=_("账号"),
        max_length=IDENTIFIER_MAX_LENGTH,
        help_text=_("民警：警号；群众：身份证号码或手机号码；合作单位：用户名。"),
        widget=forms.TextInput(attrs={"autocomplete": "username", "autofocus": True}),
    )
    password = _password_field(_("密码"), autocomplete="current-password")


class TokenForm(forms.Form):
    token = forms.CharField(
        label=_("动态口令"),
        max_length=20,
        help_text=_("验证器应用（如手机上的身份验证器）当前显示的6位数字。"),
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )

    def clean_token(self) -> str:
        token = "".join(self.cleaned_data["token"].split())
        RegexValidator(r"^[0-9]{6}$", _("动态口令应为6位数字。"), code="format")(token)
        return token


def county_choices() -> list[tuple[Any, Any]]:
    """County-level bureaus grouped by city, for the residence question."""
    groups: dict[str, list[tuple[str, str]]] = {}
    names = {}
    for unit in orgs.units_filter(level=Level.COUNTY).select_related("parent"):
        groups.setdefault(unit.parent.code, []).append(
            (unit.code, unit.name.removesuffix("公安局").removesuffix("公安分局"))
        )
        names[unit.parent.code] = unit.parent.name.removesuffix("公安局")
    return [("", _("不选择"))] + [(names[city], options) for city, options in groups.items()]


class SignupForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=50, help_text=_("与身份证一致。"))
    id_number = forms.CharField(label=_("身份证号码"), max_length=40)
    phone = forms.CharField(
        label=_("手机号码"),
        max_length=40,
        widget=forms.TextInput(attrs={"autocomplete": "tel", "inputmode": "tel"}),
    )
    county = forms.ChoiceField(
        label=_("居住地区县"),
        required=False,
        help_text=_("选填。选择后可选择为您服务的派出所；不选则由户籍地公安机关服务。"),
    )
    station = forms.CharField(label=_("居住地派出所"), required=False, max_length=12, widget=forms.Select)
    password1 = _password_field(_("密码"), autocomplete="new-password")
    password2 = _password_field(_("再次输入密码"), autocomplete="new-password")
    consent = forms.BooleanField(
        label=_("我已阅读并同意《个人信息保护说明》"),
        error_messages={"required": _("请阅读并同意个人信息保护说明后再注册。")},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html()
        self.fields["county"].choices = county_choices()
        self.fields["county"].widget.attrs.update(
            {"hx-get": reverse("orgs:station_options"), "hx-target": "#id_station", "hx-trigger": "change"}
        )
        chosen = orgs.units_filter(level=Level.STATION, parent=self._county()) if self._county() else []
        self.fields["station"].widget.choices = [("", _("请先选择区县") if not chosen else _("请选择派出所"))] + [
            (unit.code, unit.name) for unit in chosen
        ]

    def _county(self) -> OrgUnit | None:
        code = (self.data.get("county") or "") if self.is_bound else ""
        return orgs.units_filter(level=Level.COUNTY).filter(code=code[:12]).first() if code else None

    def clean_county(self) -> OrgUnit | None:
        return self._county()

    def clean_station(self) -> OrgUnit | None:
        code = (self.cleaned_data.get("station") or "").strip()
        if not code:
            return None
        county = self._county()
        station = orgs.units_filter(level=Level.STATION).filter(code=code).first()
        if station is None or county is None or station.parent_id != county.pk:
            raise ValidationError(_("请选择所选区县下的派出所。"), code="station")
        return station

    def home_org(self) -> OrgUnit | None:
        """Where the citizen lives: the chosen station, else the chosen county, else none."""
        return self.cleaned_data.get("station") or self.cleaned_data.get("county")

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        identity = {field: data.get(field) or "" for field in ("name", "id_number", "phone")}
        try:
            cleaned = actions.citizen_data_clean(**identity)
        except ValidationError as error:
            for field, messages in error.message_dict.items():
                if field not in self.errors:  # a field's own error (e.g. too long) says it already
                    self.add_error(field, messages)
        else:
            data.update(name=cleaned.name, id_number=cleaned.id_number, phone=cleaned.phone)
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif password1:
            candidate = User(kind=Kind.CITIZEN, name=data.get("name") or "", username="")
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class PasswordChangeForm(forms.Form):
    old_password = _password_field(_("原密码"), autocomplete="current-password")
    new_password1 = _password_field(_("新密码"), autocomplete="new-password")
    new_password2 = _password_field(_("再次输入新密码"), autocomplete="new-password")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = password_validation.password_validators_help_text_html()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        if data.get("new_password1") and data.get("new_password2") and data["new_password1"] != data["new_password2"]:
            self.add_error("new_password2", _("两次输入的密码不一致。"))
        return data


class StaffFilterForm(forms.Form):
    unit = UnitCodeField(label=_("单位代码"), required=False)
    role = forms.ChoiceField(label=_("角色"), required=False)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices(blank=_("全部角色"))


class StaffCreateForm(forms.Form):
    badge_number = forms.CharField(label=_("警号"), max_length=20, help_text=_("6位数字，也是登录账号。"))
    name = forms.CharField(label=_("姓名"), max_length=100)
    unit = UnitCodeField(label=_("所在单位代码"))
    roles = forms.MultipleChoiceField(label=_("岗位角色"), widget=forms.CheckboxSelectMultiple)
    password1 = _password_field(_("初始密码"), autocomplete="new-password")
    password2 = _password_field(_("再次输入初始密码"), autocomplete="new-password")

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["roles"].choices = role_choices()
        self.fields["password1"].help_text = password_validation.password_validators_help_text_html()

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        password1, password2 = data.get("password1"), data.get("password2")
        if password1 and password2 and password1 != password2:
            self.add_error("password2", _("两次输入的密码不一致。"))
        elif password1:
            candidate = User(kind=Kind.STAFF, name=data.get("name") or "", username=data.get("badge_number") or "")
            try:
                password_validation.validate_password(password1, candidate)
            except ValidationError as error:
                self.add_error("password1", error)
        return data


class PostAddForm(forms.Form):
    unit = UnitCodeField(label=_("单位代码"))
    role = forms.ChoiceField(label=_("角色"))

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["role"].choices = role_choices()


class CitizenLookupForm(forms.Form):
    id_number = forms.CharField(
        label=_("身份证号码"), max_length=40, widget=forms.TextInput(attrs={"autocomplete": "off", "autofocus": True})
    )

    def clean_id_number(self) -> str:
        return parse_resident_id(self.cleaned_data["id_number"]).number
