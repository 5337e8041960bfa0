"""Knowledge gaps: questions the bot could not answer well, grouped by meaning, turned into drafts.

A question is a gap candidate when its reply was `handoff` (nothing in the knowledge base matched; not a
transfer the citizen asked for), a `clarify` the citizen did not follow with an answered question, or an
answer rated unsatisfied. Distinct questions are embedded with the app's encoder and grouped by average-
linkage clustering on cosine distance. A cluster is resolved when, after a later knowledge-base change,
retrieval answers most of its questions; clusters retrieval already answered when they were mined (answers
rated unsatisfied) stay open until an editor acts on them.
"""
from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from sqlalchemy import and_, delete, false, or_, select
from sqlalchemy.orm import aliased

from core.db import Database
from insight.analytics import Period
from insight.buckets import utc_start_of
from insight.models import GapCluster, Turn
from insight.rollup import question_key
from knowledge_base.live_index import LiveIndex
from knowledge_base.schema import Faq, GuideData
from knowledge_base.workflow import KnowledgeBase, WorkflowError

DISTANCE_THRESHOLD = 0.10  # cosine distance (e5 packs questions close); tuned on tests/data/gap_questions.yaml
MAX_QUESTIONS = 3000  # the most frequent distinct questions are clustered
MAX_CANDIDATES = 50000
CHECKED_EXAMPLES = 5
ANSWER_PLACEHOLDER = "（待编辑：请填写答案）"


@dataclass
class Candidate:
    text: str
    at: dt.datetime
    near_code: str


class GapMiner:
    def __init__(self, db: Database, kb: KnowledgeBase, live_index: Callable[[], LiveIndex]) -> None:
        """`live_index` gives the app's live index (built on first use: reading stored clusters needs none)."""
        self.db, self.kb, self._live_index = db, kb, live_index

    @property
    def live(self) -> LiveIndex:
        return self._live_index()

    # ---- finding the questions ------------------------------------------------------------------------
    def candidates(self, period: Period) -> list[Candidate]:
        reply, asked, after = aliased(Turn), aliased(Turn), aliased(Turn)
        question = (select(asked.text).where(asked.sender_id == reply.sender_id, asked.id < reply.id,
                                             asked.author == "citizen")
                    .order_by(asked.id.desc()).limit(1).scalar_subquery())
        next_decision = (select(after.decision).where(after.sender_id == reply.sender_id, after.id > reply.id,
                                                      after.author == "bot")
                         .order_by(after.id).limit(1).scalar_subquery())
        stmt = (select(reply.at, reply.decision, reply.matches, question.label("q"), next_decision.label("next"))
                .where(reply.author == "bot", reply.at >= utc_start_of(period.start),
                       reply.at < utc_start_of(period.end + dt.timedelta(days=1)),
                       or_(and_(reply.decision == "handoff", reply.handoff == false()), reply.decision == "clarify",
                           reply.rating == "unsatisfied"))
                .order_by(reply.id.desc()).limit(MAX_CANDIDATES))
        found = []
        with self.db.session() as s:
            for at, decision, matches, q, nxt in s.execute(stmt):
                if decision == "clarify" and nxt == "answer":
                    continue
                key = question_key(q or "")
                if key:
                    at = at if at.tzinfo else at.replace(tzinfo=dt.timezone.utc)
                    found.append(Candidate(key, at, matches[0]["code"] if matches else ""))
        return found

    # ---- clustering -----------------------------------------------------------------------------------
    def cluster(self, texts: list[str]) -> list[list[int]]:
        """Indexes of `texts` grouped by meaning (singletons included), biggest group first."""
        if len(texts) < 2:
            return [[i] for i in range(len(texts))]
        from sklearn.cluster import AgglomerativeClustering

        vectors = self.live.retriever.encoder.encode_queries(texts)
        vectors = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
        labels = AgglomerativeClustering(n_clusters=None, metric="cosine", linkage="average",
                                         distance_threshold=DISTANCE_THRESHOLD).fit_predict(vectors)
        groups: dict[int, list[int]] = {}
        for i, label in enumerate(labels):
            groups.setdefault(int(label), []).append(i)
        return sorted(groups.values(), key=len, reverse=True)

    def mine(self, period: Period, min_size: int = 2) -> list[GapCluster]:
        """Re-cluster the period's candidates and store the clusters (replacing the previous mining);
        a cluster already turned into a draft keeps its draft when the same questions come back."""
        found = self.candidates(period)
        counts = Counter(c.text for c in found)
        texts = [t for t, _ in counts.most_common(MAX_QUESTIONS)]
        week_start = utc_start_of(period.end - dt.timedelta(days=6))
        prev_start = week_start - dt.timedelta(days=7)
        by_text: dict[str, list[Candidate]] = {}
        for c in found:
            by_text.setdefault(c.text, []).append(c)
        with self.db.session() as s:
            drafted = {(e["text"]): g.draft_code for g in s.scalars(select(GapCluster).where(
                GapCluster.status == "drafted")) for e in g.examples}
        clusters = []
        for group in self.cluster(texts):
            members = [texts[i] for i in group]
            size = sum(counts[t] for t in members)
            if size < min_size:
                continue
            asked = [c for t in members for c in by_text[t]]
            near = Counter(c.near_code for c in asked if c.near_code).most_common(1)
            draft = next((drafted[t] for t in members if t in drafted), "")
            clusters.append(GapCluster(
                label=members[0], size=size, examples=[{"text": t, "n": counts[t]} for t in members[:10]],
                this_week=sum(1 for c in asked if c.at >= week_start),
                last_week=sum(1 for c in asked if prev_start <= c.at < week_start),
                near_code=near[0][0] if near else "", status="drafted" if draft else "open", draft_code=draft))
        clusters.sort(key=lambda g: -g.size)
        change = self.kb.last_change()
        self.live.sync()
        for g in clusters:
            g.answered_at_mining, g.checked_change = self._answered(g), change
        with self.db.session() as s:
            s.execute(delete(GapCluster))
            s.add_all(clusters)
        return self.list()

    def _answered(self, cluster: GapCluster) -> bool:
        """Does retrieval answer most of the cluster's most asked questions now?"""
        decisions = [self.live.retriever.search(e["text"]).decision for e in cluster.examples[:CHECKED_EXAMPLES]]
        return sum(d == "answer" for d in decisions) * 2 > len(decisions)

    # ---- reading, resolution --------------------------------------------------------------------------
    def list(self) -> list[GapCluster]:
        """The stored clusters; those that may have been resolved are checked again after a KB change."""
        change = self.kb.last_change()
        with self.db.session() as s:
            clusters = list(s.scalars(select(GapCluster).order_by(GapCluster.size.desc(), GapCluster.id)))
            stale = [g for g in clusters if g.status != "resolved" and not g.answered_at_mining
                     and g.checked_change != change]
            if stale:
                self.live.sync()  # the index holds everything published up to `change`
                for g in stale:
                    g.status = "resolved" if self._answered(g) else g.status
                    g.checked_change = change
        return clusters

    def get(self, cluster_id: int) -> GapCluster:
        with self.db.session() as s:
            cluster = s.get(GapCluster, cluster_id)
        if cluster is None:
            raise WorkflowError(f"没有编号为 {cluster_id} 的知识缺口 / no gap cluster {cluster_id}", 404)
        return cluster

    # ---- one click: a draft ---------------------------------------------------------------------------
    def to_draft(self, cluster_id: int, kind: str, actor: str, code: str = "") -> GuideData:
        """kind `guide`: a new draft guide for the missing service; `faq`: a draft FAQ on guide `code`
        (default: the service the questions came closest to); `alias`: the questions' wording added to
        that guide's keywords. Reviewers publish drafts as usual."""
        cluster = self.get(cluster_id)
        questions = [e["text"] for e in cluster.examples]
        if kind == "guide":
            data = GuideData(code=code or f"GAP-{cluster.id:04d}", title=cluster.label[:60],
                             faqs=[Faq(question=questions[0], similar_questions=questions[1:],
                                       answer=ANSWER_PLACEHOLDER)])
            self.kb.save_draft(data, actor, create_only=True)
        elif kind in ("faq", "alias"):
            target = code or cluster.near_code
            if not target:
                raise WorkflowError("请选择要补充的事项编码 / choose the guide (code) to extend", 422)
            guide = self.kb.get(target)
            data = GuideData.model_validate(guide.draft)
            if kind == "faq":
                data.faqs.append(Faq(question=questions[0], similar_questions=questions[1:],
                                     answer=ANSWER_PLACEHOLDER))
            else:
                data.keywords.extend(q for q in questions if q not in data.keywords)
            self.kb.save_draft(data, actor)
        else:
            raise WorkflowError("kind 应为 guide、faq 或 alias / kind must be guide, faq or alias", 422)
        with self.db.session() as s:
            stored = s.get(GapCluster, cluster_id)
            stored.status, stored.draft_code = "drafted", data.code
        return data
