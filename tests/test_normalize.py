from retrieval.normalize import Normalizer


def make() -> Normalizer:
    return Normalizer(aliases={"良民证": "无犯罪记录证明", "驾照": "驾驶证", "医保码": "医保电子凭证"},
                      typos={"身分证": "身份证"},
                      vocabulary={"户口迁移", "公积金", "身份证", "结婚登记", "医疗费用", "报销"})


def test_traditional_full_width_and_punctuation():
    n = make()
    assert n("護照怎麼辦理？") == "护照怎么办理"
    assert n("ＡＢＣ１２３，你好") == "abc123 你好"


def test_aliases_replace_colloquial_names_longest_first():
    n = make()
    assert n("良民证去哪开") == "无犯罪记录证明去哪开"
    assert n("驾照到期了") == "驾驶证到期了"
    assert n("医保码怎么用") == "医保电子凭证怎么用"


def test_homophone_typos_are_repaired_into_service_terms_only():
    n = make()
    assert n("户口签移要什么") == "户口迁移要什么"
    assert n("公基金怎么取") == "公积金怎么取"
    assert n("结昏登记需要户口本吗").startswith("结婚登记需要")
    assert n("今天天气不错") == "今天天气不错"  # nothing to repair
