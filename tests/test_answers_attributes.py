"""The attribute model (bot/attributes.py): which part of a guide a phrasing asks for, in plain, colloquial,
elderly, dialect, typo and traditional wording; and "how do I…" questions, which get the guide's summary."""
from __future__ import annotations

import pytest

from bot.attributes import ATTRIBUTE_NAMES, asks_how_to, detect_attribute, service_mention

PHRASINGS = [
    # fee: what the citizen pays
    ("护照要多少钱", "fee"), ("要钱不", "fee"), ("收钱不", "fee"), ("花钱不", "fee"), ("得花钱不", "fee"),
    ("工本费是多少", "fee"), ("补办不要钱嘛", "fee"), ("要好多钱哦", "fee"), ("几多钱", "fee"),
    ("申請要收費嗎", "fee"), ("邮寄收钱不", "fee"), ("办这个贵不贵", "fee"), ("改约呢，也免费吗", "fee"),
    ("要交钱吗", "fee"), ("多少前", "fee"),
    # benefit: what the citizen receives
    ("多少钱能领几个月", "benefit"), ("丧葬补贴能领多少钱", "benefit"), ("一个月给多少钱，能领几个月", "benefit"),
    ("一個月發多少錢", "benefit"), ("高龄津贴标准是多少", "benefit"), ("失业金能领多久", "benefit"),
    ("技能提升补贴能补多少钱", "benefit"), ("火化费用能减免不", "benefit"), ("每个月能领多少", "benefit"),
    ("住院费能报多少", "benefit"), ("公积金一次能取多少", "benefit"), ("待遇是多少", "benefit"),
    ("退休了有没有补贴", "benefit"),
    # time limit: how long it takes
    ("多长时间能拿到手", "time_limit"), ("多久能拿到", "time_limit"), ("几天出证", "time_limit"),
    ("啥时候能好", "time_limit"), ("大概好多天拿得到手", "time_limit"), ("钱多久到账", "time_limit"),
    ("多久到帐", "time_limit"), ("几天能寄到", "time_limit"), ("能加急吗", "time_limit"),
    ("審核要幾天", "time_limit"), ("当天能拿吗", "time_limit"),
    # office hours: when the window is open
    ("周六去行不行", "office_hours"), ("周六去要得不", "office_hours"), ("中午办不办", "office_hours"),
    ("几点上班", "office_hours"), ("周末去不得行哇", "office_hours"), ("晚上也能打吗", "office_hours"),
    ("礼拜天开门不", "office_hours"), ("國慶放假嗎", "office_hours"), ("中午休息吗", "office_hours"),
    # where
    ("在哪儿弄", "location"), ("去边度办", "location"), ("上哪整去", "location"), ("在哪裡辦", "location"),
    ("刚才说的那个公积金，去哪儿办", "location"), ("地址在哪", "location"), ("去哪个窗口", "location"),
    ("在那里办", "location"),
    # how (the steps)
    ("具体流程是怎样的", "steps"), ("第一步干啥", "steps"), ("办理步骤有哪些", "steps"),
    # online
    ("能在手机上弄不", "online"), ("网上能办不", "online"), ("小程序上能申请吗", "online"),
    ("不想跑窗口，能网上办吗", "online"), ("在家能办吗", "online"),
    # materials
    ("要带啥子东西", "materials"), ("要带些什么", "materials"), ("需要准备什么材料", "materials"),
    ("要带户口本吗", "materials"), ("需要哪些证件", "materials"), ("要帶什麼材料", "materials"),
    ("需要什么材科", "materials"), ("要准备啥东西", "materials"),
    # eligibility
    ("要什么条件", "conditions"), ("要交满几年才能领", "conditions"), ("谁能办", "conditions"),
    ("有年龄限制吗", "conditions"), ("我符合条件吗", "conditions"), ("外地户口能办吗", "proxy"),
    # 代办 / 异地 / 上门
    ("人不在本地能不能办", "proxy"), ("老人能代办不", "proxy"), ("我腿脚不方便，能让孩子帮我去办吗", "proxy"),
    ("能上门办不", "proxy"), ("家属能代领吗", "proxy"), ("我人在外地能办吗", "proxy"),
    ("可以委托别人吗", "proxy"),
    # phone
    ("投诉电话是多少", "phone"), ("热线多少号", "phone"), ("怎么联系他们", "phone"),
]


@pytest.mark.parametrize("text, attribute", PHRASINGS)
def test_each_phrasing_asks_for_its_attribute(text, attribute):
    assert detect_attribute(text) == attribute


def test_the_table_is_large_and_covers_every_attribute():
    assert len(PHRASINGS) >= 80
    assert {a for _, a in PHRASINGS} == set(ATTRIBUTE_NAMES)


@pytest.mark.parametrize("text", ["身份证过期了咋换", "咋个办", "点样办护照", "俺想整个个体户执照，咋整",
                                  "高龄津贴是怎么个申请法", "买了套二手房怎么过户", "駕照到期了怎麼換",
                                  "去澳门旅游需要办哪些手续", "失业金咋领", "独生子女父母奖励怎么领",
                                  "门诊慢特病待遇认定怎么办", "外地人在这边怎么办居住证"])
def test_how_to_questions_ask_for_no_single_attribute(text):
    """They get the guide's summary, even when a service name contains a cue (待遇认定, 独生子女, 外地)."""
    assert asks_how_to(text) and detect_attribute(text) is None


@pytest.mark.parametrize("text", ["为什么还没好", "怎么这么慢", "护照怎么样"])
def test_not_every_怎么_is_a_how_to(text):
    assert not asks_how_to(text)


@pytest.mark.parametrize("text, left", [("那要多少钱", ""), ("要带啥子东西", ""), ("刚才说的那个公积金，去哪儿办", "公积金"),
                                        ("结婚那个要钱吗", "结婚"), ("点样办护照", "护照")])
def test_service_mention_is_what_is_left_once_cues_and_filler_go(text, left):
    assert service_mention(text) == left
