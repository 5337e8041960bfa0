"""A city's own knowledge base: start empty, import a FAQ sheet, and the calibration fits itself to it."""
from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import pytest
import yaml

from core.settings import ROOT
from govbot.services import Services, live_item
from knowledge_base.schema import GuideData
from retrieval.calibration import fit_logistic
from retrieval.evaluate import Case, Prediction, metrics
from retrieval.self_calibration import fingerprint
from tests.conftest import make_settings

CITY = Path(__file__).parent / "data" / "city_faq"


def _guide(question: str, answer: str = "到政务服务中心办理。") -> GuideData:
    return GuideData(code="QH-T-01", title="测试事项", faqs=[{"question": question, "answer": answer}])


def test_fingerprint_follows_what_retrieval_indexes_not_answer_texts():
    base = fingerprint([live_item(_guide("怎么办理"))])
    assert fingerprint([live_item(_guide("怎么办理", answer="改到网上办理。"))]) == base
    assert fingerprint([live_item(_guide("在哪里办理"))]) != base


def test_the_prior_keeps_a_tiny_fit_sensible():
    """Six questions cannot fit eleven weights: without a prior they collapse toward zero, with the prior
    the shipped shape survives."""
    from retrieval.calibration import Calibration
    from retrieval.engine import CALIBRATION_FILE

    prior = Calibration.load(CALIBRATION_FILE, 0.5, 0.5).top1
    xs = [[0.9 + i / 100, 0.05, 0.5, 0.2, 0.95, 0.04, 1.0, 0.08, 0.8, 0.5, 0.3] for i in range(3)] + \
         [[0.85 - i / 100, 0.0, 0.1, 0.0, 0.86, 0.0, 0.0, 0.01, 0.3, 0.0, 0.0] for i in range(3)]
    ys = [1, 1, 1, 0, 0, 0]
    with_prior, without = fit_logistic(xs, ys, prior), fit_logistic(xs, ys)
    distance = lambda m: sum(abs(a - b) for a, b in zip(m.weights, prior.weights))  # noqa: E731
    assert distance(with_prior) < distance(without) / 3
    assert with_prior(xs[0]) > 0.5 > with_prior(xs[-1])


def test_bm25_scores_follow_lucenes_formula():
    import math

    from retrieval.sparse import SparseIndex

    docs = [["护照", "补办"], ["护照"], ["社保", "社保", "补办"]]
    avg = sum(map(len, docs)) / len(docs)

    def expected(doc: list[str], term: str) -> float:
        df, tf = sum(term in d for d in docs), doc.count(term)
        idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
        return idf * tf / (tf + 1.5 * (1 - 0.75 + 0.75 * len(doc) / avg)) if tf else 0.0

    got = SparseIndex(docs).scores(["护照", "社保", "未知"])
    assert got == pytest.approx([expected(d, "护照") + expected(d, "社保") for d in docs], rel=1e-5)
    assert SparseIndex([]).scores(["护照"]).size == 0


def test_a_single_entry_item_is_held_out_one_phrasing_at_a_time():
    from retrieval.self_calibration import held_out_groups

    one = live_item(GuideData(code="QH-T-01", title="测试事项", faqs=[
        {"question": "房产证丢了怎么补办", "similar_questions": ["不动产权证书遗失了如何补发"], "answer": "到登记中心。"}]))
    assert held_out_groups(one) == (("房产证丢了怎么补办",), ("不动产权证书遗失了如何补发",))
    two = live_item(GuideData(code="QH-T-02", title="测试事项", faqs=[
        {"question": "怎么办", "similar_questions": ["如何办"], "answer": "到中心。"},
        {"question": "多少钱", "answer": "免费。"}]))
    assert held_out_groups(two) == (("怎么办", "如何办"), ("多少钱",))


def test_near_misses_have_their_own_cap_and_a_small_fit_may_miss_once():
    """Ten in-scope questions (one answered wrong), ten near misses (two look right), generic negatives:
    the threshold lets the two near misses (20 %) and the one wrong answer through, not the rest."""
    from retrieval.calibrate import MAX_NEAR_MISSES_ANSWERED, Scored, answer_threshold
    from retrieval.calibration import Logistic

    def row(kind: str, x: float, right: bool = False) -> Scored:
        return Scored(kind, [x], right, right)

    rows = [row("in_scope", 3.0, True)] * 9 + [row("in_scope", 2.5)] + [row("near_miss", 2.0)] * 2 + \
        [row("near_miss", 1.0)] * 8 + [row("out_of_scope", -3.0)] * 30
    assert MAX_NEAR_MISSES_ANSWERED == pytest.approx(0.2)
    t, stats = answer_threshold(rows, Logistic([1.0], 0.0))
    assert t == 0.74  # sigmoid(1) = 0.731 < t <= sigmoid(2) = 0.881
    assert stats["answer_rate"] == 1.0 and stats["wrong_answers"] == 0.1 and stats["near_misses_answered"] == 0.2


def test_an_instance_started_with_the_sample_off_is_empty(tmp_path):
    assert Services(make_settings(tmp_path, sample_kb=False)).kb.count() == 0
    assert Services(make_settings(tmp_path / "demo")).kb.count() > 0


@pytest.mark.slow
def test_a_city_faq_sheet_is_answered_after_import_with_no_tuning(tmp_path, encoder):
    """The bar of issue 15: start empty, `govbot kb import` a third-party FAQ sheet, nothing else; the
    server re-fits its calibration in the background and answers held-out citizen phrasings."""
    svc = Services(make_settings(tmp_path, sample_kb=False))
    svc.__dict__["encoder"] = encoder
    svc.start_watching()
    try:
        assert len(svc.retriever) == 0 and svc.self_calibrator.status()["calibration"] == "shipped"
        env = {**os.environ, "GOVBOT_VAR_DIR": str(tmp_path), "GOVBOT_SAMPLE_KB": "off",
               "DATABASE_URL": svc.settings.database_url}
        run = subprocess.run([str(ROOT / ".venv" / "bin" / "govbot"), "kb", "import", str(CITY / "faq_sheet.csv")],
                             env=env, capture_output=True, text=True, timeout=300)
        assert run.returncode == 0, run.stderr
        deadline = time.monotonic() + 900
        while not (svc.self_calibrator.status()["calibration"] == "instance" and svc.self_calibrator.status()["current"]):
            assert time.monotonic() < deadline, "no background fit after the import"
            time.sleep(1)
        status = svc.self_calibrator.status()
        assert len(svc.retriever) == 30 and status["fit"]["items"] == 30
        print({k: status["fit"][k] for k in ("cases", "answer_threshold", "answer_rate", "wrong_answers",
                                              "oos_answered", "seconds")})

        cases = [Case(r["q"], r.get("code")) for r in yaml.safe_load((CITY / "citizen_questions.yaml").read_text())]
        preds = []
        for c in cases:
            r = svc.retriever.search(c.question)
            preds.append(Prediction(r.decision, [m.code for m in r.matches], [m.code for m in r.offered]))
        m = metrics(cases, preds)
        print({k: round(v, 3) if isinstance(v, float) else v for k, v in m.items()})
        assert m["in_scope"] >= 60 and m["out_of_scope"] >= 20
        assert m["top1"] >= 0.95
        assert m["wrong_answer_rate"] * m["in_scope"] <= m["in_scope"] / 60  # at most 1 wrong answer in 60
        assert m["answer_rate"] >= 0.75
        assert m["oos_rejection"] >= 0.9
    finally:
        svc.stop_watching()


def test_editors_see_the_calibration_in_use(app_client):
    from tests.conftest import auth

    assert app_client.get("/api/v1/kb/calibration").status_code == 401
    body = app_client.get("/api/v1/kb/calibration", headers=auth("editor")).json()
    assert body["calibration"] == "shipped" and body["fit"]["answer_threshold"] > 0
    assert body["fitting"] is False


def test_a_few_edits_keep_the_fit_and_a_new_set_of_items_calls_for_one(services):
    from retrieval.self_calibration import material_change

    codes = [f"S-{i:02d}" for i in range(80)]
    assert not material_change(codes, codes[:75] + ["NEW-1", "NEW-2"])  # 5 gone, 2 new: 7 of 80
    assert material_change(codes, codes[:60] + ["NEW-1"])  # 21 of 80
    assert material_change(codes, [f"QH-{i}" for i in range(30)])  # another city's sheet

    guide = services.kb.live_guide("GA-CR-01")
    guide.faqs[0].question += "（修订）"
    services.kb.publish_directly([guide], actor="editor", note="一处修订")
    services.live_index.sync()
    assert services.self_calibrator.refresh() is False  # the sample's shipped calibration still serves
    assert not services.calibration_file.exists()
