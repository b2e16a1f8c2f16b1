"""A dealer's batch import: good, bad and duplicate rows; a bad row never blocks the good
ones; a row is all or nothing; uploading the same file again creates nothing new."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook, load_workbook

from pingan.core import access, timeline
from pingan.core.identity import make_resident_id
from pingan.ebikes import actions, imports, queries
from pingan.ebikes.models import EBike, ImportBatch, ImportRow
from pingan.ebikes.tests.conftest import bike_data, preregistered
from pingan.testing import factories

pytestmark = pytest.mark.django_db

HEADER = [column.label for column in imports.COLUMNS]
FIELDS = [column.field for column in imports.COLUMNS]
NEWCOMER_ID = make_resident_id("370104", dt.date(1996, 7, 1), 51)  # valid; no account yet


def row(buyer_id: str, **overrides: Any) -> list[Any]:
    values = {"buyer_id_number": buyer_id, "buyer_mobile": "13905319999", **bike_data(), **overrides}
    return [values[field] for field in FIELDS]


def as_csv(rows: list[list[Any]], *, header: list[str] = HEADER, encoding: str = "utf-8-sig") -> bytes:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode(encoding)


def as_xlsx(rows: list[list[Any]], *, header: list[str] = HEADER) -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append(values)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def wrong_check_digit(id_number: str) -> str:
    # Never the right one by chance (a random citizen's check digit is "0" one time in 11).
    return id_number[:17] + ("1" if id_number[17] == "0" else "0")


@pytest.fixture
def mixed_rows(owner) -> tuple[list[list[Any]], dict[str, str]]:
    """Rows 2–9 of a sales file: three good ones and five bad ones, each bad for one reason."""
    taken = preregistered(factories.citizen()).frame_number
    good_owner = row(owner.citizen.id_number, frame_number="QQ24A0000001")
    good_newcomer = row(NEWCOMER_ID, frame_number="QQ24A0000002", colour="红色")
    good_third = row(owner.citizen.id_number, frame_number="QQ24A0000003")
    rows = [
        good_owner,  # 2
        good_newcomer,  # 3
        row(wrong_check_digit(owner.citizen.id_number), frame_number="QQ24A0000004"),  # 4: check digit
        row(owner.citizen.id_number, frame_number="QQ24A0000005", buyer_mobile="1234"),  # 5: mobile
        row(owner.citizen.id_number, frame_number="QQ24A0000006", brand="齐风", model="TDR9002"),  # 6: over-speed
        row(owner.citizen.id_number, frame_number="qq24a0000001"),  # 7: duplicate of row 2
        row(owner.citizen.id_number, frame_number=taken),  # 8: already registered
        good_third,  # 9
        row(owner.citizen.id_number, frame_number="QQ24A0000010", purchase_date="2099-01-01"),  # 10: future
    ]
    return rows, {"taken": taken}


def assert_mixed_outcome(batch: ImportBatch, owner: Any) -> None:
    assert (batch.rows_total, batch.rows_created, batch.rows_existing, batch.rows_failed) == (9, 3, 0, 6)
    outcomes = {r.row_number: r for r in queries.batch_rows(batch)}
    assert {n for n, r in outcomes.items() if r.outcome == "created"} == {2, 3, 9}
    columns = {n: [e["column"] for e in r.errors] for n, r in outcomes.items() if r.outcome == "failed"}
    assert columns == {
        4: ["购车人身份证号码"],
        5: ["购车人手机号码"],
        6: ["型号"],
        7: ["车架号"],
        8: ["车架号"],
        10: ["购买日期"],
    }
    assert "校验位" in outcomes[4].errors[0]["message"]
    assert "25km/h" in outcomes[6].errors[0]["message"]
    assert outcomes[7].errors[0]["message"] == "车架号与本文件第2行重复，同一辆车只能导入一次。"
    assert "已经登记" in outcomes[8].errors[0]["message"]
    assert [r.row_number for r in queries.batch_rows(batch)] == [2, 3, 4, 5, 6, 7, 8, 9, 10]  # file order
    assert [r.ebike.frame_number for r in queries.batch_rows(batch) if r.outcome == "created"] == [
        "QQ24A0000001",
        "QQ24A0000002",
        "QQ24A0000003",
    ]
    assert not batch.rows.filter(outcome="created").exists()  # a good row is its bicycle
    bound = EBike.objects.get(frame_number="QQ24A0000001")
    assert (bound.import_batch, bound.import_row) == (batch, 2)
    assert bound.owner == owner
    assert bound.dealer == batch.dealer
    assert bound.source == "dealer"
    assert bound.org == batch.dealer.org
    assert bound.state == "pre_registered"
    unbound = EBike.objects.get(frame_number="QQ24A0000002")
    assert unbound.owner is None
    assert unbound.buyer_id_number == NEWCOMER_ID
    assert unbound.buyer_phone == "13905319999"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_good_bad_and_duplicate_rows_and_an_idempotent_reupload(fmt, dealer, dealer_user, owner, mixed_rows):
    rows, _ = mixed_rows
    content = as_csv(rows) if fmt == "csv" else as_xlsx(rows)
    before = EBike.objects.count()
    batch = actions.import_batch(dealer=dealer, actor=dealer_user, file_name=f"销售.{fmt}", content=content)
    assert batch.file_format == fmt
    assert_mixed_outcome(batch, owner)
    assert EBike.objects.count() == before + 3
    assert timeline.events_for(batch).filter(action="ebikes.import_batch").exists()

    again = actions.import_batch(dealer=dealer, actor=dealer_user, file_name=f"销售.{fmt}", content=content)
    assert (again.rows_created, again.rows_existing, again.rows_failed) == (0, 3, 6)
    assert EBike.objects.count() == before + 3
    assert again.sha256 == batch.sha256
    existing = again.rows.get(row_number=2)
    assert existing.outcome == "existing"
    assert existing.ebike == EBike.objects.get(frame_number="QQ24A0000001")


def test_the_same_sales_in_the_other_format_create_nothing_new(dealer, dealer_user, owner, mixed_rows):
    rows, _ = mixed_rows
    actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.csv", content=as_csv(rows))
    count = EBike.objects.count()
    batch = actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.xlsx", content=as_xlsx(rows))
    assert (batch.rows_created, batch.rows_existing) == (0, 3)
    assert EBike.objects.count() == count


def test_another_dealer_importing_the_same_frames_is_refused_row_by_row(dealer, dealer_user, owner):
    rows = [row(owner.citizen.id_number, frame_number="QQ24A0000001")]
    actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.csv", content=as_csv(rows))
    other_user = factories.partner("370102", partner_kind="dealer")
    other = actions.dealer_authorise(partner=other_user)
    batch = actions.import_batch(dealer=other, actor=other_user, file_name="a.csv", content=as_csv(rows))
    assert (batch.rows_created, batch.rows_existing, batch.rows_failed) == (0, 0, 1)
    assert "已经登记" in batch.rows.get().errors[0]["message"]


def test_a_row_failing_while_saving_leaves_nothing_and_the_others_go_in(dealer, dealer_user, owner, monkeypatch):
    """Row 3's timeline event cannot be written: the file written at once is undone whole,
    then written row by row, where only row 3 fails (and leaves nothing behind)."""
    original = timeline.record_many
    attempts = []

    def failing(entries: list[timeline.Entry], **kwargs: Any) -> Any:
        events = original(entries, **kwargs)  # written, then the savepoint must undo them
        rows = [(entry.data or {}).get("row") for entry in entries if entry.action == "ebikes.pre_registered"]
        if rows:
            attempts.append(rows)
        if 3 in rows:
            raise DatabaseError("disk full")
        return events

    monkeypatch.setattr(actions.timeline, "record_many", failing)
    rows = [row(owner.citizen.id_number, frame_number=f"QQ24A000000{n}") for n in (1, 2, 3)]
    batch = actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.csv", content=as_csv(rows))
    assert attempts == [[2, 3, 4], [2], [3], [4]]  # at once, then row by row
    assert (batch.rows_created, batch.rows_failed) == (2, 1)
    assert not EBike.objects.filter(frame_number="QQ24A0000002").exists()
    assert ImportBatch.objects.count() == 1  # the undone attempt left no batch behind
    failed = batch.rows.get(row_number=3)
    assert failed.errors[0]["column"] == "整行"
    assert "系统错误" in failed.errors[0]["message"]
    assert timeline.verify() == []
    monkeypatch.setattr(actions.timeline, "record_many", original)
    retry = actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.csv", content=as_csv(rows))
    assert (retry.rows_created, retry.rows_existing, retry.rows_failed) == (1, 2, 0)


def test_a_frame_registered_between_the_check_and_the_write(dealer, dealer_user, owner, monkeypatch):
    """Another upload registers row 3's frame after this file's look-up: the insert of the
    whole file fails on the frame's unique constraint, and the rows go in one by one."""
    rows = [row(owner.citizen.id_number, frame_number=f"QQ24A000000{n}") for n in (1, 2, 3)]
    other_user = factories.partner("370102", partner_kind="dealer")
    other = actions.dealer_authorise(partner=other_user)
    earlier = actions.import_batch(dealer=other, actor=other_user, file_name="b.csv", content=as_csv(rows[1:2]))
    assert earlier.rows_created == 1, list(earlier.rows.values_list("errors", flat=True))
    monkeypatch.setattr(actions, "_live_holders", lambda frames: {})  # the look-up ran before it
    batch = actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.csv", content=as_csv(rows))
    assert (batch.rows_created, batch.rows_existing, batch.rows_failed) == (2, 0, 1)
    assert "已经登记" in batch.rows.get(row_number=3).errors[0]["message"]
    assert EBike.objects.get(frame_number="QQ24A0000002").dealer == other
    assert ImportBatch.objects.filter(dealer=dealer).count() == 1
    assert timeline.verify() == []


def test_a_file_is_written_in_a_few_statements_not_several_per_row(dealer, dealer_user, owner):
    buyers = [factories.citizen().citizen.id_number for _ in range(3)] + [NEWCOMER_ID]
    content = as_csv([row(buyers[n % 4], frame_number=f"QQ24B{n:07d}") for n in range(300)])
    with CaptureQueriesContext(connection) as queries_run:
        batch = actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.csv", content=content)
    assert (batch.rows_created, batch.rows_failed) == (300, 0)
    # (SQLite takes at most 999 parameters a statement: 36 bicycles per INSERT.)
    assert len(queries_run) <= 30, "\n".join(query["sql"][:100] for query in queries_run)
    bikes = EBike.objects.filter(frame_number__startswith="QQ24B").order_by("frame_number")
    assert sum(bike.owner_id is None for bike in bikes) == 75  # the newcomer's, kept under their ID number
    assert bikes[0].owner.citizen.id_number == buyers[0]
    event = timeline.events_for(bikes[5]).get(action="ebikes.pre_registered")
    assert event.data == {"source": "dealer", "product": bikes[5].product.ccc_certificate, "batch": batch.pk,
                          "row": 7, "bound": True}  # fmt: skip
    assert event.org_path == dealer.org.path
    assert timeline.verify() == []
    again = actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.csv", content=content)
    assert (again.rows_created, again.rows_existing) == (0, 300)


def test_xlsx_cells_of_the_wrong_type(dealer, dealer_user, owner):
    rows = [
        row(owner.citizen.id_number, frame_number="QQ24A0000001", purchase_date=dt.datetime(2024, 6, 1)),
        row(int(owner.citizen.id_number[:15]), frame_number="QQ24A0000002"),  # Excel kept it as a number
        row(owner.citizen.id_number, frame_number="QQ24A0000003", buyer_mobile=13905319999, invoice_number=12345678),
    ]
    batch = actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.xlsx", content=as_xlsx(rows))
    assert (batch.rows_created, batch.rows_failed) == (2, 1)
    assert EBike.objects.get(frame_number="QQ24A0000001").purchase_date == dt.date(2024, 6, 1)
    assert "文本" in batch.rows.get(row_number=3).errors[0]["message"]
    assert EBike.objects.get(frame_number="QQ24A0000003").invoice_number == "12345678"


def test_a_gbk_csv_with_english_headers_and_blank_lines(dealer, dealer_user, owner):
    content = as_csv(
        [row(owner.citizen.id_number, frame_number="QQ24A0000001"), [""] * 9, row(NEWCOMER_ID)],
        header=FIELDS,
        encoding="gb18030",
    )
    batch = actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.csv", content=content)
    assert (batch.rows_total, batch.rows_created) == (2, 2)
    assert [row.row_number for row in queries.batch_rows(batch)] == [2, 4]  # numbered as the sheet shows them


@pytest.mark.parametrize(
    ("file_name", "content", "message"),
    [
        ("a.csv", b"", "文件是空的"),
        ("a.csv", "品牌,型号\n泉骑,TDT1000Z\n".encode(), "表头缺少以下列"),
        ("a.csv", as_csv([]), "只有表头"),
        ("a.xls", b"\xd0\xcf\x11\xe0 old excel", "另存为 .xlsx"),
        ("a.xlsx", b"PK\x03\x04 not really a zip", "无法读取该Excel文件"),
        ("a.csv", ("\n".join([",".join(HEADER)] + ["x"] * (imports.MAX_ROWS + 1))).encode(), "每次最多"),
        ("a.csv", b"\xff\xfe\x81\x30garbage\xff", "无法识别文件编码"),
        ("a.csv", b"brand\x00,model\n", "文件内容无效"),
    ],
)
def test_a_file_that_cannot_be_used_stores_nothing(dealer, dealer_user, file_name, content, message):
    with pytest.raises(ValidationError) as error:
        actions.import_batch(dealer=dealer, actor=dealer_user, file_name=file_name, content=content)
    assert message in error.value.message_dict["file"][0]
    assert not ImportBatch.objects.exists()
    assert not ImportRow.objects.exists()


def test_only_the_dealer_itself_imports(dealer, dealer_user, owner, officer):
    content = as_csv([row(owner.citizen.id_number)])
    for someone in (owner, officer, factories.partner("370102", partner_kind="dealer")):
        with pytest.raises(access.AccessDenied):
            actions.import_batch(dealer=dealer, actor=someone, file_name="a.csv", content=content)
    assert not ImportBatch.objects.exists()


def test_the_error_report_and_the_templates(dealer, dealer_user, owner):
    rows = [row(owner.citizen.id_number, frame_number="=HYPERLINK(1)", buyer_mobile="1")]
    batch = actions.import_batch(dealer=dealer, actor=dealer_user, file_name="a.csv", content=as_csv(rows))
    report = imports.report_csv(queries.batch_rows(batch, failed_only=True))
    assert report.startswith("\ufeff".encode())
    lines = list(csv.reader(io.StringIO(report.decode("utf-8-sig"))))
    assert lines[0] == ["行号", "车架号", "列", "错误说明"]
    assert {(line[0], line[2]) for line in lines[1:]} == {("2", "购车人手机号码"), ("2", "车架号")}
    assert all(not line[1].startswith("=") for line in lines[1:])  # no formula reaches a spreadsheet
    template = imports.read_table(file_name="t.csv", content=imports.template_csv())
    assert template.rows[0].values["frame_number"] == imports.EXAMPLE_ROW[5]
    sheet = load_workbook(io.BytesIO(imports.template_xlsx())).active
    assert [cell.value for cell in sheet[1]] == HEADER
    assert sheet["A2"].number_format == "@"
