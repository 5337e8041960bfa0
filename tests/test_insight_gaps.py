"""Knowledge gaps: paraphrases of the same missing service cluster together; a cluster becomes a draft in one
click, and is marked resolved once a publish makes retrieval answer its questions."""
from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
import yaml

from core.settings import ROOT
from tests.conftest import auth

PASSPORT = "普通护照申领需要什么材料"
SAMPLE = yaml.safe_load((ROOT / "tests" / "data" / "gap_questions.yaml").read_text(encoding="utf-8"))


def _scores(groups: list[list[str]], label: dict[str, str]) -> tuple[float, float, float]:
    """(purity of the multi-question clusters, share of questions in one, mean share of each service's
    questions that land in its biggest cluster)."""
    multi = [g for g in groups if len(g) >= 2]
    members = sum(len(g) for g in multi)
    purity = sum(Counter(label[q] for q in g).most_common(1)[0][1] for g in multi) / max(1, members)
    together = []
    for service, questions in SAMPLE.items():
        where = Counter(next(i for i, g in enumerate(groups) if q in g) for q in questions)
        together.append(where.most_common(1)[0][1] / len(questions))
    return purity, members / len(label), sum(together) / len(together)


def test_gap_clusters_group_paraphrases_of_the_same_missing_service(services):
    label = {q: service for service, questions in SAMPLE.items() for q in questions}
    texts = list(label)
    groups = [[texts[i] for i in g] for g in services.gaps.cluster(texts)]
    purity, clustered, together = _scores(groups, label)
    print(f"purity {purity:.3f}, questions in a cluster {clustered:.3f}, same service together {together:.3f}")
    assert purity >= 0.8
    assert clustered >= 0.8  # not a trivial purity made of singletons
    assert together >= 0.7


def test_the_scores_see_a_bad_clustering():
    label = {q: service for service, questions in SAMPLE.items() for q in questions}
    everything_in_one = [list(label)]
    assert _scores(everything_in_one, label)[0] < 0.8


def _replay_unanswered(svc, now: dt.datetime) -> None:
    from insight.synthetic import replay

    records = []
    for i, (service, questions) in enumerate(SAMPLE.items()):
        for j, q in enumerate(questions):
            for k in range(2 if service == "养犬登记" else 1):  # dogs: asked twice each, the biggest cluster
                records.append({"at": (now - dt.timedelta(days=j % 3, minutes=i * 10 + k)).isoformat(),
                                "sender": f"g{i}-{j}-{k}", "channel": "web", "question": q, "decision": "handoff",
                                "matches": [], "latency_ms": 90, "rating": "", "handoff": False, "intent": ""})
    for i, rating in enumerate(("", "unsatisfied", "unsatisfied")):  # answered; then answered, citizen unhappy
        records.append({"at": (now - dt.timedelta(hours=i)).isoformat(), "sender": f"x{i}", "channel": "web",
                        "question": "护照怎么办" if i == 0 else PASSPORT, "decision": "answer", "rating": rating,
                        "matches": [{"code": "GA-CR-01", "title": "普通护照申领", "score": 0.9}], "latency_ms": 90,
                        "handoff": False, "intent": ""})
    records.sort(key=lambda r: r["at"])
    replay(svc.db, records)


def test_mine_turn_into_a_draft_and_resolve_after_publish(app_client):
    from knowledge_base.schema import Faq, GuideData

    svc = app_client.app.state.services
    now = dt.datetime.now(dt.timezone.utc) - dt.timedelta(minutes=5)
    _replay_unanswered(svc, now)
    mined = app_client.post("/api/v1/insight/gaps/mine", json={}, headers=auth("editor"))
    assert mined.status_code == 200, mined.text
    clusters = mined.json()
    label = {q: s for s, qs in SAMPLE.items() for q in qs} | {PASSPORT: "护照"}
    assert clusters[0]["size"] == 2 * len(SAMPLE["养犬登记"]) and label[clusters[0]["label"]] == "养犬登记"
    for c in clusters:
        assert len({label[e["text"]] for e in c["examples"]}) == 1, c  # each cluster is one missing service
        assert c["status"] == "open" and c["this_week"] == c["size"] and c["last_week"] == 0
    assert "护照怎么办" not in {e["text"] for c in clusters for e in c["examples"]}
    passport = next(c for c in clusters if c["label"] == PASSPORT)  # answered, but rated unsatisfied
    assert passport["near_code"] == "GA-CR-01" and passport["size"] == 2

    dogs, bikes = clusters[0], next(c for c in clusters if label[c["label"]] == "电动自行车上牌")
    made = app_client.post(f"/api/v1/insight/gaps/{bikes['id']}/draft", json={"kind": "guide"},
                           headers=auth("editor"))
    assert made.status_code == 200, made.text
    draft = svc.kb.get(made.json()["code"])
    assert draft.status == "draft" and draft.live_version is None
    assert draft.draft["faqs"][0]["question"] == bikes["label"]
    no_target = app_client.post(f"/api/v1/insight/gaps/{dogs['id']}/draft", json={"kind": "faq"},
                                headers=auth("editor"))
    assert no_target.status_code == 422 and "事项编码" in no_target.text
    faq = app_client.post(f"/api/v1/insight/gaps/{dogs['id']}/draft", json={"kind": "faq", "code": "GA-CR-01"},
                          headers=auth("editor"))
    assert faq.status_code == 200 and svc.kb.get("GA-CR-01").draft["faqs"][-1]["question"] == dogs["label"]
    assert svc.kb.live_guide("GA-CR-01").faqs[-1].question != dogs["label"]  # a draft, not published
    assert app_client.post(f"/api/v1/insight/gaps/{dogs['id']}/draft", json={"kind": "faq"},
                           headers=auth("agent")).status_code == 403

    status = {c["id"]: c["status"] for c in app_client.get("/api/v1/insight/gaps", headers=auth("editor")).json()}
    assert status[dogs["id"]] == status[bikes["id"]] == "drafted"
    svc.kb.publish_directly([GuideData(
        code="CG-01", title="养犬登记", department="城市管理局", theme="城市管理", keywords=["狗证", "养犬许可证"],
        faqs=[Faq(question=q, answer="携带犬只免疫证明到城管窗口办理。") for q in SAMPLE["养犬登记"]])],
        actor="test-reviewer", note="补充缺口")
    after = {c["id"]: c["status"] for c in app_client.get("/api/v1/insight/gaps", headers=auth("editor")).json()}
    assert after[dogs["id"]] == "resolved"
    assert after[bikes["id"]] == "drafted"  # its draft is not published: still unanswered
    assert all(s == "open" for i, s in after.items() if i not in (dogs["id"], bikes["id"]))
    assert after[passport["id"]] == "open"  # it was answered before the publish: an editor must look at it
    remined = app_client.post("/api/v1/insight/gaps/mine", json={}, headers=auth("editor")).json()
    assert {c["label"]: c["status"] for c in remined}[bikes["label"]] == "drafted"  # the draft is remembered


@pytest.mark.parametrize("body", [{"kind": "poem"}, {"kind": "guide", "extra": 1}])
def test_draft_requests_are_validated(app_client, body):
    assert app_client.post("/api/v1/insight/gaps/1/draft", json=body, headers=auth("editor")).status_code == 422


def test_unknown_cluster_is_404_in_chinese(app_client):
    resp = app_client.post("/api/v1/insight/gaps/999/draft", json={"kind": "guide"}, headers=auth("editor"))
    assert resp.status_code == 404 and "知识缺口" in resp.text
