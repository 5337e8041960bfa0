"""The attribute model: which part of a guide a citizen's question asks for.

Citizens ask for one thing at a time in everyday words ("要钱不", "能领几个月", "周六去行不行", "要带啥子东西"),
and neighbouring attributes share words: 多少钱 is the application fee in "护照要多少钱" but the benefit in
"失业金一个月能领多少钱"; 多久 is the time limit, 几点 the office hours. So every cue is a phrase tied to one
attribute, the text is read leftmost-longest (the longest cue at each position, without overlaps), and the
attribute whose cues cover most of the text decides ("医疗费用零星报销要带哪些材料": 要带 + 材料 outweigh the
费用 in the service's name), ties going to the more specific attribute (PRIORITY). Weak cues ("能办吗",
"外地") only decide, by PRIORITY alone, when no strong cue is present, and a "how do I…" question ("怎么办",
"咋个换") outranks them: it asks for the guide's summary.

`proxy` (代办, 异地, 上门) has no guide field: it is answered from the guide's FAQ when one matches."""
from __future__ import annotations

import re

from retrieval.normalize import Normalizer

ATTRIBUTE_NAMES = {"materials": "所需材料", "fee": "收费标准", "benefit": "待遇标准", "time_limit": "办理时限",
                   "location": "办理地点", "office_hours": "办公时间", "phone": "咨询电话",
                   "conditions": "办理条件", "proxy": "代办和异地办理", "online": "网上办理", "steps": "办理流程"}
# ties between cues of the same length go to the earlier (more specific) attribute
PRIORITY = ("benefit", "proxy", "fee", "time_limit", "office_hours", "online", "materials", "location", "phone",
            "steps", "conditions")
STRONG_CUES = {
    "benefit": "能领多少 领多少 发多少 给多少 补多少 补贴多少 津贴多少 能拿多少 拿多少钱 到手多少 领几个月 能领几个月 "
               "领多久 发多久 领多长时间 发几个月 领几年 待遇是多少 待遇多少 什么待遇 啥待遇 哪些待遇 待遇有哪些 补贴标准 津贴标准 补助标准 发放标准 救助标准 奖励标准 "
               "每月多少 每个月多少 一个月多少 一月多少 一個月多少 月发多少 一个月给多少 一个月能领 每月能领 "
               "能报多少 报多少 报销多少 报销比例 能补多少 减免多少 减多少 能贷多少 贷多少 贷款额度 能取多少 "
               "取多少 提多少 能提多少 提取额度 可以取多少 奖励多少 奖多少 有多少钱 能领好多 领好多 发好多 能减免 可以减免 减免吗 "
               "能不能减免 有补贴吗 有没有补贴 有补助吗 有没有补助 有啥补贴 有什么补贴",
    "fee": "多少钱 收费 收不收 费用 要钱 花钱 收钱 要不要钱 免费 工本费 手续费 价格 交钱 缴钱 几块钱 交费 "
           "缴费 贵不贵 花多少 要交多少 多少前 要前 收前 花前 给钱 好多钱 几多钱 要花 掏钱 出钱 付钱 邮费",
    "time_limit": "多久 几天 多长时间 多少天 好多天 时限 什么时候能 啥时候能 啥时候好 什么时候好 几时能 几时好 "
                  "几时 加急 要等 拿到手 到手 拿得到 出证 出结果 几个工作日 当天 马上能 多会儿 好久 多快 "
                  "到账 到帐 批下来 寄到 能拿到 多少个工作日 审核要",
    "office_hours": "几点 上班 下班 周末 周六 周日 星期六 星期天 星期日 礼拜六 礼拜天 礼拜日 节假日 办公时间 "
                    "营业时间 工作时间 中午 晚上 开门 关门 国庆 春节 过年 假期 放假 休息吗 延时 早上 上午 下午 "
                    "工作日",
    "online": "网上 线上 手机上 用手机 手机能 手机办 小程序 app 不用跑 不想跑 不跑 网办 在家 在线 支付宝 "
              "微信上 一网通办 电脑上 网站 掌上",
    "materials": "材料 带什么 带啥 带哪些 带些什么 带些啥 准备什么 准备啥 准备哪些 要带 需要带 得带 资料 户口本 照片 "
                 "复印件 原件 带上 啥子东西 带啥子 什么东西 啥东西 哪些东西 需要什么证件 需要哪些证件 "
                 "要什么证件 提供什么 交什么 拿啥 拿什么 要拿哪些 材科 才料 证明材料",
    "location": "在哪 哪里 哪儿 哪个地方 地址 地点 窗口 去哪 什么地方 哪个部门 在那里 在那儿 在那办 哪个区 就近 "
                "附近 哪个网点 位置 办理点 哪能办 哪办 到哪 上哪 边度 喺边 哪块 哪点办",
    "phone": "电话 热线 联系方式 号码 打哪个 怎么联系 找谁问",
    "proxy": "代办 代领 代理 代为 代签 帮忙办 帮忙申请 帮我办 帮我去办 帮他办 帮她办 替我 替他 替她 委托 "
             "不在本地 人不在 不在这边 人在外地 在外地 回不去 回不来 上门 走不动 腿脚 行动不便 不方便 "
             "出不了门 本人不去 本人不到场 本人到场 亲自 让孩子 让子女 家属 家里人",
    "steps": "流程 步骤 怎么走 先干什么 先做什么 第一步 环节 怎么操作 具体怎么 先后",
    "conditions": "条件 资格 符合 谁能办 谁可以 什么人能 什么人可以 哪些人 够不够 要求 年龄限制 门槛 够格 "
                  "满几年 交满 缴满",
}
WEAK_CUES = {
    "proxy": "外地 异地 户口不在 非本地",
    "steps": "手续 程序",
    "conditions": "能不能办 可以办吗 能办吗 能办不 能办么 行不行 要得不 得行 可不可以 能不能 能行吗 办得了 "
                  "能领吗 能领不 能申请吗 能申请不 能不能领 能不能申请",
}
# "how do I…": the citizen wants the guide's summary (who, where, what to bring, how long, online)
_HOW_TO = re.compile(r"(怎么|怎样|咋|如何|点样|怎生)(?!样$|回事|这么|那么|会|还|不|没|才算)[\u4e00-\u9fff]|"
                     r"(要|需要|得|该)办(啥|什么|哪些)|办哪些手续|什么手续|啥手续")


def _cue_table(cues: dict[str, str]) -> dict[str, str]:
    return {Normalizer.basic(c): attr for attr, words in cues.items() for c in words.split()}


_STRONG = _cue_table(STRONG_CUES)
_WEAK = _cue_table(WEAK_CUES)
_ALL = {**_WEAK, **_STRONG}
_CUE_PATTERN = re.compile("|".join(sorted(map(re.escape, _ALL), key=len, reverse=True)))
_FILLER = re.compile(r"[那这个的吗呢呀啊吧了要需是么嘛哦哇咯噻还也就请问一下我你他她能可以得去办理怎么样咋啥什么哪些多少"
                     r"说问刚才之前前面上面先一二三第儿不弄搞整\s]")


def _found(text: str) -> list[tuple[str, str]]:
    """(cue, attribute) read leftmost-longest from the normalised text."""
    return [(m.group(0), _ALL[m.group(0)]) for m in _CUE_PATTERN.finditer(Normalizer.basic(text))]


def detect_attribute(text: str) -> str | None:
    """The attribute the question asks for; None for a general question (or a "how do I…" one)."""
    found = _found(text)
    weight: dict[str, int] = {}
    for cue, attribute in found:
        if _STRONG.get(cue) == attribute:
            weight[attribute] = weight.get(attribute, 0) + len(cue)
    if weight:
        return max(weight, key=lambda a: (weight[a], -PRIORITY.index(a)))
    if not found or asks_how_to(text):
        return None
    return min((a for _, a in found), key=PRIORITY.index)


def asks_how_to(text: str) -> bool:
    return bool(_HOW_TO.search(Normalizer.basic(text)))


def without_cues(text: str) -> str:
    """The question without its attribute and "how do I…" words ("护照办下来要多久" → "护照办下来要")."""
    return _HOW_TO.sub(" ", _CUE_PATTERN.sub(" ", Normalizer.basic(text))).strip()


def service_mention(text: str) -> str:
    """What is left of a question once attribute cues and filler words are removed ("" for 那要多少钱,
    "公积金" for 刚才说的那个公积金，去哪儿办)."""
    return _FILLER.sub("", without_cues(text))
