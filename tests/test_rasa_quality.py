"""Rasa's own tests: NLU cross-validation (intent macro-F1) and the test stories."""
from __future__ import annotations

import json
import subprocess

import pytest

from govbot import rasa_project
from core.settings import ROOT
from tests.conftest import make_settings
from tests.stack import EPOCHS_SCALE

pytestmark = pytest.mark.slow


def test_nlu_cross_validation_macro_f1(tmp_path):
    """3-fold cross-validation with the production config (full epochs): ~11 min on 2 cores."""
    settings = make_settings(tmp_path)
    out = tmp_path / "nlu"
    run = subprocess.run([str(rasa_project.rasa_bin(settings)), "test", "nlu", "--nlu", "training_data/nlu",
                          "--config", "config.yml", "--cross-validation", "--folds", "3", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=3000)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    report = json.loads((out / "intent_report.json").read_text())
    macro_f1 = report["macro avg"]["f1-score"]
    print(f"NLU intent macro-F1 (3-fold CV): {macro_f1:.3f}")
    assert macro_f1 >= 0.90  # the bar; measured 0.917 with sensitive_topic (see README)


def test_core_test_stories_all_pass(tmp_path):
    settings = make_settings(tmp_path)
    model = rasa_project.train(settings, epochs_scale=EPOCHS_SCALE)
    out = tmp_path / "core"
    run = subprocess.run([str(rasa_project.rasa_bin(settings)), "test", "core", "--model", str(model),
                          "--stories", "tests/rasa/test_stories.yml", "--out", str(out)],
                         cwd=ROOT, capture_output=True, text=True, timeout=1200)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    failed = (out / "failed_test_stories.yml").read_text() if (out / "failed_test_stories.yml").exists() else ""
    assert "story:" not in failed, failed
