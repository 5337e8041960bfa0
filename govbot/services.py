"""Wires the long-lived objects together once: database, knowledge base, retriever, live index."""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from bot.applications import Applications
from bot.appointments import Booking
from bot.conversations import Conversations
from core.db import Database
from govbot.migrations import upgrade
from insight.analytics import Analytics
from insight.gaps import GapMiner
from core.settings import Settings
from knowledge_base.live_index import LiveIndex
from knowledge_base.sample_data import load_sample_guides, load_synonyms
from knowledge_base.workflow import KnowledgeBase
from retrieval.encoder import Encoder
from retrieval.engine import Retriever, load_config
from retrieval.normalize import Normalizer


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
        if kb.count() == 0:  # first start: load the sample knowledge base
            kb.publish_directly(load_sample_guides(), actor="sample-loader", note="样例数据首次导入")
        return kb

    @cached_property
    def retrieval_config(self) -> dict:
        return load_config(self.settings.retrieval_config)

    @cached_property
    def encoder(self) -> Encoder:
        return Encoder(self.settings.embedding_model, self.settings.cache_dir / "embeddings.sqlite",
                       int8=self.retrieval_config["int8_encoder"])

    @cached_property
    def retriever(self) -> Retriever:
        aliases, typos = load_synonyms()
        return Retriever(self.encoder, self.retrieval_config, Normalizer(aliases, typos))

    @cached_property
    def live_index(self) -> LiveIndex:
        live = LiveIndex(self.kb, self.retriever)
        live.rebuild()
        return live

    def start_watching(self) -> None:
        """Long-running processes (the server) follow publishes; one-shot commands need not."""
        self.live_index.watch()

    @cached_property
    def insight(self) -> Analytics:
        return Analytics(self.db, self.kb)

    @cached_property
    def gaps(self) -> GapMiner:
        return GapMiner(self.db, self.kb, self.live_index, self.encoder)

    @cached_property
    def conversations(self) -> Conversations:
        return Conversations(self.db)

    @cached_property
    def booking(self) -> Booking:
        return Booking(self.db)

    @cached_property
    def applications(self) -> Applications:
        apps = Applications(self.db, self.settings.applications_backend)
        apps.seed_samples()
        return apps
