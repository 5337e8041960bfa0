import io
import json

import pytest
from openpyxl import Workbook, load_workbook

from core.db import Database
from govbot.migrations import upgrade
from knowledge_base.sample_data import load_sample_guides
from knowledge_base.transfer import export, import_file, parse
from knowledge_base.workflow import KnowledgeBase

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
