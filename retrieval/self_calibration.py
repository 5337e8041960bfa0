"""Self-calibration: the answer / clarify / hand-off calibration fitted on the knowledge base that is live.

Every FAQ entry of every item is held out in turn: its question and similar questions are removed from
a private copy of the index and asked as if a citizen had phrased them (in scope, the item is still there
by its title, keywords and other entries; an item with a single entry is held out one phrasing at a
time, see `held_out_groups`). Then the whole item is removed and the same phrasings are asked again:
now nothing right exists, so whatever comes first is a near miss — a service the knowledge base lacks,
answered with a neighbour. The generic out-of-scope questions shipped in `negatives.yaml` complete the
set. The logistic models are pulled toward the shipped calibration (the prior, fit on the sample's dev
set), so a small knowledge base — tens of items, two phrasings each — still gets a sensible fit; the
answer threshold is the lowest within the caps of `retrieval.calibrate` (wrong answers, out-of-scope
questions and near misses answered). Each phrasing is encoded once (and cached on disk for the next
fit) and the index is changed in place: a fit of 30 items takes well under a minute, and at most
`MAX_ASKED` phrasings are asked however large the knowledge base.

`SelfCalibrator` keeps the fit current in the background: the old calibration serves while a new one
is fit, on start when the knowledge base changed since the stored fit and after every publish or import
that changes what retrieval indexes (codes, titles, keywords, questions — not answer texts).
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

import yaml

from core.clock import utcnow
from retrieval.calibrate import Scored, fit_scored, score
from retrieval.calibration import Calibration
from retrieval.engine import IndexedItem, Retriever
from retrieval.evaluate import Case

log = logging.getLogger("govbot.calibration")
NEGATIVES_FILE = Path(__file__).parent / "negatives.yaml"
MIN_ITEMS = 3  # below this there is nothing to tell apart: the shipped calibration serves
MAX_HELD_OUT_ITEMS = 400  # a large knowledge base is calibrated on a fixed random sample of its items
MAX_ASKED = 600  # held-out phrasings asked (each twice: in scope, then as a near miss); beyond, fewer per group
MATERIAL_SHARE = 0.2  # items added or removed, as a share of those fitted on, that call for a new fit


@dataclass(frozen=True)
class LiveItem:
    """An item as retrieval indexes it, and its FAQ entries (a question with its similar questions)."""

    item: IndexedItem
    faq_entries: tuple[tuple[str, ...], ...]


def material_change(fitted_codes: list[str], live_codes: list[str]) -> bool:
    """Whether the set of items moved enough from the fitted one that its calibration no longer transfers.
    Editing guides, or adding a few, keeps the fit: a re-fit on a handful of changes would move the
    thresholds on noise (the sample's own fit is made on its dev set, which a leave-out fit cannot match)."""
    fitted, live = set(fitted_codes), set(live_codes)
    return len(fitted ^ live) >= MATERIAL_SHARE * max(len(fitted), 1)


def fingerprint(items: list[LiveItem]) -> str:
    """What retrieval sees of the live knowledge base; an edit of an answer text leaves it unchanged."""
    h = hashlib.sha256()
    for it in sorted(items, key=lambda i: i.item.code):
        i = it.item
        h.update(json.dumps([i.code, i.title, i.passages, i.keywords, str(i.valid_from), str(i.valid_to)],
                            ensure_ascii=False).encode())
    return h.hexdigest()[:16]


def load_negatives(path: Path = NEGATIVES_FILE) -> list[str]:
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [str(q) for group in raw.values() for q in group]


def held_out_groups(item: LiveItem) -> tuple[tuple[str, ...], ...]:
    """What is asked together, removed from the item: each FAQ entry with its similar questions (they are
    near-paraphrases, so asking one with another still indexed would flatter the fit). An item with a
    single entry is held out one phrasing at a time instead: left with its title alone it would look
    nothing like what citizens search, where every item has its phrasings."""
    if len(item.faq_entries) == 1 and len(item.faq_entries[0]) > 1:
        return tuple((q,) for q in item.faq_entries[0])
    return item.faq_entries


def held_out_questions(retriever: Retriever, items: list[LiveItem], negatives: list[str],
                       stop: Callable[[], bool] = lambda: False) -> list[Scored] | None:
    """Scores held-out phrasings, near misses and negatives on `retriever` (a private copy indexed with
    `items`: it is changed while this runs and left as it was); None when `stop` says so midway."""
    chosen = items if len(items) <= MAX_HELD_OUT_ITEMS else random.Random(0).sample(items, MAX_HELD_OUT_ITEMS)
    groups = [(it, held_out_groups(it)) for it in chosen]
    per_group = max(1, MAX_ASKED // max(1, sum(len(g) for _, g in groups)))
    asked = [(it, [(group, _some(group, per_group)) for group in gs]) for it, gs in groups]
    vectors = retriever.query_vectors([q for _, gs in asked for _, some in gs for q in some] + negatives)
    rows: list[Scored | None] = []
    for it, gs in asked:
        if stop():
            return None
        code = it.item.code
        for group, some in gs:
            kept = tuple(p for p in it.item.passages if p not in group)
            retriever.upsert([replace(it.item, passages=kept)])
            rows.extend(score(retriever, Case(q, code), vectors) for q in some)
        retriever.remove([code])
        near = (score(retriever, Case(q, None), vectors) for _, some in gs for q in some)
        rows.extend(replace(s, kind="near_miss") for s in near if s is not None)
        retriever.upsert([it.item])
    rows.extend(score(retriever, Case(q, None), vectors) for q in negatives)
    return [r for r in rows if r is not None]


def _some(group: tuple[str, ...], n: int) -> tuple[str, ...]:
    """`n` of the group's phrasings, the same ones every fit."""
    return group if len(group) <= n else tuple(random.Random(group[0]).sample(group, n))


def fit_live(retriever: Retriever, items: list[LiveItem], prior: Calibration | None,
             stop: Callable[[], bool] = lambda: False) -> tuple[Calibration, dict] | None:
    """Fit on the live items; `retriever` is a fresh, private one (not the one answering citizens)."""
    t0 = time.perf_counter()
    retriever.index([it.item for it in items])
    rows = held_out_questions(retriever, items, load_negatives(), stop)
    if rows is None:
        return None
    calibration, report = fit_scored(rows, prior)
    report.update(fingerprint=fingerprint(items), codes=sorted(it.item.code for it in items), fitted_at=utcnow().isoformat(timespec="seconds"),
                  items=len(items), prior="shipped" if prior else "none",
                  seconds=round(time.perf_counter() - t0, 1))
    return calibration, report


class SelfCalibrator:
    """Keeps `live.calibration` fitted to the live knowledge base, stored per instance at `path`."""

    def __init__(self, path: Path, live: Retriever, make_retriever: Callable[[], Retriever],
                 load_items: Callable[[], list[LiveItem]], change_marker: Callable[[], int],
                 shipped: Path) -> None:
        """`shipped`: the calibration that comes with the project: the prior of every fit, and the fit
        itself for the knowledge base it was made on (the sample's, recorded by its fingerprint)."""
        self.path, self.live, self.make_retriever = path, live, make_retriever
        self.load_items, self.change_marker, self.shipped = load_items, change_marker, shipped
        self.prior = Calibration.load(shipped, 0.5, 0.5)
        self.fitting = False
        self.live_fingerprint = ""
        stored = self.stored_report()
        self.applied = stored["fingerprint"] if stored and live.calibration is not None else ""
        self._lock = threading.Lock()  # one fit at a time per process
        self._stop = threading.Event()

    def stored_report(self, path: Path | None = None) -> dict | None:
        path = path or self.path
        if not path.exists():
            return None
        return json.loads(path.read_text(encoding="utf-8")).get("fit_report")

    def current_fingerprint(self) -> str:
        self.live_fingerprint = fingerprint(self.load_items())
        return self.live_fingerprint

    def refresh(self, force: bool = False) -> bool:
        """Fit when the live knowledge base differs from the stored fit (adopting a fit another process
        already stored for it), or always with `force`; returns whether a new fit was made."""
        with self._lock:
            items = self.load_items()
            self.live_fingerprint = fingerprint(items)
            for path in () if force else (self.path, self.shipped):
                stored = self.stored_report(path)
                if stored and stored.get("fingerprint") == self.live_fingerprint:
                    if self.applied != self.live_fingerprint:
                        self.live.calibration = Calibration.load(path, 0.5, 0.5)
                        self.applied = self.live_fingerprint
                    return False
            if len(items) < MIN_ITEMS:
                return False
            serving = self.stored_report(self.path) or self.stored_report(self.shipped) or {}
            if not force and "codes" in serving and not material_change(
                    serving["codes"], [it.item.code for it in items]):
                return False
            self.fitting = True
            try:
                fitted = fit_live(self.make_retriever(), items, self.prior, self._stop.is_set)
            finally:
                self.fitting = False
            if fitted is None:
                return False
            calibration, report = fitted
            calibration.save(self.path, report)
            self.live.calibration = calibration  # one attribute swap: requests see the old or the new fit
            self.applied = report["fingerprint"]
            log.info("self-calibration fitted on %d items in %.1fs: answer rate %.2f, wrong %.3f, oos %.3f, "
                     "near misses %.3f", report["items"], report["seconds"], report["answer_rate"],
                     report["wrong_answers"], report["oos_answered"], report["near_misses_answered"])
            return True

    def status(self) -> dict:
        """What answers citizens now: this instance's fit or the shipped one, and whether it was made on
        the knowledge base that is live."""
        own = self.stored_report()
        source, path = ("instance", self.path) if own else ("shipped", self.shipped)
        fit = own or self.stored_report(self.shipped) or {}
        return {"calibration": source, "file": str(path), "current": fit.get("fingerprint") == self.live_fingerprint,
                "fitting": self.fitting, "live_fingerprint": self.live_fingerprint, "fit": fit}

    def watch(self, interval: float = 2.0, settle: float = 1.0) -> threading.Thread:
        """Refresh on start, then whenever the knowledge base's change marker moves and then stays put for
        `settle` seconds (an import publishes many items; one fit follows)."""
        def loop() -> None:
            seen = None
            while not self._stop.is_set():
                try:
                    marker = self.change_marker()
                    if marker != seen:
                        if seen is not None and self._stop.wait(settle):
                            return
                        if self.change_marker() == marker:
                            seen = marker
                            self.refresh()
                except Exception:  # keep serving the old calibration; the next change retries
                    log.exception("self-calibration failed")
                if self._stop.wait(interval):
                    return

        thread = threading.Thread(target=loop, name="kb-self-calibration", daemon=True)
        thread.start()
        return thread

    def stop(self) -> None:
        self._stop.set()
