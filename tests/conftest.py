"""Shared fixtures. The embedding model and the sample index load once per test run."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from core.settings import ROOT, Settings

IN_CI = os.environ.get("CI", "").lower() == "true"


def need_service(available: bool, what: str) -> None:
    """Skip with a reason on a developer machine without the service; fail under CI, where it must run."""
    if available:
        return
    if IN_CI:
        pytest.fail(f"{what} is required under CI=true but is not reachable")
    pytest.skip(f"{what} is not reachable on this machine")


def make_settings(tmp: Path, **overrides) -> Settings:
    return Settings(var_dir=tmp, database_url=overrides.pop("database_url", f"sqlite:///{tmp / 'govbot.db'}"),
                    embedding_model=ROOT / "var" / "models" / "e5-small", **overrides)


@pytest.fixture(scope="session")
def encoder():
    from retrieval.encoder import Encoder
    from retrieval.engine import load_config

    int8 = load_config(Settings().retrieval_config)["int8_encoder"]
    return Encoder(ROOT / "var" / "models" / "e5-small", ROOT / "var" / "cache" / "embeddings.sqlite", int8=int8)


def make_services(tmp: Path, encoder):
    """A fresh database with the sample knowledge base, sharing the session's encoder."""
    from govbot.services import Services

    svc = Services(make_settings(tmp))
    svc.__dict__["encoder"] = encoder  # cached_property slot: reuse the loaded model
    svc.live_index  # noqa: B018
    return svc


@pytest.fixture
def services(tmp_path, encoder):
    return make_services(tmp_path, encoder)


@pytest.fixture
def app_client(services):
    from fastapi.testclient import TestClient

    from govbot.app import create_app
    from core.auth import add_user

    for role in ("editor", "reviewer", "admin", "agent"):
        add_user(services.db, f"test-{role}", role, token=f"{role}-token")
    with TestClient(create_app(services.settings, services)) as client:
        yield client


def auth(role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {role}-token"}


@pytest.fixture(scope="session")
def shared_stack(tmp_path_factory):
    """One real stack (trained Rasa + app, own database) for the slow conversation tests of the whole run;
    each test talks in its own sender_id. Tests that need a stack of their own (restarts, other settings)
    start it themselves."""
    from tests.stack import run_stack

    settings = make_settings(tmp_path_factory.mktemp("shared_stack"), port=18400, rasa_port=15405)
    yield from run_stack(settings)
