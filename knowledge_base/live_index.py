"""Keeps the retrieval index in step with what is published, from any process or replica.

A watcher thread polls the audit log's newest id (one indexed query every `interval` seconds); when it
moves, the live versions are compared with what is indexed and only the changed items are re-embedded
(upsert) or withdrawn (archive). A change of the alias / typo dictionary reloads the normaliser's
dictionary and re-indexes the items whose passages contain a changed term. Chats keep being answered
while that happens.
"""
from __future__ import annotations

import logging
import threading
import time

from knowledge_base.schema import GuideData
from knowledge_base.workflow import KnowledgeBase
from retrieval.engine import IndexedItem, Retriever
from retrieval.normalize import Normalizer

log = logging.getLogger("govbot.kb")


def to_indexed_item(g: GuideData) -> IndexedItem:
    passages = [g.title]
    if g.keywords:
        passages.append(" ".join(g.keywords))
    for faq in g.faqs:
        passages.append(faq.question)
        passages.extend(faq.similar_questions)
    return IndexedItem(code=g.code, title=g.title, passages=tuple(passages), keywords=tuple(g.keywords),
                       valid_from=g.valid_from, valid_to=g.valid_to)


class LiveIndex:
    def __init__(self, kb: KnowledgeBase, retriever: Retriever) -> None:
        self.kb, self.retriever = kb, retriever
        self._indexed: dict[str, int] = {}
        self._seen_change = -1
        self._seen_alias_change = -1
        self._stop = threading.Event()
        self.last_sync_seconds = 0.0

    def rebuild(self, progress: bool = False) -> float:
        self._seen_change = self.kb.last_change()
        self._seen_alias_change = self.kb.last_alias_change()
        self.retriever.normalizer.set_dictionary(*self.kb.alias_dictionary())
        self._indexed = self.kb.live_versions()
        return self.retriever.index([to_indexed_item(g) for g in self.kb.live()], progress=progress)

    def _reload_dictionary(self) -> list[str]:
        """Swap in the dictionary as stored; returns the codes of the live items it rewrites differently."""
        normalizer = self.retriever.normalizer
        before = {**normalizer.aliases, **normalizer.typos}
        aliases, typos = self.kb.alias_dictionary()
        normalizer.set_dictionary(aliases, typos)
        after = {**aliases, **typos}
        terms = {Normalizer.basic(t) for t in set(before) | set(after) if before.get(t) != after.get(t)}
        if not terms:
            return []
        return [code for code, passages in self._passages().items()
                if any(t in Normalizer.basic(p) for p in passages for t in terms)]

    def _passages(self) -> dict[str, tuple[str, ...]]:
        return {g.code: (g.title, *to_indexed_item(g).passages) for g in self.kb.live()}

    def sync(self) -> tuple[int, int]:
        """Apply what changed since the last sync; returns (upserted, removed)."""
        change = self.kb.last_change()
        if change == self._seen_change:
            return 0, 0
        t0 = time.perf_counter()
        rewritten: list[str] = []
        alias_change = self.kb.last_alias_change()
        if alias_change != self._seen_alias_change:
            rewritten = self._reload_dictionary()
            self._seen_alias_change = alias_change
        live = self.kb.live_versions()
        changed = [c for c, v in live.items() if self._indexed.get(c) != v or c in rewritten]
        gone = [c for c in self._indexed if c not in live]
        if gone:
            self.retriever.remove(gone)
        if changed:
            self.retriever.upsert([to_indexed_item(g) for g in self.kb.live(changed)])
        self._indexed, self._seen_change = live, change
        self.last_sync_seconds = time.perf_counter() - t0
        if changed or gone:
            log.info("index synced: %d upserted, %d removed in %.2fs", len(changed), len(gone),
                     self.last_sync_seconds)
        return len(changed), len(gone)

    def watch(self, interval: float = 0.5) -> threading.Thread:
        def loop() -> None:
            while not self._stop.wait(interval):
                try:
                    self.sync()
                except Exception:  # keep watching; the next change retries
                    log.exception("index sync failed")

        thread = threading.Thread(target=loop, name="kb-live-index", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
