"""Safety first: every citizen message is checked against the knowledge base's safety policy before anything
else answers it (the gateway, in bot and human mode; `action_safety` when Rasa's NLU says `sensitive_topic`).

A message is on a topic when, after the normalisation retrieval uses (traditional → simplified, full-width,
zero-width) and with the topics' exceptions taken out ("跳楼价", "笑死"), it contains one of the topic's
keywords (`*` stands for up to four characters: "不想*活" is also "不想再活"), or when its e5 vector is close to
one of the topic's example phrasings AND closer to it than to anything citizens ordinarily ask (the live
guides' FAQ phrasings, the shipped off-topic chit-chat, and what citizens say to steer the dialogue: yes, no,
stop, a human, a form's answers). e5 similarities are compressed (almost every
Chinese sentence pair scores 0.85–0.95), so the contrast with ordinary questions is what separates
"我走了家里人就轻松了" from "能让家里人帮我办吗"; the floor and margin were chosen on
`tests/data/safety_cases.yaml` (tests/test_safety.py prints the figures). A message holding an excepted idiom
("气死我了") is judged by keywords only: the rest of such a sentence is too often a near miss for the vectors.
Messages shorter than four characters are judged by keywords only too. The highest-priority topic wins.

One encode per message (none when a keyword decides); the examples' and the ordinary phrasings' vectors are
kept and rebuilt when the policy or the published guides change (the audit log says when)."""
from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bot.actions.answering import HUMAN_BUTTON
from bot.conversations import Conversations
from handoff.tickets import END_PHRASES
from knowledge_base.safety import SafetyPolicy, SafetyTopicDoc
from knowledge_base.workflow import KnowledgeBase
from retrieval.encoder import Encoder
from retrieval.normalize import Normalizer

log = logging.getLogger("govbot.safety")

SIMILARITY_FLOOR = 0.88  # the closest example must score at least this …
SIMILARITY_MARGIN = 0.0  # … and beat the closest ordinary phrasing by this much
# when Rasa's NLU already says `sensitive_topic`, the policy may agree from this much below the floor and margin
NLU_SLACK = (0.02, 0.01)
MIN_CHARS_FOR_SIMILARITY = 4  # shorter messages ("好的", "张三", "明天") carry too little meaning to compare
WILDCARD_GAP = 4  # characters a `*` in a keyword stands for
HANDOFF_REASON = "sensitive"  # the ticket's reason (urgent priority)
# NLU intents whose examples are how citizens steer the dialogue ("算了", "结束人工", a name, a date): never a
# topic, however close their words come to one ("结束人工" ~ "想结束自己")
DIALOGUE_INTENTS = ("greet", "goodbye", "thank", "affirm", "deny", "restart", "request_human", "inform",
                    "rate_answer", "choose_option")
_ANNOTATION = re.compile(r"\[([^\]]+)\](?:\([^)]*\)|\{[^}]*\})")  # [护照](service) → 护照


def _basic(text: str) -> str:
    """Retrieval's basic normalisation; OpenCC keeps 著 (it is also simplified, 著名), but in the phrasings
    that matter here (活著, 睡著) it is 着."""
    return Normalizer.basic(text).replace("著", "着")


def _compact(text: str) -> str:
    return _basic(text).replace(" ", "")


def _pattern(keyword: str) -> re.Pattern:
    return re.compile(f".{{0,{WILDCARD_GAP}}}?".join(re.escape(_compact(part)) for part in keyword.split("*")))


def dialogue_phrasings(nlu_folder: Path) -> list[str]:
    """The NLU examples of the dialogue intents (annotations removed) and the phrases that end a human
    conversation: ordinary messages for the contrast, next to the guides' phrasings."""
    phrasings = list(END_PHRASES)
    for path in sorted(nlu_folder.glob("*.yml")):
        for block in (yaml.safe_load(path.read_text(encoding="utf-8")) or {}).get("nlu") or []:
            if block.get("intent") in DIALOGUE_INTENTS:
                phrasings += [_ANNOTATION.sub(r"\1", line.strip()[2:]) for line in block["examples"].splitlines()
                              if line.strip().startswith("- ")]
    return list(dict.fromkeys(phrasings))


@dataclass(frozen=True)
class Verdict:
    """The topic a message is on, why (for logs and the agent), and the live services it names."""

    topic: SafetyTopicDoc
    evidence: str
    related: tuple[tuple[str, str], ...] = ()  # (code, title)


@dataclass(frozen=True)
class _Words:
    """The policy's enabled topics by priority with their keyword patterns, and every topic's exceptions."""

    topics: tuple[SafetyTopicDoc, ...] = ()
    patterns: dict[str, list[tuple[str, re.Pattern]]] = field(default_factory=dict)  # keyword, its pattern
    exceptions: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Vectors:
    """The examples' vectors (with their topic) and the ordinary phrasings' vectors they are contrasted with."""

    examples: np.ndarray
    example_owner: tuple[str, ...]
    example_text: tuple[str, ...]
    ordinary: np.ndarray
    seen: tuple[int, dict[str, int]]  # the policy change and the live guide versions they were built from


class SafetyCheck:
    """Keywords follow the policy from the next message on (reading it is cheap); the vectors are rebuilt in
    the background when the policy or the published guides change, and the previous ones serve meanwhile.
    On an instance's very first start, until its phrasings are encoded (once: they are cached on disk),
    only keywords judge — the NLU's `sensitive_topic` is the second line then."""

    def __init__(self, policy: SafetyPolicy, kb: KnowledgeBase, encoder: Encoder, everyday: list[str]) -> None:
        """`everyday`: ordinary messages besides the guides' phrasings (chit-chat, dialogue phrasings)."""
        self.policy, self.kb, self.encoder, self.everyday = policy, kb, encoder, everyday
        self._words, self._words_seen = _Words(), -1
        self._vectors: _Vectors | None = None
        self._kb_seen = -1  # the knowledge base's (audit log's) last change when the vectors were checked
        self._building = threading.Lock()

    # ---- keeping up with the policy and the guides -------------------------------------------------
    def _keep_up(self) -> None:
        """Per message: one indexed query when nothing changed."""
        kb_change = self.kb.last_change()
        if kb_change == self._kb_seen:
            return
        policy_change = self.policy.last_change()
        if policy_change != self._words_seen:
            self._words, self._words_seen = self._compile_words(), policy_change
        if not self._building.locked():
            threading.Thread(target=self.refresh, name="safety-vectors", daemon=True).start()

    def refresh(self) -> None:
        """Bring keywords and vectors up to date now (the app's warm-up at start, and the background
        rebuilds); encodes only what changed."""
        with self._building:
            kb_change, policy_change = self.kb.last_change(), self.policy.last_change()
            if policy_change != self._words_seen:
                self._words, self._words_seen = self._compile_words(), policy_change
            live = self.kb.live_versions()
            old = self._vectors
            if old is None or old.seen != (policy_change, live):
                examples = [(t.key, e) for t in self._words.topics for e in t.examples]
                ordinary = (old.ordinary if old is not None and old.seen[1] == live
                            else self._encode(self._ordinary_phrasings()))
                self._vectors = _Vectors(self._encode([e for _, e in examples]), tuple(k for k, _ in examples),
                                         tuple(e for _, e in examples), ordinary, (policy_change, live))
                log.info("safety policy in use: %d topics, %d examples, %d ordinary phrasings",
                         len(self._words.topics), len(examples), len(ordinary))
            self._kb_seen = kb_change

    def _compile_words(self) -> _Words:
        topics = tuple(t for t in self.policy.topics() if t.enabled)
        return _Words(topics, {t.key: [(k, _pattern(k)) for k in t.keywords] for t in topics},
                      tuple(sorted({_compact(e) for t in topics for e in t.exceptions}, key=len, reverse=True)))

    def _ordinary_phrasings(self) -> list[str]:
        phrasings = [q for g in self.kb.live() for f in g.faqs for q in (f.question, *f.similar_questions)]
        return list(dict.fromkeys(phrasings + self.everyday))

    def _encode(self, texts: list[str]) -> np.ndarray:
        """Knowledge-base and policy text (not citizens'): cached on disk, so a restart re-reads them."""
        if not texts:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return self.encoder.encode_queries([_basic(t) for t in texts], cached=True)

    # ---- checking a message -----------------------------------------------------------------------
    def check(self, text: str) -> Verdict | None:
        """The topic this message is on, or None."""
        return self._judge(text)

    def second_opinion(self, text: str) -> Verdict | None:
        """For a message Rasa's NLU judged `sensitive_topic` (`action_safety`): the topic, with the vectors'
        bars lowered by NLU_SLACK (two signals agree), also for short messages; None when the policy does not
        see it at all (the NLU's slip: the message is then answered as a question)."""
        return self._judge(text, slack=NLU_SLACK)

    def _judge(self, text: str, slack: tuple[float, float] = (0.0, 0.0)) -> Verdict | None:
        if text.startswith("/"):  # a button's payload, not the citizen's words
            return None
        self._keep_up()
        words, vectors = self._words, self._vectors
        said = _basic(text)
        basic = said
        for phrase in words.exceptions:
            basic = basic.replace(phrase, " ")
        compact = basic.replace(" ", "")
        for topic in words.topics:  # highest priority first
            hit = next((keyword for keyword, p in words.patterns[topic.key] if p.search(compact)), None)
            if hit is not None:
                return self._verdict(topic, f"关键词“{hit}”", compact)
        if vectors is None or not vectors.example_text:
            return None
        # an idiom the policy excepts ("笑死", "气死") shows death words used lightly: only keywords judge it
        if basic != said or (not any(slack) and len(re.findall(r"[\u4e00-\u9fff]", compact)) < MIN_CHARS_FOR_SIMILARITY):
            return None
        vector = self.encoder.encode_queries([basic.strip() or text])[0]
        similar = vectors.examples @ vector
        ordinary = float(np.max(vectors.ordinary @ vector)) if len(vectors.ordinary) else 0.0
        enabled = {t.key: t for t in words.topics}
        for best in np.argsort(-similar):  # the closest example of a topic still enabled
            topic = enabled.get(vectors.example_owner[best])
            if topic is not None:
                break
        else:
            return None
        score = float(similar[best])
        if score < SIMILARITY_FLOOR - slack[0] or score - ordinary < SIMILARITY_MARGIN - slack[1]:
            return None
        return self._verdict(topic, f"与“{vectors.example_text[best]}”相似（{score:.3f}，普通问题 {ordinary:.3f}）",
                             compact)

    def _verdict(self, topic: SafetyTopicDoc, evidence: str, compact: str) -> Verdict:
        related = []
        for service in topic.related:
            if any(_compact(word) in compact for word in service.when):
                guide = self.kb.live_guide(service.code)
                if guide is not None:
                    related.append((service.code, guide.title))
        return Verdict(topic, evidence, tuple(related))


# ---- what the citizen is told -------------------------------------------------------------------------
@dataclass
class SafetyReply:
    messages: list[dict[str, Any]]
    meta: dict[str, Any]  # decision "safety", the topic key, mode, ticket


def _service_buttons(related: tuple[tuple[str, str], ...]) -> list[dict[str, str]]:
    return [{"title": title, "payload": f'/choose_option{{"service_code":"{code}"}}'} for code, title in related]


def respond(verdict: Verdict, conversations: Conversations, sender_id: str, mode: str) -> SafetyReply:
    """The topic's own words first (for self-harm: empathy), then its hotlines; a human at once when the topic
    says so (in human mode the open ticket becomes urgent and its agent is told why); the services the
    message named, as buttons."""
    topic = verdict.topic
    main = topic.response.strip()
    if topic.lines:
        main += "\n" + "；".join(line.text() for line in topic.lines)
    messages: list[dict[str, Any]] = [{"text": main}]
    meta: dict[str, Any] = {"decision": "safety", "topic": topic.key, "matches": [], "mode": mode}
    if mode == "human":
        ticket = conversations.desk.escalate(sender_id, f"市民消息涉及“{topic.title}”（{verdict.evidence}），已升为紧急")
        if ticket is not None:
            meta["ticket"] = ticket.id
    elif topic.handoff:
        opened = conversations.hand_off(sender_id, HANDOFF_REASON, topic=topic.title, category="求助")
        messages.append({"text": conversations.desk.waiting_text(opened)})
        meta |= {"mode": "human", "ticket": opened.ticket.id}
    else:
        messages[0]["buttons"] = [HUMAN_BUTTON]
    if verdict.related:
        messages.append({"text": "您提到的事，下面这些事项也许帮得上，点开可以看怎么办理：",
                         "buttons": _service_buttons(verdict.related)})
    return SafetyReply(messages, meta)
