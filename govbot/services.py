"""Wires the long-lived objects together once: database, knowledge base, retriever, live index."""
from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from bot.applications import Applications
from bot.appointments import Booking
from bot.safety import SafetyCheck, dialogue_phrasings
from bot.conversations import Conversations
from core.db import Database
from core.hub import Hub
from handoff.calendar import ConfigFile
from handoff.tickets import Desk
from govbot.migrations import upgrade
from insight.analytics import Analytics
from insight.gaps import GapMiner
from core.settings import Settings
from knowledge_base.live_index import LiveIndex, to_indexed_item
from knowledge_base.safety import SafetyPolicy, load_sample_policy
from knowledge_base.schema import GuideData
from knowledge_base.sample_data import SAMPLE_LOADER, load_sample_aliases, load_sample_guides
from knowledge_base.workflow import KnowledgeBase
from retrieval.calibration import Calibration
from retrieval.encoder import Encoder
from retrieval.engine import CALIBRATION_FILE, Retriever, load_config
from retrieval.normalize import Normalizer
from retrieval.self_calibration import LiveItem, SelfCalibrator, load_negatives


def live_item(g: GuideData) -> LiveItem:
    return LiveItem(to_indexed_item(g), tuple((f.question, *f.similar_questions) for f in g.faqs))


@dataclass
class Services:
    settings: Settings

    @cached_property
    def db(self) -> Database:
        db = Database(self.settings.database_url)
        upgrade(db)
        return db

    @cached_property
    def kb(self) -> KnowledgeBase:
        kb = KnowledgeBase(self.db)
        if kb.count() == 0 and self.settings.sample_kb:  # first start: the sample guides and their dictionary
            kb.apply_import(load_sample_guides(), SAMPLE_LOADER, "样例数据首次导入", aliases=load_sample_aliases())
        return kb

    @cached_property
    def safety_policy(self) -> SafetyPolicy:
        """The safety topics; the shipped ones are written on the first start (after the sample guides, whose
        codes they offer), whether or not the sample guides are loaded."""
        policy = SafetyPolicy(self.db)
        self.kb  # noqa: B018
        policy.seed(load_sample_policy(), SAMPLE_LOADER)
        return policy

    @cached_property
    def safety(self) -> SafetyCheck:
        """Checks every citizen message against the safety policy (before Rasa, in the gateway)."""
        return SafetyCheck(self.safety_policy, self.kb, self.encoder,
                           load_negatives() + dialogue_phrasings(self.settings.root / "training_data" / "nlu"))

    @cached_property
    def retrieval_config(self) -> dict:
        return load_config(self.settings.retrieval_config)

    @cached_property
    def encoder(self) -> Encoder:
        return Encoder(self.settings.embedding_model, self.settings.cache_dir / "embeddings.sqlite",
                       int8=self.retrieval_config["int8_encoder"])

    @property
    def calibration_file(self) -> Path:
        """This instance's own calibration, fit on its live knowledge base (`self_calibrator`)."""
        return self.settings.var_dir / "calibration.json"

    def _load_calibration(self, path: Path) -> Calibration | None:
        return Calibration.load(path, self.retrieval_config["answer_threshold"],
                                self.retrieval_config["clarify_threshold"])

    def new_retriever(self, calibration: Calibration | None = None) -> Retriever:
        """An empty retriever sharing the encoder, with the knowledge base's alias / typo dictionary; without
        a calibration it uses the shipped one."""
        return Retriever(self.encoder, self.retrieval_config, Normalizer(*self.kb.alias_dictionary()), calibration)

    @cached_property
    def retriever(self) -> Retriever:
        return self.new_retriever(self._load_calibration(self.calibration_file))

    @cached_property
    def self_calibrator(self) -> SelfCalibrator:
        return SelfCalibrator(self.calibration_file, self.retriever, self.new_retriever,
                              lambda: [live_item(g) for g in self.kb.live()], self.kb.last_change,
                              shipped=CALIBRATION_FILE)

    @cached_property
    def live_index(self) -> LiveIndex:
        live = LiveIndex(self.kb, self.retriever)
        live.rebuild()
        return live

    def start_watching(self) -> None:
        """Long-running processes (the server) follow publishes and keep the calibration fitted to the
        live knowledge base; one-shot commands need not."""
        self.live_index.watch()
        self.self_calibrator.watch()
        # the safety check's vectors (the first start encodes the guides' phrasings once; then from the cache)
        threading.Thread(target=self.safety.refresh, name="safety-warm-up", daemon=True).start()

    def stop_watching(self) -> None:
        self.live_index.stop()
        self.self_calibrator.stop()

    @cached_property
    def insight(self) -> Analytics:
        return Analytics(self.db, self.kb)

    @cached_property
    def gaps(self) -> GapMiner:
        return GapMiner(self.db, self.kb, lambda: self.live_index)

    @cached_property
    def hub(self) -> Hub:
        return Hub(self.settings.redis_url)

    @cached_property
    def desk(self) -> Desk:
        return Desk(self.db, self.hub, self.kb, ConfigFile(self.settings.handoff_config))

    @cached_property
    def conversations(self) -> Conversations:
        return Conversations(self.db, self.desk)

    @cached_property
    def booking(self) -> Booking:
        return Booking(self.db)

    @cached_property
    def applications(self) -> Applications:
        apps = Applications(self.db, self.settings.applications_backend)
        apps.seed_samples()
        return apps
