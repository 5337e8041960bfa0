"""The whole conversation set (tests/conversations/) against the real stack: never a wrong booking, a junk
ticket or a missed crisis message, and no fall below the share fully right measured so far (90.6 % with the
0.3-epoch test model; the issue's bar of 95 % is reported by `govbot eval conversations`, which exits 1 below
it). The same run as the CLI, on the session's shared stack."""
from __future__ import annotations

import sys

import pytest

from core.clock import city_today
from core.db import Database
from govbot.conversation_eval import evaluate
from govbot.conversation_set import load_set

pytestmark = pytest.mark.slow
REGRESSION_FLOOR = 0.88  # below the 90.6 % measured: a model retrained with other seeds may lose a conversation


def test_conversation_set_has_no_critical_failure_and_does_not_regress(shared_stack):
    summary = evaluate(load_set(city_today()), str(shared_stack.client.base_url),
                       Database(shared_stack.settings.database_url), sys.stdout)
    summary.print(sys.stdout)
    failed = [f"{o.category}/{o.id}: " + "; ".join(f"{f.step} 「{f.said}」 {f.check}" for f in o.failures)
              for o in summary.outcomes if not o.passed]
    assert not summary.critical, [f"{f.critical}: {cid} {f.step} 「{f.said}」 {f.check}" for cid, f in summary.critical]
    assert summary.share >= REGRESSION_FLOOR, f"{summary.share:.1%} fully right:\n" + "\n".join(failed)
