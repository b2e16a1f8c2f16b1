"""Reading a dealer's file of bicycles sold (CSV or Excel .xlsx) and checking each row.

The file: one header row naming the columns (``COLUMNS``: Chinese names, or the field
codes), then one bicycle per row. Rows are numbered as a spreadsheet shows them (the
header is row 1). Writes happen in ``actions.import_batch``; this module only reads.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import unicodedata
import warnings
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.accounts import queries as accounts_queries
from pingan.core.identity import blind_index, normalise_resident_id, normalize_mobile, parse_resident_id
from pingan.ebikes import rules

MAX_BYTES = 2 * 1024 * 1024
MAX_ROWS = 2000


@dataclass(frozen=True)
class Column:
    field: str
    label: str
    aliases: tuple[str, ...] = ()


COLUMNS = (
    Column("buyer_id_number", "购车人身份证号码", ("身份证号码", "购车人身份证号", "身份证号")),
    Column("buyer_mobile", "购车人手机号码", ("手机号码", "手机号", "购车人手机号", "buyer_phone")),
    Column("brand", "品牌"),
    Column("model", "型号", ("车型", "产品型号")),
    Column("colour", "车身颜色", ("颜色", "color")),
    Column("frame_number", "车架号", ("整车编码", "车架号（整车编码）")),
    Column("motor_number", "电机号", ("电机编码",)),
    Column("purchase_date", "购买日期", ("销售日期", "购车日期")),
    Column("invoice_number", "发票号码", ("购车发票号码", "发票号")),
)
LABELS = {column.field: column.label for column in COLUMNS}
EXAMPLE_ROW = (
    "370102198806150242",
    "13905310001",
    "泉骑",
    "TDT1000Z",
    "白色",
    "QQ2021A0001234",
    "48V350W-2105001",
    "2021-05-01",
    "12345678",
)


def _header_key(value: Any) -> str:
    text = unicodedata.normalize("NFKC", str(value or "")).strip().lower()
    return "".join(text.split())


HEADER_LOOKUP = {
    _header_key(name): column.field for column in COLUMNS for name in (column.field, column.label, *column.aliases)
}


class Row(NamedTuple):  # a tuple: immutable, made for every row of a file in half the time
    number: int  # as the spreadsheet shows it: the header is row 1
    values: dict[str, Any]


@dataclass(frozen=True)
class Table:
    format: str  # "csv" | "xlsx"
    rows: list[Row]


@dataclass(frozen=True)
class RowError:
    field: str
    message: str

    @property
    def column(self) -> str:
        return LABELS.get(self.field, self.field) or _("整行")


def _format_of(file_name: str, content: bytes) -> str:
    name = (file_name or "").lower()
    if content[:4] == b"PK\x03\x04":
        if not name.endswith(".xlsx"):
            raise ValidationError({"file": [_("请上传 .xlsx 格式的Excel文件（不支持 .xls），或 CSV 文件。")]})
        return "xlsx"
    if name.endswith((".xlsx", ".xls")):
        raise ValidationError({"file": [_("无法读取该Excel文件：请用Excel另存为 .xlsx 格式后重新上传。")]})
    return "csv"


def _decode(content: bytes) -> str:
    # Excel's "CSV UTF-8" carries a BOM; its plain "CSV" on Chinese Windows is GB18030 (GBK).
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ValidationError({"file": [_("无法识别文件编码，请保存为UTF-8编码的CSV文件。")]})


def _csv_rows(content: bytes) -> list[list[Any]]:
    text = _decode(content)
    if "\x00" in text:
        raise ValidationError({"file": [_("文件内容无效。")]})
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    try:
        return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    except csv.Error:
        raise ValidationError({"file": [_("CSV文件格式有误，无法读取。")]}) from None


def _xlsx_rows(content: bytes) -> list[list[Any]]:
    from openpyxl import load_workbook

    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions some spreadsheet programs write.
            warnings.simplefilter("ignore")
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
            try:
                sheet = workbook.worksheets[0]
                rows: list[list[Any]] = []
                for values in sheet.iter_rows(values_only=True):
                    rows.append(list(values))
                    if len(rows) > MAX_ROWS + 1:
                        break
            finally:
                workbook.close()
    except (zipfile.BadZipFile, KeyError, ValueError, OSError, IndexError, TypeError):
        raise ValidationError({"file": [_("无法读取该Excel文件：文件已损坏或不是 .xlsx 格式。")]}) from None
    return rows


def _blank(values: list[Any]) -> bool:
    try:
        return not "".join(values).strip()  # a CSV row: all text
    except TypeError:  # a spreadsheet row: empty cells are None, others may be numbers or dates
        return all(value is None or (isinstance(value, str) and not value.strip()) for value in values)


def read_table(*, file_name: str, content: bytes) -> Table:
    """The rows of a dealer's file, keyed by field; ``ValidationError`` (key ``file``) when
    the file as a whole cannot be used: too large, unreadable, header missing columns."""
    if not content:
        raise ValidationError({"file": [_("文件是空的。")]})
    if len(content) > MAX_BYTES:
        raise ValidationError({"file": [_("文件不能超过2MB，请分批导入。")]})
    kind = _format_of(file_name, content)
    raw = _xlsx_rows(content) if kind == "xlsx" else _csv_rows(content)
    numbered = [(number, values) for number, values in enumerate(raw, start=1) if not _blank(values)]
    if not numbered:
        raise ValidationError({"file": [_("文件中没有数据。")]})
    _header_number, header = numbered[0]
    fields: dict[int, str] = {}
    unknown = []
    for index, name in enumerate(header):
        if name is None or not str(name).strip():
            continue
        key = HEADER_LOOKUP.get(_header_key(name))
        if key is None:
            unknown.append(str(name).strip())
        elif key in fields.values():
            raise ValidationError({"file": [_("表头中“%(name)s”出现了两次。") % {"name": str(name).strip()}]})
        else:
            fields[index] = key
    missing = [column.label for column in COLUMNS if column.field not in fields.values()]
    if missing:
        raise ValidationError(
            {
                "file": [
                    _("表头缺少以下列：%(missing)s。请使用导入模板（第一行为表头）。") % {"missing": "、".join(missing)}
                    + (_("无法识别的列：%(unknown)s。") % {"unknown": "、".join(unknown)} if unknown else "")
                ]
            }
        )
    rows = [
        Row(
            number=number,
            values={key: (values[index] if index < len(values) else None) for index, key in fields.items()},
        )
        for number, values in numbered[1:]
    ]
    if not rows:
        raise ValidationError({"file": [_("文件中只有表头，没有车辆数据。")]})
    if len(rows) > MAX_ROWS:
        raise ValidationError({"file": [_("每次最多导入%(n)s行，请分批导入。") % {"n": MAX_ROWS}]})
    return Table(format=kind, rows=rows)


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


@dataclass(slots=True)
class CheckedRow:
    """One row after every check that needs no lock: its problems by column or, when it has
    none, the bicycle and its buyer (``owner_id``: their citizen account, if they have one)."""

    row: Row
    frame: str  # normalised, even when the row has problems (for the report)
    errors: list[RowError]
    bike: rules.BikeData | None = None
    id_number: str = ""
    id_hash: str = ""
    phone: str = ""
    owner_id: int | None = None

    @property
    def ok(self) -> bool:
        return not self.errors and self.bike is not None


@dataclass(frozen=True)
class FileLookups:
    """What the rows of a file need from the database, each found in one query for the
    whole file before any row is checked (``look_up``)."""

    products: rules.Products  # the catalogue products the rows name
    id_hashes: dict[str, str]  # the keyed hash of each buyer's ID number (normalised), by number
    owners: dict[str, int]  # buyers' citizen accounts, by that hash
    frames: list[str]  # every row's frame number, normalised (whoever writes looks up their holders)


def look_up(rows: list[Row]) -> FileLookups:
    """Read what every row names (product, buyer, frame) as the checks will, without
    checking it: a row that turns out bad simply finds nothing."""
    products = rules.products_named((row.values.get("brand"), row.values.get("model")) for row in rows)
    numbers = {normalise_resident_id(_text(row.values.get("buyer_id_number"))) for row in rows}
    id_hashes = {number: blind_index(number, purpose="id_number") for number in numbers}
    owners = accounts_queries.citizen_ids_for_id_hashes(id_hashes.values())
    frames = [rules.normalise_frame(row.values.get("frame_number")) for row in rows]
    return FileLookups(products, id_hashes, owners, frames)


def checked_rows(rows: list[Row], lookups: FileLookups) -> Iterator[CheckedRow]:
    """Every row checked, one at a time in file order: on its own (``_check``), then
    against the rows before it (a frame number twice in one file: the first one counts).
    A generator, so a writer can send each good row on while the next is checked. Whether
    a frame is registered already is the writer's to check, under its transaction."""
    today = timezone.localdate()
    first_row_of: dict[str, int] = {}
    for row in rows:
        item = _check(row, lookups, today)
        if item.frame in first_row_of:
            duplicate = RowError(
                "frame_number",
                _("车架号与本文件第%(row)s行重复，同一辆车只能导入一次。") % {"row": first_row_of[item.frame]},
            )
            item = CheckedRow(row, item.frame, _in_column_order([*item.errors, duplicate]))
        elif item.frame:
            first_row_of[item.frame] = row.number
        if item.ok:
            item.owner_id = lookups.owners.get(item.id_hash)
        yield item


_COLUMN_ORDER = {column.field: index for index, column in enumerate(COLUMNS)}


def _in_column_order(errors: list[RowError]) -> list[RowError]:
    return sorted(errors, key=lambda e: _COLUMN_ORDER.get(e.field, 99))


def _check(row: Row, lookups: FileLookups, today: dt.date) -> CheckedRow:
    """Every problem of one row on its own, by column."""
    errors: list[RowError] = []
    id_value = row.values.get("buyer_id_number")
    number = ""
    if isinstance(id_value, int | float) and not isinstance(id_value, bool):
        errors.append(
            RowError(
                "buyer_id_number",
                _("身份证号码被Excel存成了数字，末几位已丢失：请把该列设为“文本”格式后重新填写。"),
            )
        )
    else:
        try:
            number = parse_resident_id(_text(id_value), today=today).number
        except ValidationError as error:
            message = error.messages[0] if _text(id_value) else _("请填写购车人身份证号码。")
            errors.append(RowError("buyer_id_number", message))
    phone = ""
    mobile_value = _text(row.values.get("buyer_mobile"))
    try:
        phone = normalize_mobile(mobile_value) if mobile_value else ""
        if not mobile_value:
            errors.append(RowError("buyer_mobile", _("请填写购车人手机号码。")))
    except ValidationError as error:
        errors.append(RowError("buyer_mobile", error.messages[0]))
    values = row.values
    if isinstance(values.get("purchase_date"), dt.datetime):  # a spreadsheet's date cell
        values = {**values, "purchase_date": values["purchase_date"].date()}
    bike, problems = rules.clean_bike(values, products=lookups.products, today=today)
    for name, messages in problems.items():
        errors.extend(RowError(name, message) for message in messages)
    frame = bike.frame_number if bike is not None else rules.normalise_frame(row.values.get("frame_number"))
    if errors or bike is None:
        return CheckedRow(row, frame, _in_column_order(errors))
    id_hash = lookups.id_hashes.get(number) or blind_index(number, purpose="id_number")
    return CheckedRow(row, frame, [], bike, id_number=number, id_hash=id_hash, phone=phone)


# --- Writing: the template and the error report ---------------------------------------------------


def _cell(value: Any) -> str:
    """A cell safe to open in a spreadsheet: no formula injection (=, +, -, @ at the start)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def template_csv() -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([column.label for column in COLUMNS])
    writer.writerow(EXAMPLE_ROW)
    return out.getvalue().encode("utf-8-sig")


def template_xlsx() -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = "销售记录"
    sheet.append([column.label for column in COLUMNS])
    sheet.append(list(EXAMPLE_ROW))
    # Text format for identifiers: Excel would otherwise turn ID numbers into numbers.
    for letter in ("A", "B", "F", "G", "I"):
        for cell in sheet[letter]:
            cell.number_format = "@"
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def report_csv(rows: Any) -> bytes:
    """The per-row error report: row number, column, message (one line per problem)."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("行号"), _("车架号"), _("列"), _("错误说明")])
    for row in rows:
        for error in row.errors:
            writer.writerow([row.row_number, _cell(row.frame_number), _cell(error["column"]), _cell(error["message"])])
    return out.getvalue().encode("utf-8-sig")
