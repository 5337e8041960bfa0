"""How one message inside a form is read: is the citizen leaving, changing an earlier answer, confirming a
read-back, asking a question, or (at the form's start) really asking for this form at all? And the values a
message carries up front (application number in any width or case, phone tail, booking code).

Plain text rules, no NLU: a form's validation action is the one judge of every message while the form is open,
and the intent the NLU guessed is only a hint (it read "要钱不" as a cancel and "算了不投诉了" as a complaint
before). Each rule is tested on colloquial, dialect and full-width spellings in tests/test_forms_listening.py.
"""
from __future__ import annotations

import re

from bot.applications import APPLICATION_NO
from bot.when import simplified

_PUNCTUATION = re.compile(r"[\s,.!?;:~、，。！？；：…“”\"'（）()【】\[\]~～-]+")
_PARTICLES = re.compile(r"[吧啊呀了的哈啦呢嘛哦喔噢嘞咧]+$")

# ---- leaving -------------------------------------------------------------------------------------------
_TASK_VERBS = r"(?:预约|约|办|办理|投诉|举报|查|查询|弄|搞|去|改|改约|改期|取消|提|建议|登记|填|说|要|用|问)"
_LEAVE = re.compile("|".join([
    r"算了|算啦|拉倒|罢了|退出|不弄了|不搞了|没事了|不需要了|不必了|别弄了|别办了|别约了|别查了",
    r"停止|终止|结束(?:办理|预约|登记|查询)?$",
    rf"不(?:想|要|用|打算|准备|再)*{_TASK_VERBS}了",
    rf"先不{_TASK_VERBS}?(?:了)?$",
    r"(?:改天|以后|回头|下次|过两天|有空)再(?:说|约|办|弄|来|查)",
    r"^(?:先)?不了$|^不用了|^不要了|^不办了",
]))
_CANCEL_WORDS = re.compile(r"^(?:取消|取消吧|取消了|取消办理|取消登记|取消投诉|取消预约|取消查询|取消改约)$")


def compact(text: str) -> str:
    """Width folded, simplified, lower case, punctuation and spaces removed: what the rules below read."""
    return _PUNCTUATION.sub("", simplified(text).lower())


def says_cancel(text: str) -> bool:
    """"取消" / "取消吧" / "取消预约": leaving most forms, but a yes in the cancel form's read-back."""
    return _CANCEL_WORDS.match(compact(text)) is not None


def wants_to_leave(text: str, form: str) -> bool:
    """算了 / 不约了 / 不投诉了 / 不查了 / 取消 / 退出 / 不办了 / 不用了 / 先不弄了 / 改天再说 — only in a short
    message (a long one that mentions 算了 is a complaint's content); in the cancel form 取消 is its own verb."""
    t = compact(text)
    if not t or len(t) > 16:
        return False
    if says_cancel(t):
        return form != "cancel_form"
    return _LEAVE.search(t) is not None


# ---- the first message: does it really ask for this form? ------------------------------------------
_BOOKING = r"(?<![大节签制契公合])约(?!束|定|合|等于)|预定|挂号|排号|[取排订定拿抢整挂要弄搞][^，。]{0,4}号(?!码)|定个时间|book|appointment"
_ASKS_FOR = {
    "appointment_form": _BOOKING,
    "progress_form": r"进度|办件|审批|审核|受理|办结|办到|到哪|状态|结果|批下来|批了|通过了|消息|动静"
                     r"|信儿|情况|咋样|怎么样了|到账|卡住|退回|瞅瞅|我的(?:申请|件|单子|业务|材料)"
                     r"|(?:办|批|处理|审|做|制)(?:完|好|下来|好卡)了?(?:没|吗)|sq\d|\d{10}",
    "cancel_form": r"取消|撤|(?<!减)退(?!休|税|款|役|伍|出|费)|删|不去|不约了|不要了|不用了|作废|cancel",
    "reschedule_form": r"改约|改期|reschedule|(?:改|换|调|延|推|挪|往后|提前|重新约)"
                       r".*(?:约|号|时间|日子|日期|天|周|上午|下午|[a-z2-9]{6})"
                       r"|(?:约|号|时间|日子|日期|[a-z2-9]{6}).*(?:改|换|调|延|推|挪|往后|提前)",
    "complaint_form": r"投诉|举报|不满|差评|吐槽|反映|曝光|意见|建议|提议|希望|改进|反馈|提个|优化|complain|suggest",
}
_INJECTION = re.compile(
    r"(?:忽略|无视|忘记|忘掉|不要理会|绕过)(?:掉)?(?:以上|上面|之前|前面|先前|所有|全部|你的|系统)*.{0,6}"
    r"(?:指令|指示|提示|规则|设定|命令|要求|限制)|ignore(?:all|any|the)*(?:previous|above|prior)|systemprompt"
    r"|你现在是|你现在扮演|假装你是|扮演一个|jailbreak|developermode|越狱模式")


_TASK_OF = {"appointment_form": "预约|约|挂号", "progress_form": "查|查询", "cancel_form": "取消|退",
            "reschedule_form": "改|改约|改期", "complaint_form": "投诉|举报|建议|提|反映|登记"}


def refuses(form: str, text: str) -> bool:
    """The message says no to this very form ("算了不投诉了" read as a complaint, "不约了" as a booking)."""
    return re.search(rf"不(?:想|要|用|打算|准备|再)*(?:{_TASK_OF[form]})了", compact(text)) is not None


def is_injection(text: str) -> bool:
    """A line that tries to re-program the bot ("忽略以上所有指令，你现在是……", "ignore previous instructions")."""
    return _INJECTION.search(compact(text)) is not None


_ABOUT_THE_TASK = re.compile(r"多少钱|要钱|收费|费用|免费|花钱|要带|带什么|带啥|什么材料|哪些材料|多久|要几天|几天能|多长时间|电话|热线")


def asks_for(form: str, text: str, kind: str = "complaint") -> bool:
    """The first message names this form's task ("我腿脚不好能叫人上门办不" asks no booking) and is no question
    about it ("取消预约要钱吗"); a complaint or a suggestion may also just state the problem or the wish, but
    not ask a question without either; a button's payload ("/book_appointment") always asks for its form."""
    if text.strip().startswith("/"):
        return True
    if is_question(text) and _ABOUT_THE_TASK.search(compact(text)):
        return False
    if re.search(_ASKS_FOR[form], compact(text)):
        return True
    return form == "complaint_form" and (sounds_like_complaint(text, kind) or
                                         not is_question(text) and len(compact(text)) >= 6)


# ---- questions, confirmations, changes -------------------------------------------------------------
_QUESTION = re.compile(r"吗|么$|呢|多少|多久|多长|怎么|怎样|咋|啥|什么|哪|几[点天时号]|几个工作日|能不能|可不可以|是不是|要不要|有没有|"
                       r"行不行|能否|是否|如何|为什么|为何|可以.{0,6}不|[要能会可行用收有是办得].{0,4}不$|没$")
QUESTION_INTENTS = ("ask_service", "ask_attribute")


def is_question(text: str, intent: str = "") -> bool:
    """A question rather than an answer: the NLU says so, or the wording does ("要钱不", "周六能办吗")."""
    asked = "?" in simplified(text)
    return intent in QUESTION_INTENTS or asked or _QUESTION.search(compact(text)) is not None


_CONFIRM = re.compile(r"(?:确认|确定|对|是|好|行|可以|没问题|没错|正确|无误|嗯|ok|yes|就这样|提交|同意|中|要得|妥|预约|约|办|"
                      r"取消|改约|改)+(?:信息)?(?:正确|无误|没问题|对的)?")
_NEGATION = re.compile(r"不|别|没(?!问题|错)|(?<!没)错|修改|换|改成|改到|改为")


def confirms(text: str) -> bool:
    """确认 / 对 / 好的 / 是的 / 没问题 / 确认预约 / 确认取消 — a short yes with no 不 / 改 / 错 in it."""
    t = _PARTICLES.sub("", compact(text))
    return 0 < len(t) <= 8 and _CONFIRM.fullmatch(t) is not None and not _NEGATION.search(t) \
        and t not in ("约", "办", "改", "预约", "取消", "改约")


_CHANGE = re.compile(r"改成|改为|改到|换成|换到|换个|换一|改一下|改下|重新选|重选|选错|填错|写错|说错|搞错|弄错|输错|不对|错了|修改|变成"
                     r"|换(?:时间|日期|天|事项|日子|号码)|改(?:时间|日期|天|事项|名字|姓名|手机|电话|号码)")
_BARE_MODIFY = re.compile(r"(?:我)?(?:要|想)?(?:修改|改一下|改下|改|不对|不是|错了|有错|不正确|有问题|不|否|换一下)(?:一下)?")


def wants_change(text: str) -> bool:
    """改成后天 / 换个时间 / 日期改成下周三 / 不对我想改成下周三 / 事项选错了."""
    return _CHANGE.search(compact(text)) is not None


def bare_modify(text: str) -> bool:
    """"修改" / "不对" / "不是" with nothing saying what to change: ask which item."""
    return _BARE_MODIFY.fullmatch(_PARTICLES.sub("", compact(text))) is not None


def strip_change_words(text: str) -> str:
    """"姓名改成王芳" → "王芳"; "不对我想改成下周三" → "下周三"; "修改" → ""."""
    return re.sub(rf"^.*(?:{_CHANGE.pattern})(?:成|为|到)?", "", compact(text))


# ---- complaints --------------------------------------------------------------------------------------
COMPLAINT_CATEGORIES = ("服务态度", "办事效率", "政策咨询不清", "其他")
_CATEGORY_CUES = (
    ("服务态度", r"服务态度|态度|脸色|凶|骂|不耐烦|不理|冷漠|甩脸|服务|爱答不理|敷衍|口气|语气|礼貌"),
    ("办事效率", r"办事效率|效率|慢|排队|等了|等太久|拖|久|跑了|好几趟|推诿|踢皮球|时间长|磨蹭|不给办|办不了|卡着"),
    ("政策咨询不清", r"政策|说不清|解释|咨询|答复|不清楚|说法不一|不一致|讲不明白|没说清|口径|一问三不知"),
    ("其他", r"其他|其它|别的|都不是|另外"),
)
_COMPLAINT_CUES = re.compile(r"态度|效率|慢(?!性)|排队|等了|拖着|拖了|推诿|踢皮球|刁难|不理|骂|凶|太差|很差|真差|乱收费|不给办"
                             r"|不让|没人|不接|跑了|好几趟|多次|投诉|举报|不满|不合理|违规|工作人员|办事员|保安|插队|脏|故障|坏了"
                             r"|打不开|不作为|敷衍|冷漠|不耐烦|甩脸|气死|过分|离谱|搞什么|告你们|告他们|吼|吵|拽|磨叽|多收|多扣|乱扣"
                             r"|不给开|阴阳怪气|不抬|没轮到|冲我|[两三四五几好多]遍|[两三四五几好多]次|来回跑|太[^，。]{0,3}了|排了|只开"
                             r"|没人管|半天")
_SUGGESTION_CUES = re.compile(r"建议|希望|最好|应该|能不能|可不可以|可以|增加|多开|改进|优化|提高|方便|设置|开通|延长|简化|就好了"
                               r"|多放|多设|多安排|加个|搞个|弄个")


def complaint_category(text: str) -> str | None:
    """The category a citizen picked: its name, its number (1–4, 第二个), or close words (态度差 → 服务态度)."""
    t = compact(text)
    if m := re.fullmatch(r"第?([1-4一二三四])个?", t):
        return COMPLAINT_CATEGORIES["1一2二3三4四".index(m.group(1)) // 2]
    return next((name for name, cues in _CATEGORY_CUES if re.search(cues, t)), None)


def sounds_like_complaint(text: str, kind: str) -> bool:
    """The words of a complaint (or, for a suggestion, of a wish), as opposed to a service question."""
    t = compact(text)
    return _COMPLAINT_CUES.search(t) is not None or kind == "suggestion" and _SUGGESTION_CUES.search(t) is not None


# ---- values given in the message -----------------------------------------------------------------------
_TAIL_CUE = re.compile(r"(?:尾号|后四位|后4位|末四位|末4位|尾数|最后四位|最后4位)(?:是|为)?(\d{4})(?!\d)")
_FOUR_DIGITS = re.compile(r"(?<![0-9A-Z])(\d{4})(?![0-9A-Z])")
_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_CODE = re.compile(r"(?<![A-Z0-9])[A-Z2-9]{6}(?![A-Z0-9])")
_APPLICATION = re.compile(rf"(?<![A-Z0-9])(?:{APPLICATION_NO.pattern})(?!\d)")


def _folded(text: str) -> str:
    return re.sub(r"[\s-]+", " ", simplified(text).upper())


def application_number(text: str) -> str | None:
    """"sq20261112008" / "ＳＱ２０２６１１１２００８" / "sq 2026 1110 023" → "SQ20261112008"; digit groups are
    joined only when nothing matched without (so "SQ20261112008 4321" keeps its tail apart)."""
    folded = re.sub(r"(?<=[A-Z]) (?=\d)", "", _folded(text))
    m = _APPLICATION.search(folded) or _APPLICATION.search(re.sub(r"(?<=\d) (?=\d)", "", folded))
    return m.group(0) if m else None


def confirmation_code(text: str) -> str | None:
    """A 6-character booking code ("abc234" → "ABC234")."""
    m = _CODE.search(_folded(text))
    return m.group(0) if m else None


def phone_tail(text: str, standalone: bool = True) -> str | None:
    """The last 4 digits of a phone: after 尾号 / 后四位; a whole mobile number's last 4; and, when `standalone`
    (the citizen was asked for them), 4 digits on their own beside an application number or booking code."""
    t = _folded(text).replace(" ", "")
    if m := _TAIL_CUE.search(t):
        return m.group(1)
    if m := _MOBILE.search(t):
        return m.group(0)[-4:]
    if not standalone:
        return None
    rest = _folded(text)
    for pattern in (_APPLICATION, _CODE):
        rest = pattern.sub(" ", rest)
    groups = _FOUR_DIGITS.findall(rest)
    return groups[0] if len(groups) == 1 else None
