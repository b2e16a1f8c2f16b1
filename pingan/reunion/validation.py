"""Checking what people type into a 团圆 record, at the edge, before anything is stored.

Every check collects its problems per field (``{"event_date": [...], "relatives.0.phone":
[...]}``) and raises one ``ValidationError`` with all of them, so a form shows every
mistake at once and an action stores nothing half. Identifiers go through
``pingan.core.identity`` (the same rules and messages everywhere); coordinates through
``pingan.core.geo``.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.core import context, geo, identity
from pingan.reunion.models import Circumstance, Kind, Relation, Sex

# Which circumstances fit which kind of record.
CIRCUMSTANCES: dict[str, tuple[str, ...]] = {
    Kind.MISSING: (Circumstance.ABDUCTED, Circumstance.LOST, Circumstance.RUNAWAY, Circumstance.UNKNOWN),
    Kind.FOUND: (Circumstance.RESCUED, Circumstance.SUSPECTED, Circumstance.WANDERING, Circumstance.UNABLE),
    Kind.SEEKER: (Circumstance.ADOPTED, Circumstance.ABDUCTED, Circumstance.LOST, Circumstance.UNKNOWN),
}

# Tags an officer or a family can tick besides the free text (the matcher compares them;
# stored as the words themselves, so its reasons read "体表特征相符：胎记、疤痕").
MARK_TAGS: tuple[str, ...] = (
    "胎记",
    "疤痕",
    "痣",
    "纹身",
    "烫伤痕迹",
    "缺牙",
    "多指（趾）",
    "肢体残疾",
    "言语障碍",
    "双发旋",
    "兔唇",
    "斜视",
)

OLDEST_AGE = 110
EARLIEST_YEAR = 1900
MAX_TEXT = {
    "name": 50,
    "place_text": 200,
    "marks": 2000,
    "dialect": 40,
    "circumstances": 4000,
    "public_description": 1000,
}
# The consent statement a family or seeker accepts online (its version is kept on the record).
CONSENT_VERSION = "2025-1"

PHOTO_TYPES = {"jpg": "image/jpeg", "jpeg": "image/jpeg", "png": "image/png"}
PHOTO_SIGNATURES = {"jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",), "png": (b"\x89PNG\r\n\x1a\n",)}
PHOTO_MAX_BYTES = 5 * 1024 * 1024
PHOTOS_MAX = 6
RELATIVES_MAX = 12


def _text(data: Mapping[str, Any], key: str, errors: dict[str, list[str]], *, required: bool = False) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        errors.setdefault(key, []).append(_("格式不正确。"))
        return ""
    value = value.strip()
    if "\x00" in value:
        errors.setdefault(key, []).append(_("含有无效字符。"))
        return ""
    if required and not value:
        errors.setdefault(key, []).append(_("此项为必填项。"))
    limit = MAX_TEXT.get(key)
    if limit and len(value) > limit:
        errors.setdefault(key, []).append(_("最多 %(n)s 个字。") % {"n": limit})
    return value


def _date(value: Any, key: str, errors: dict[str, list[str]], *, required: bool) -> dt.date | None:
    if value in (None, ""):
        if required:
            errors.setdefault(key, []).append(_("此项为必填项。"))
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    errors.setdefault(key, []).append(_("请输入有效日期（年-月-日）。"))
    return None


def _int(value: Any, key: str, errors: dict[str, list[str]], *, low: int, high: int) -> int | None:
    if value in (None, ""):
        return None
    if isinstance(value, bool):
        errors.setdefault(key, []).append(_("请输入整数。"))
        return None
    try:
        number = int(str(value).strip())
    except (TypeError, ValueError):
        errors.setdefault(key, []).append(_("请输入整数。"))
        return None
    if not low <= number <= high:
        errors.setdefault(key, []).append(_("应在 %(low)s 至 %(high)s 之间。") % {"low": low, "high": high})
        return None
    return number


def _time(value: Any, errors: dict[str, list[str]]) -> dt.time | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.time):
        return value
    if isinstance(value, str) and re.fullmatch(r"\d{1,2}:\d{2}", value.strip()):
        hours, minutes = (int(part) for part in value.strip().split(":"))
        if hours < 24 and minutes < 60:
            return dt.time(hours, minutes)
    errors.setdefault("event_time", []).append(_("请输入有效时间（时:分）。"))
    return None


def valid_county_code(code: str) -> bool:
    """A county-level GB/T 2260 code (current or abolished: a 1997 event keeps the code of
    its day)."""
    return bool(re.fullmatch(r"\d{6}", code)) and not code.endswith("00") and code in identity.county_codes()


@dataclass(frozen=True)
class Cleaned:
    """A record's fields, checked, ready for the model."""

    fields: dict[str, Any]
    event_at: dt.datetime | None


def clean_record(*, kind: str, data: Mapping[str, Any], require_consent: bool) -> Cleaned:
    """Check one record's data; raise ``ValidationError`` naming every field that is wrong."""
    errors: dict[str, list[str]] = {}
    if not isinstance(data, Mapping):
        raise ValidationError({"__all__": [_("登记内容格式不正确。")]})
    if kind not in Kind.values:
        raise ValidationError({"kind": [_("没有这种登记类别。")]})
    today = timezone.localdate(context.now())
    fields: dict[str, Any] = {}

    if require_consent and data.get("consent") is not True:
        errors["consent"] = [
            _("请阅读并同意：登记的信息仅用于查找失踪人员和寻亲；所采集的DNA仅用于身份识别。未同意不能提交。")
        ]

    name = _text(data, "name", errors, required=kind != Kind.FOUND)
    fields["name_sealed"] = name

    sex = data.get("sex", "")
    allowed_sexes = Sex.values if kind == Kind.FOUND else [Sex.MALE, Sex.FEMALE]
    if sex not in allowed_sexes:
        errors["sex"] = [_("请选择性别。")]
    fields["sex"] = sex if sex in Sex.values else Sex.UNKNOWN

    circumstance = data.get("circumstance", "")
    if circumstance not in CIRCUMSTANCES[kind]:
        names = "、".join(str(Circumstance(code).label) for code in CIRCUMSTANCES[kind])
        errors["circumstance"] = [_("请选择情形：%(names)s。") % {"names": names}]
    fields["circumstance"] = circumstance

    event_date = _date(data.get("event_date"), "event_date", errors, required=True)
    if event_date is not None:
        if event_date > today:
            errors.setdefault("event_date", []).append(_("日期不能晚于今天。"))
        elif event_date.year < EARLIEST_YEAR:
            errors.setdefault("event_date", []).append(_("日期不能早于%(year)s年。") % {"year": EARLIEST_YEAR})
    fields["event_date_approx"] = bool(data.get("event_date_approx", False))
    event_time = _time(data.get("event_time"), errors)

    birth_date = _date(data.get("birth_date"), "birth_date", errors, required=False)
    age_at_event = _int(data.get("age_at_event"), "age_at_event", errors, low=0, high=OLDEST_AGE)
    age_min = _int(data.get("age_min"), "age_min", errors, low=0, high=OLDEST_AGE)
    age_max = _int(data.get("age_max"), "age_max", errors, low=0, high=OLDEST_AGE)
    if age_at_event is not None and age_min is None and age_max is None:
        age_min = age_max = age_at_event
    if (age_min is None) != (age_max is None):
        age_min = age_max = age_min if age_min is not None else age_max
    if age_min is not None and age_max is not None and age_min > age_max:
        errors.setdefault("age_max", []).append(_("最大年龄不能小于最小年龄。"))

    id_number = _text(data, "id_number", errors)
    resident: identity.ResidentId | None = None
    if id_number:
        try:
            resident = identity.parse_resident_id(id_number, today=today)
        except ValidationError as error:
            errors.setdefault("id_number", []).extend(error.messages)
    fields["id_number_sealed"] = resident.number if resident else ""
    if resident is not None:
        if birth_date is None:
            birth_date = resident.birth_date
        elif birth_date != resident.birth_date:
            errors.setdefault("birth_date", []).append(_("出生日期与身份证号码不一致。"))
        if sex in (Sex.MALE, Sex.FEMALE) and sex != resident.sex:
            errors.setdefault("sex", []).append(_("性别与身份证号码不一致。"))

    if birth_date is not None:
        if birth_date > today:
            errors.setdefault("birth_date", []).append(_("出生日期不能晚于今天。"))
        elif birth_date.year < EARLIEST_YEAR:
            errors.setdefault("birth_date", []).append(_("出生日期无效。"))
        elif event_date is not None and birth_date > event_date:
            errors.setdefault("birth_date", []).append(_("出生日期不能晚于失踪（发现）日期。"))
        elif event_date is not None and event_date.year - birth_date.year > OLDEST_AGE:
            errors.setdefault("birth_date", []).append(_("年龄不合常理，请核对出生日期。"))
        fields.update(birth_date=birth_date, birth_year_min=birth_date.year, birth_year_max=birth_date.year)
    elif age_min is not None and age_max is not None and event_date is not None:
        # Aged a (whole years) on the event date: born in the event's year minus a, or a year earlier.
        fields.update(
            birth_date=None,
            birth_year_min=max(EARLIEST_YEAR, event_date.year - age_max - 1),
            birth_year_max=event_date.year - age_min,
        )
    elif "birth_date" not in errors and "age_at_event" not in errors and "event_date" not in errors:
        errors["birth_date"] = [_("请填写出生日期，或填写当时的年龄（估计也可）。")]

    if kind == Kind.SEEKER and "birth_year_max" in fields and fields["birth_year_max"] > today.year - 18:
        errors.setdefault("birth_date", []).append(_("自主寻亲登记仅限成年人（18周岁以上）。"))

    height = _int(data.get("height_cm"), "height_cm", errors, low=30, high=250)
    fields["height_cm"] = height

    fields["marks"] = _text(data, "marks", errors)
    tags = data.get("mark_tags") or []
    if isinstance(tags, str) or not isinstance(tags, Iterable):
        errors["mark_tags"] = [_("格式不正确。")]
        tags = []
    tags = sorted(set(tags))
    unknown = [tag for tag in tags if tag not in MARK_TAGS]
    if unknown:
        errors["mark_tags"] = [_("未知的特征标签：%(tags)s。") % {"tags": "、".join(map(str, unknown))}]
    fields["mark_tags"] = [tag for tag in tags if tag in MARK_TAGS]
    fields["dialect"] = _text(data, "dialect", errors)
    fields["place_text"] = _text(data, "place_text", errors, required=True)
    fields["circumstances"] = _text(data, "circumstances", errors)
    fields["public_description"] = _text(data, "public_description", errors)

    relation = data.get("reporter_relation", "") or ""
    if relation and relation not in Relation.values:
        errors["reporter_relation"] = [_("请选择与当事人的关系。")]
    fields["reporter_relation"] = relation if relation in Relation.values else ""

    latitude, longitude = data.get("latitude"), data.get("longitude")
    if latitude in (None, "") and longitude in (None, ""):
        fields.update(latitude=None, longitude=None)
    else:
        try:
            where = geo.point(latitude, longitude)
        except geo.InvalidPoint:
            errors["latitude"] = [_("纬度应在 -90 至 90 之间，经度应在 -180 至 180 之间，且两项都要填写。")]
        else:
            fields.update(latitude=round(where.latitude, 6), longitude=round(where.longitude, 6))

    division = _text(data, "division_code", errors)
    if division and not valid_county_code(division):
        errors.setdefault("division_code", []).append(
            _("%(code)s 不是有效的县级行政区划代码。") % {"code": division[:12]}
        )
    fields["division_code"] = division if "division_code" not in errors else ""

    event_at = None
    if event_date is not None and event_time is not None and "event_date" not in errors:
        event_at = timezone.make_aware(dt.datetime.combine(event_date, event_time))
        if event_at > context.now() + dt.timedelta(minutes=5):
            errors.setdefault("event_time", []).append(_("时间不能晚于现在。"))
    fields["event_date"] = event_date
    fields["event_at"] = event_at

    if errors:
        raise ValidationError(errors)
    return Cleaned(fields=fields, event_at=event_at)


def clean_relatives(relatives: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Check the relatives named on a record (keys ``relatives.<n>.<field>`` in errors)."""
    errors: dict[str, list[str]] = {}
    if len(relatives) > RELATIVES_MAX:
        raise ValidationError({"relatives": [_("最多登记 %(n)s 位亲属。") % {"n": RELATIVES_MAX}]})
    result = []
    for index, entry in enumerate(relatives):
        prefix = f"relatives.{index}."
        if not isinstance(entry, Mapping):
            errors[f"{prefix}relation"] = [_("格式不正确。")]
            continue
        local: dict[str, list[str]] = {}
        relation = entry.get("relation", "")
        if relation not in Relation.values:
            local["relation"] = [_("请选择与当事人的关系。")]
        name = _text(entry, "name", local)
        phone = entry.get("phone") or ""
        deceased = bool(entry.get("deceased", False))
        can_give_dna = bool(entry.get("can_give_dna", True)) and not deceased
        normal_phone = ""
        if phone:
            try:
                normal_phone = identity.normalize_mobile(phone)
            except ValidationError as error:
                local["phone"] = error.messages
        elif can_give_dna:
            local["phone"] = [_("可采集DNA的亲属请留下手机号码，以便通知采血。")]
        id_number = (entry.get("id_number") or "").strip() if isinstance(entry.get("id_number"), str) else ""
        number = ""
        if id_number:
            try:
                number = identity.parse_resident_id(id_number).number
            except ValidationError as error:
                local["id_number"] = error.messages
        for key, problems in local.items():
            errors[prefix + key] = problems
        result.append(
            {
                "relation": relation,
                "name_sealed": name,
                "phone_sealed": normal_phone,
                "id_number_sealed": number,
                "can_give_dna": can_give_dna,
                "deceased": deceased,
            }
        )
    if errors:
        raise ValidationError(errors)
    return result


@dataclass(frozen=True)
class CheckedPhoto:
    token: str
    extension: str
    content_type: str
    content: bytes
    sha256: str


def check_photo(upload: UploadedFile, *, field: str = "photos") -> CheckedPhoto:
    """A photo checked by content (JPEG or PNG signature), size and name; read into memory
    so the file can be written after the database commits."""
    name = (getattr(upload, "name", "") or "").rsplit("/", 1)[-1]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in PHOTO_TYPES:
        raise ValidationError({field: [_("照片只接受 JPG 或 PNG 格式（%(name)s）。") % {"name": name[:60]}]})
    size = getattr(upload, "size", None)
    if not size:
        raise ValidationError({field: [_("照片文件是空的（%(name)s）。") % {"name": name[:60]}]})
    if size > PHOTO_MAX_BYTES:
        raise ValidationError(
            {
                field: [
                    _("照片不能超过 %(n)s MB（%(name)s）。") % {"n": PHOTO_MAX_BYTES // 1024 // 1024, "name": name[:60]}
                ]
            }
        )
    upload.seek(0)
    content = upload.read()
    upload.seek(0)
    if not any(content.startswith(signature) for signature in PHOTO_SIGNATURES[extension]):
        raise ValidationError(
            {
                field: [
                    _("文件内容不是有效的 %(type)s 图片（%(name)s）。") % {"type": extension.upper(), "name": name[:60]}
                ]
            }
        )
    return CheckedPhoto(
        token=secrets.token_hex(16),
        extension="jpg" if extension == "jpeg" else extension,
        content_type=PHOTO_TYPES[extension],
        content=content,
        sha256=hashlib.sha256(content).hexdigest(),
    )


def check_photos(uploads: Sequence[UploadedFile]) -> list[CheckedPhoto]:
    if len(uploads) > PHOTOS_MAX:
        raise ValidationError({"photos": [_("最多上传 %(n)s 张照片。") % {"n": PHOTOS_MAX}]})
    problems: list[str] = []
    checked = []
    for upload in uploads:
        try:
            checked.append(check_photo(upload))
        except ValidationError as error:
            problems.extend(error.message_dict.get("photos", error.messages))
    if problems:
        raise ValidationError({"photos": problems})
    return checked


@dataclass
class Submission:
    """A record as submitted, each part cleaned where it could be, and every problem found
    (the caller adds its own, then :meth:`raise_problems` reports them all at once)."""

    record: Cleaned | None
    relatives: list[dict[str, Any]] | None
    photos: list[CheckedPhoto] | None
    problems: list[ValidationError] = field(default_factory=list)

    def raise_problems(self) -> tuple[Cleaned, list[dict[str, Any]], list[CheckedPhoto]]:
        error = merge(*self.problems)
        if error is not None:
            raise error
        assert self.record is not None
        assert self.relatives is not None
        assert self.photos is not None
        return self.record, self.relatives, self.photos


def clean_submission(
    *,
    kind: str,
    data: Mapping[str, Any],
    relatives: Sequence[Mapping[str, Any]],
    photos: Sequence[UploadedFile],
    require_consent: bool,
) -> Submission:
    """The record, its relatives and its photos checked together, so one answer lists
    every problem."""
    submission = Submission(None, None, None)
    steps: list[tuple[str, Callable[[], Any]]] = [
        ("record", lambda: clean_record(kind=kind, data=data, require_consent=require_consent)),
        ("relatives", lambda: clean_relatives(relatives)),
        ("photos", lambda: check_photos(photos)),
    ]
    for part, clean in steps:
        try:
            setattr(submission, part, clean())
        except ValidationError as error:
            submission.problems.append(error)
    return submission


def merge(*errors: ValidationError | None) -> ValidationError | None:
    """One error with every field's problems (``None`` if there are none)."""
    combined: dict[str, list[str]] = {}
    for error in errors:
        if error is None:
            continue
        for key, problems in error.message_dict.items():
            combined.setdefault(key, []).extend(problems)
    return ValidationError(combined) if combined else None
