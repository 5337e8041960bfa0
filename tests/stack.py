"""Runs the real stack (Rasa server + app) for end-to-end tests: one trained model and one stack per run."""
from __future__ import annotations

from dataclasses import dataclass

import httpx

from govbot import rasa_project
from core.settings import Settings
from govbot.stack import start_processes, stop, wait_ready

EPOCHS_SCALE = 0.3  # a quicker model for tests; cached under models/ by its fingerprint


@dataclass
class Stack:
    settings: Settings
    client: httpx.Client

    def chat(self, sender: str, message: str) -> dict:
        r = self.client.post("/api/v1/chat", json={"sender_id": sender, "message": message, "channel": "web"})
        assert r.status_code == 200, r.text
        return r.json()


def run_stack(settings: Settings):
    model = rasa_project.train(settings, epochs_scale=EPOCHS_SCALE)
    procs = start_processes(settings, model)
    try:
        wait_ready(settings, procs, timeout=300)
        with httpx.Client(base_url=f"http://127.0.0.1:{settings.port}", timeout=60) as client:
            yield Stack(settings, client)
    finally:
        stop(procs)
