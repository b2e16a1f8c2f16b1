"""Forms of 团圆 pages. They only collect what was typed: every rule (dates, ages, ID
numbers, phones, coordinates, county codes, consent) is checked once, in the actions
(``pingan.reunion.validation``), and the errors come back onto these fields."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from pingan.orgs import queries as orgs
from pingan.orgs.models import Kind as OrgKind
from pingan.orgs.models import Level
from pingan.reunion import validation
from pingan.reunion.models import Circumstance, Kind, Method, Relation, Sex

MAX_RELATIVE_ROWS = 6


class CountySelect(forms.Select):
    """A county select whose options carry the county seat's coordinates, so the page's
    script fills latitude and longitude without any map tiles (works offline)."""

    def __init__(self, *args: Any, coordinates: Mapping[str, tuple[float, float]] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.coordinates = dict(coordinates or {})

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):  # type: ignore[no-untyped-def]
        option = super().create_option(name, value, label, selected, index, subindex, attrs)
        point = self.coordinates.get(str(value))
        if point is not None:
            option["attrs"]["data-lat"] = f"{point[0]:.6f}"
            option["attrs"]["data-lon"] = f"{point[1]:.6f}"
        return option


def county_choices() -> tuple[list[Any], dict[str, tuple[float, float]]]:
    """Counties of the org tree grouped by city, and their seats' coordinates."""
    units = list(
        orgs.units()
        .filter(level__in=(Level.CITY, Level.COUNTY), kind__in=(OrgKind.BUREAU, OrgKind.BRANCH))
        .only("code", "name", "level", "path", "latitude", "longitude")
        .order_by("path")
    )
    cities = {unit.path: unit for unit in units if unit.level == Level.CITY}
    groups: dict[str, list[tuple[str, str]]] = {}
    coordinates: dict[str, tuple[float, float]] = {}
    for unit in units:
        if unit.level != Level.COUNTY or not validation.valid_county_code(unit.code):
            continue
        city = cities.get("/".join(unit.path.split("/")[:2]) + "/")
        label = unit.name.removesuffix("公安分局").removesuffix("公安局")
        groups.setdefault(city.name.removesuffix("公安局") if city else "", []).append((unit.code, label))
        coordinates[unit.code] = (unit.latitude, unit.longitude)
    return [("", _("请选择区县")), *[(city, options) for city, options in groups.items()]], coordinates


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files under one name; each is checked by the action (type by content, size)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput(attrs={"accept": "image/jpeg,image/png"}))
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        if isinstance(data, (list, tuple)):
            return [item for item in data if item]
        return [data] if data else []


def _text(
    label: Any, *, max_length: int, required: bool = False, rows: int | None = None, **attrs: Any
) -> forms.CharField:
    widget = forms.Textarea(attrs={"rows": rows, **attrs}) if rows else forms.TextInput(attrs=attrs)
    return forms.CharField(label=label, max_length=max_length, required=required, widget=widget, strip=True)


class RecordForm(forms.Form):
    """One record: the person, the event, the place. ``kind`` decides which fields show."""

    name = _text(_("姓名"), max_length=50)
    sex = forms.ChoiceField(label=_("性别"), required=False, choices=[("", "—"), *Sex.choices])
    id_number = _text(_("身份证号码（如有）"), max_length=18, autocomplete="off")
    birth_date = _text(_("出生日期"), max_length=10, type="date")
    age_at_event = _text(_("当时年龄（不知道出生日期时填写，估计也可）"), max_length=3, inputmode="numeric")
    age_min = _text(_("估计年龄（最小）"), max_length=3, inputmode="numeric")
    age_max = _text(_("估计年龄（最大）"), max_length=3, inputmode="numeric")
    height_cm = _text(_("身高（厘米，当时）"), max_length=3, inputmode="numeric")
    circumstance = forms.ChoiceField(label=_("情形"), required=False)
    event_date = _text(_("失踪日期"), max_length=10, type="date")
    event_date_approx = forms.BooleanField(label=_("日期为估计"), required=False)
    event_time = _text(_("大约时间（时:分）"), max_length=5, type="time")
    place_text = _text(_("最后出现的地点"), max_length=200)
    division_code = forms.ChoiceField(label=_("所在区县"), required=False)
    latitude = _text(_("纬度"), max_length=20, inputmode="decimal")
    longitude = _text(_("经度"), max_length=20, inputmode="decimal")
    marks = _text(_("体表特征（胎记、疤痕、痣等）"), max_length=2000, rows=3)
    mark_tags = forms.MultipleChoiceField(
        label=_("特征标签"),
        required=False,
        choices=[(tag, tag) for tag in validation.MARK_TAGS],
        widget=forms.CheckboxSelectMultiple,
    )
    dialect = _text(_("口音/方言"), max_length=40)
    circumstances = _text(_("经过"), max_length=4000, rows=4)
    public_description = _text(_("可公开的描述（衣着等，发布预警时使用）"), max_length=1000, rows=2)
    reporter_relation = forms.ChoiceField(label=_("您与失踪人员的关系"), required=False)
    consent = forms.BooleanField(
        label=_(
            "我同意：登记的个人信息仅用于查找失踪人员和寻亲；亲属自愿提供的DNA样本仅用于身份识别，不作他用，团圆后除本人同意保存外予以删除。"
        ),
        required=False,
    )
    photos = MultipleFileField(label=_("照片（JPG/PNG，每张不超过5MB，最多6张）"), required=False)

    def __init__(self, *args: Any, kind: str, online: bool, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.kind, self.online = kind, online
        self.fields["circumstance"].choices = [
            ("", "—"),
            *[(code, Circumstance(code).label) for code in validation.CIRCUMSTANCES[kind]],
        ]
        choices, coordinates = county_choices()
        self.fields["division_code"].choices = choices
        self.fields["division_code"].widget = CountySelect(
            choices=choices,
            coordinates=coordinates,
            attrs={"data-county-picker": "1", "data-lat-field": "id_latitude", "data-lon-field": "id_longitude"},
        )
        self.fields["reporter_relation"].choices = [("", "—"), *Relation.choices]
        if kind == Kind.FOUND:
            self.fields["event_date"].label = _("发现日期")
            self.fields["place_text"].label = _("发现地点")
            self.fields["name"].label = _("自述姓名（如有）")
            for name in ("age_at_event", "reporter_relation", "consent"):
                del self.fields[name]
        elif kind == Kind.SEEKER:
            self.fields["name"].label = _("现用姓名")
            self.fields["event_date"].label = _("大约何时与家人分离")
            self.fields["place_text"].label = _("记得的家乡或幼年生活地")
            self.fields["height_cm"].label = _("现在身高（厘米）")
            self.fields["age_min"].label = _("分离时大约几岁（最小）")
            self.fields["age_max"].label = _("分离时大约几岁（最大）")
            self.fields["birth_date"].label = _("出生日期（如确知）")
            for name in ("age_at_event", "reporter_relation", "event_time", "public_description"):
                del self.fields[name]
        else:
            for name in ("age_min", "age_max"):
                del self.fields[name]
        if not online:
            self.fields.pop("consent", None)
        if kind == Kind.FOUND or not online:
            self.fields["place_text"].help_text = _("可填写省外地点；区县可不选，直接填写经纬度。")

    def photo_files(self) -> list[Any]:
        return list(self.cleaned_data.get("photos") or [])

    def data_for_action(self) -> dict[str, Any]:
        data = {name: value for name, value in self.cleaned_data.items() if name != "photos"}
        data["mark_tags"] = list(self.cleaned_data.get("mark_tags") or [])
        data["consent"] = bool(self.cleaned_data.get("consent"))
        return data


class RelativeForm(forms.Form):
    relation = forms.ChoiceField(label=_("关系"), required=False, choices=[("", "—"), *Relation.choices])
    name = _text(_("姓名"), max_length=50)
    phone = _text(_("手机号码"), max_length=20, inputmode="tel")
    can_give_dna = forms.BooleanField(label=_("可采集DNA"), required=False, initial=True)
    deceased = forms.BooleanField(label=_("已故"), required=False)

    def has_entry(self) -> bool:
        data = getattr(self, "cleaned_data", {}) or {}
        return bool(data.get("relation") or data.get("name") or data.get("phone"))


RelativeFormSet = forms.formset_factory(
    RelativeForm, extra=3, max_num=MAX_RELATIVE_ROWS, absolute_max=MAX_RELATIVE_ROWS
)


def relatives_from(formset: Any) -> list[dict[str, Any]]:
    return [form.cleaned_data for form in formset.forms if form.is_valid() and form.has_entry()]


def place_errors(form: RecordForm, formset: Any, error: ValidationError) -> None:
    """Put an action's errors onto the form's and formset's fields."""
    for key, problems in error.message_dict.items():
        if key.startswith("relatives."):
            parts = key.split(".")
            if len(parts) == 3 and parts[1].isdigit():
                entered = [f for f in formset.forms if f.is_valid() and f.has_entry()]
                index = int(parts[1])
                if index < len(entered) and parts[2] in entered[index].fields:
                    entered[index].add_error(parts[2], problems)
                    continue
            form.add_error(None, problems)
            continue
        field = {"event_at": "event_time", "longitude": "latitude", "reference": None, "org": None}.get(key, key)
        if field in form.fields:
            form.add_error(field, problems)
        else:
            form.add_error(None, problems)


class ReunionForm(forms.Form):
    found_reference = _text(_("配对记录编号（身份不明人员或寻亲人员）"), max_length=20, required=True)
    method = forms.ChoiceField(label=_("认定方式"), choices=Method.choices)
    evidence = _text(_("依据（如DNA比中编号）"), max_length=200)
    note = _text(_("说明"), max_length=2000, rows=2)


class RelativeAddForm(RelativeForm):
    id_number = _text(_("身份证号码（如有）"), max_length=18, autocomplete="off")


class PhotoForm(forms.Form):
    photo = forms.FileField(
        label=_("照片（JPG/PNG，不超过5MB）"), widget=forms.ClearableFileInput(attrs={"accept": "image/jpeg,image/png"})
    )
    caption = _text(_("说明"), max_length=200)
    public = forms.BooleanField(label=_("可在紧急预警中公开"), required=False)
