"""The sample knowledge base covers the whole service catalogue with complete guides."""
import csv

import pytest

from core.settings import ROOT
from knowledge_base.sample_data import load_sample_guides, load_synonyms
from tests.conftest import need_service

CATALOGUE = ROOT.parent / "shared" / "service_catalog.csv"


def test_every_catalogue_service_has_a_complete_guide():
    need_service(CATALOGUE.exists(), f"the service catalogue at {CATALOGUE}")
    rows = {r["code"]: r for r in csv.DictReader(CATALOGUE.open(encoding="utf-8"))}
    guides = {g.code: g for g in load_sample_guides()}
    assert set(rows) <= set(guides)
    for code, row in rows.items():
        g = guides[code]
        assert (g.title, g.department, g.theme) == (row["name"], row["department"], row["theme"]), code
        assert g.missing_fields() == [], (code, g.missing_fields())
        assert len(g.faqs) >= 4 and all(f.similar_questions for f in g.faqs), code


def test_sample_files_say_they_are_sample_data():
    for path in (ROOT / "knowledge_base" / "sample" / "guides").glob("*.yaml"):
        assert "样例数据" in path.read_text(encoding="utf-8").splitlines()[0], path.name


@pytest.mark.parametrize("alias,canonical", [("良民证", "无犯罪记录证明"), ("暂住证", "居住证"), ("驾照", "驾驶证"),
                                             ("房本", "不动产权证书"), ("医保码", "医保电子凭证")])
def test_alias_dictionary_has_the_common_colloquial_names(alias, canonical):
    aliases, _ = load_synonyms()
    assert aliases[alias] == canonical
