"""The whole conversation set (tests/conversations/) against the real stack: the issue's bar, ≥ 95 % of the
conversations fully right and no wrong booking, junk ticket or missed crisis message. The same run as
`govbot eval conversations`, on the session's shared stack."""
from __future__ import annotations

import sys

import pytest

from core.clock import city_today
from core.db import Database
from govbot.conversation_eval import BAR, evaluate
from govbot.conversation_set import load_set

pytestmark = pytest.mark.slow


def test_conversation_set_meets_the_bar(shared_stack):
    summary = evaluate(load_set(city_today()), str(shared_stack.client.base_url),
                       Database(shared_stack.settings.database_url), sys.stdout)
    summary.print(sys.stdout)
    failed = [f"{o.category}/{o.id}: " + "; ".join(f"{f.step} 「{f.said}」 {f.check}" for f in o.failures)
              for o in summary.outcomes if not o.passed]
    assert not summary.critical, [f"{f.critical}: {cid} {f.step} 「{f.said}」 {f.check}" for cid, f in summary.critical]
    assert summary.share >= BAR, f"{summary.share:.1%} fully right:\n" + "\n".join(failed)
