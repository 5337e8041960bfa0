"""`govbot eval` (systems side by side on one evaluation set) and `govbot bench` (latency, memory, scale)."""
from __future__ import annotations

import json
import os
import random
import resource
import statistics
import subprocess
import time
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from retrieval.calibration import FEATURES
from retrieval.evaluate import COVERAGES, Case, Prediction, confusions, load_cases, metrics, risk_coverage

METRIC_ROWS = [("top1", "top-1"), ("recall@3", "recall@3"), ("mrr", "MRR"), ("answer_rate", "answer rate"),
               ("wrong_answer_rate", "wrong answers / in-scope"), ("oos_rejection", "out-of-scope rejected"),
               ("resolved_rate", "resolved (answer or clarify)"), ("ambiguous_handled", "ambiguous handled")]


def _ours(svc) -> Any:
    calibration = svc.retriever.calibration

    def run(q: str) -> Prediction:
        r = svc.retriever.search(q)
        # confidence that the top item is right, whatever the decision (clarify and hand-off report others)
        p_top1 = calibration.top1([r.features[n] for n in FEATURES]) if calibration and r.features else r.confidence
        return Prediction(r.decision, [m.code for m in r.matches], [m.code for m in r.offered], p_top1)

    return run


def _single_signal(svc, which: str) -> Any:
    """Baselines: one signal ranks items and the top item is always answered (the usual fixed setup);
    the top item's score is the confidence swept in the risk–coverage table."""
    retriever = svc.retriever

    def run(q: str) -> Prediction:
        dense, sparse, _, _ = retriever._item_scores(retriever.normalizer(q))
        scores = dense if which == "dense" else sparse
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        codes = [c for c, _ in ranked]
        return Prediction("answer" if ranked else "handoff", codes, codes[:1], ranked[0][1] if ranked else 0.0)

    return run


def _rasa_response_selector(svc, cases: list[Case]) -> list[Prediction] | None:
    """Train Rasa's ResponseSelector on the same FAQ data (in .venv-rasa) and parse every question."""
    root = svc.settings.root
    python = root / ".venv-rasa" / "bin" / "python"
    if not python.exists():
        print("  (skipping the Rasa ResponseSelector baseline: .venv-rasa is missing; run `make setup`)")
        return None
    work = svc.settings.var_dir / "eval_response_selector"
    work.mkdir(parents=True, exist_ok=True)
    guides = svc.kb.live()
    nlu = {"version": "3.1", "nlu": [{"intent": f"faq/{g.code}", "examples": "".join(
        f"- {t}\n" for t in dict.fromkeys([g.title, *[q for f in g.faqs for q in (f.question, *f.similar_questions)]])
    )} for g in guides]}
    domain = {"version": "3.1", "intents": ["faq"],
              "responses": {f"utter_faq/{g.code}": [{"text": g.title}] for g in guides}}
    config = {"recipe": "default.v1", "language": "zh", "assistant_id": "rs-baseline", "pipeline": [
        {"name": "JiebaTokenizer"}, {"name": "CountVectorsFeaturizer"},
        {"name": "CountVectorsFeaturizer", "analyzer": "char_wb", "min_ngram": 1, "max_ngram": 3},
        {"name": "DIETClassifier", "epochs": 30}, {"name": "ResponseSelector", "epochs": 60}], "policies": []}
    for name, doc in (("nlu.yml", nlu), ("domain.yml", domain), ("config.yml", config)):
        (work / name).write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False))
    model = work / "models" / "rs.tar.gz"
    if not model.exists():
        print("  training Rasa ResponseSelector on the FAQ data (a few minutes) …", flush=True)
        subprocess.run([str(root / ".venv-rasa" / "bin" / "rasa"), "train", "nlu", "--nlu", "nlu.yml",
                        "--config", "config.yml", "--domain", "domain.yml", "--out", "models",
                        "--fixed-model-name", "rs"], cwd=work, check=True, capture_output=True)
    questions = "".join(json.dumps({"q": c.question}, ensure_ascii=False) + "\n" for c in cases)
    out = subprocess.run([str(python), "-m", "bot.response_selector_baseline", str(model)], cwd=root,
                         input=questions, capture_output=True, text=True, check=True,
                         env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"})
    preds = []
    for line in out.stdout.splitlines():
        if not line.startswith('{"q"'):
            continue  # Rasa and jieba also print to stdout
        row = json.loads(line)
        ranked = [r["code"] for r in row["ranking"]]
        confidence = row["ranking"][0]["confidence"] if row["ranking"] else 0.0
        preds.append(Prediction("answer" if confidence >= 0.5 else "handoff", ranked, ranked[:1], confidence))
    return preds


def run_eval(svc, set_name: str, with_rasa: bool = True) -> dict[str, dict]:
    cases = load_cases(set_name)
    svc.live_index  # noqa: B018
    titles = {g.code: g.title for g in svc.kb.live()}
    systems: dict[str, list[Prediction]] = {}
    timings: dict[str, float] = {}
    for name, fn in (("BM25+jieba", _single_signal(svc, "sparse")), ("dense e5", _single_signal(svc, "dense")),
                     ("ours (hybrid+calibrated)", _ours(svc))):
        t0 = time.perf_counter()
        systems[name] = [fn(c.question) for c in cases]
        timings[name] = (time.perf_counter() - t0) / len(cases) * 1000
    if with_rasa:
        preds = _rasa_response_selector(svc, cases)
        if preds is not None:
            systems["Rasa ResponseSelector"] = preds
    results = {name: metrics(cases, preds) for name, preds in systems.items()}
    kinds = results[next(iter(results))]
    print(f"\nevaluation set '{set_name}': {kinds['in_scope']} in scope, {kinds['out_of_scope']} out of scope, "
          f"{kinds['ambiguous']} ambiguous. Baselines answer their top item (no calibration).\n")
    names = list(results)
    width = max(len(n) for n in names) + 2
    print(f"{'metric':<30}" + "".join(f"{n:>{width}}" for n in names))
    for key, label in METRIC_ROWS:
        print(f"{label:<30}" + "".join(f"{results[n][key]:>{width}.3f}" for n in names))
    print(f"{'ms per question':<30}" + "".join(f"{timings.get(n, float('nan')):>{width}.1f}" for n in names))
    _print_risk_coverage(cases, systems, results, width)
    print("\nworst misses of ours:")
    for line in confusions(cases, systems["ours (hybrid+calibrated)"], titles):
        print("  " + line)
    return results


def _print_risk_coverage(cases: list[Case], systems: dict[str, list[Prediction]], results: dict[str, dict],
                         width: int) -> None:
    """The fair view: every system at the same answer rate, its own confidence swept."""
    tables = {name: risk_coverage(cases, preds) for name, preds in systems.items()}
    for name, table in tables.items():
        results[name]["risk_coverage"] = table
    print("\nrisk–coverage: each system answers the given share of in-scope questions it is most confident about "
          "(its own score swept: BM25 / cosine / calibrated P(top-1) / ResponseSelector confidence).\n"
          "cell = wrong answers among those answered | out-of-scope questions let through at that threshold\n")
    print(f"{'coverage':<30}" + "".join(f"{n:>{width}}" for n in tables))
    for coverage in COVERAGES:
        print(f"{f'{coverage:.0%} answered':<30}" + "".join(
            f"{f'{t[coverage][0]:.1%} | {t[coverage][1]:.0%}':>{width}}" for t in tables.values()))


# ---- benchmarks ---------------------------------------------------------------------------------
_TEMPLATES = ["{t}怎么办理", "办{t}需要什么材料", "{t}在哪里办", "{t}要多久", "{t}收费吗", "我想咨询{t}",
              "{t}可以网上办吗", "{t}的条件是什么", "请问{t}的流程", "{t}找哪个部门", "{r}的{t}怎么弄",
              "帮{p}办{t}要带什么", "{t}周末能办吗", "{r}{t}去哪个窗口"]
_REGIONS = ["本市", "城东区", "城西区", "高新区", "开发区", "北区", "南区", "新区", "老城区", "港区"]
_PEOPLE = ["老人", "孩子", "家里人", "亲戚", "同事", "父母", "爱人", "朋友"]


def synthetic_items(n_entries: int, guides, seed: int = 7):
    """n FAQ entries made by filling question templates with catalogue titles, regions and people,
    grouped 10 entries per synthetic item (code SYN-xxxxx)."""
    from retrieval.engine import IndexedItem

    rng = random.Random(seed)
    titles = [g.title for g in guides]
    items, batch = [], []
    for i in range(n_entries):
        t = rng.choice(titles)
        batch.append(rng.choice(_TEMPLATES).format(t=t, r=rng.choice(_REGIONS), p=rng.choice(_PEOPLE))
                     + f"（{rng.choice(_REGIONS)}{i}）")
        if len(batch) == 10:
            code = f"SYN-{len(items):05d}"
            items.append(IndexedItem(code=code, title=f"{batch[0][:20]}", passages=tuple(batch)))
            batch = []
    return items


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _latencies(retriever, questions: list[str], warmup: list[str]) -> tuple[float, float]:
    for q in warmup:  # a served process has seen questions of every length before (torch plans per shape)
        retriever.search(q)
    times = []
    for q in questions:
        t0 = time.perf_counter()
        retriever.search(q)
        times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    return statistics.median(times), times[min(len(times) - 1, int(len(times) * 0.99))]


def run_bench_retrieval(svc, sizes: list[int]) -> None:
    from knowledge_base.live_index import to_indexed_item
    from knowledge_base.schema import GuideData

    guides = svc.kb.live()
    base = [to_indexed_item(g) for g in guides]
    questions = [c.question for c in load_cases("test")][:200]
    warmup = [c.question for c in load_cases("dev")]
    print(f"retrieval benchmark: {len(questions)} test questions, warmed up on the {len(warmup)} dev questions, "
          f"single thread; "
          f"{os.cpu_count()} cores\n")
    print(f"{'FAQ entries':>12} {'passages':>9} {'index':>6} {'build s':>8} {'p50 ms':>8} {'p99 ms':>8} {'RSS MB':>8}")
    for extra in sizes:
        items = base + synthetic_items(extra, guides)
        t_build = svc.retriever.index(items)
        p50, p99 = _latencies(svc.retriever, questions, warmup)
        n_passages = svc.retriever.dense.size
        print(f"{extra + sum(len(i.passages) for i in base):>12} {n_passages:>9} {svc.retriever.dense.kind:>6} "
              f"{t_build:>8.1f} {p50:>8.1f} {p99:>8.1f} {_rss_mb():>8.0f}", flush=True)
    # publish-to-searchable on the sample index
    svc.retriever.index(base)
    g = GuideData(code="BENCH-01", title="测试事项：犬只登记", faqs=[
        {"question": "养狗要去哪里登记", "similar_questions": ["狗证怎么办"], "answer": "到辖区派出所登记。"}])
    t0 = time.perf_counter()
    svc.retriever.upsert([to_indexed_item(g)])
    hit = svc.retriever.search("狗证在哪办").matches[0].code
    print(f"\npublish → searchable (upsert of one new item, then found as top match={hit == 'BENCH-01'}): "
          f"{(time.perf_counter() - t0) * 1000:.0f} ms")


def run_bench_chat(settings, turns: int) -> None:
    """Per-turn latency through the full stack (app → Rasa → action webhook → retrieval) on a running server."""
    import httpx

    url = f"http://127.0.0.1:{settings.port}"
    try:
        httpx.get(f"{url}/healthz", timeout=3).raise_for_status()
    except httpx.HTTPError:
        raise SystemExit(f"no server at {url}: start it with `make run` (or `govbot serve`) first")
    script = ["你好", "护照怎么办", "那要多少钱", "在哪里办", "社保卡丢了怎么补办", "要带什么材料", "谢谢"]
    times = []
    with httpx.Client(timeout=30) as client:
        for i in range(turns):
            msg = script[i % len(script)]
            t0 = time.perf_counter()
            r = client.post(f"{url}/api/v1/chat", json={"sender_id": f"bench-{i // len(script)}",
                                                        "message": msg, "channel": "web"})
            r.raise_for_status()
            times.append((time.perf_counter() - t0) * 1000)
    times.sort()
    print(f"chat turns: {len(times)} sequential; p50 {statistics.median(times):.0f} ms, "
          f"p90 {times[int(len(times) * 0.9)]:.0f} ms, p99 {times[min(len(times) - 1, int(len(times) * 0.99))]:.0f} ms, "
          f"mean {np.mean(times):.0f} ms")


def _insight_services(settings, url: str):
    """Services on a fresh database at `url` (PostgreSQL: a new schema in it); returns (services, drop)."""
    import dataclasses
    import uuid

    from sqlalchemy import create_engine, text

    from govbot.services import Services

    drop = None
    if url.startswith("postgresql"):
        schema = f"govbot_bench_{uuid.uuid4().hex[:8]}"
        admin = create_engine(url, isolation_level="AUTOCOMMIT")
        with admin.connect() as c:
            c.execute(text(f'CREATE SCHEMA "{schema}"'))

        def drop() -> None:
            with admin.connect() as c:
                c.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))

        url = f"{url}?options=-csearch_path%3D{schema}"
    return Services(dataclasses.replace(settings, database_url=url)), drop


def run_bench_insight(settings, turns: int, urls: list[str], repeats: int = 20) -> None:
    """Every dashboard view's latency on `turns` synthetic turns spread over a year, per database."""
    import datetime as dt

    from insight.analytics import Period
    from insight.buckets import local_today
    from insight.rollup import catch_up
    from insight.synthetic import generate, replay

    for url in urls:
        svc, drop = _insight_services(settings, url)
        try:
            db, today = svc.db, local_today()
            services = [(g.code, g.title) for g in svc.kb.live()]
            end = dt.datetime.combine(today, dt.time(), dt.timezone.utc)
            t0 = time.perf_counter()
            written = replay(db, generate(turns // 2, end, 365, services))
            t1 = time.perf_counter()
            catch_up(db)
            t2 = time.perf_counter()
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
                c.exec_driver_sql("VACUUM ANALYZE" if db.engine.dialect.name == "postgresql" else "ANALYZE")
            svc.live_index  # noqa: B018  (the gap clusters' resolution check searches the index)
            t3 = time.perf_counter()
            clusters = svc.gaps.mine(Period.last_days(30, today))
            t4 = time.perf_counter()
            print(f"{db.engine.dialect.name} (load average {os.getloadavg()[0]:.1f}): {written:,} turns written in "
                  f"{t1 - t0:.0f} s; first catch-up pass "
                  f"{t2 - t1:.1f} s; (vacuum) analyze; gap mining over 30 days {t4 - t3:.1f} s ({len(clusters)} "
                  "clusters)")
            a = svc.insight
            views = {"overview": lambda p: a.overview(p), "services": lambda p: a.services(p),
                     "questions": lambda p: a.questions(p), "trends": lambda p: a.trends(p.end),
                     "csv export (all figures)": lambda p: a.figures(p), "gap list": lambda p: svc.gaps.list()}
            print(f"  {'view (each call runs the catch-up pass too)':44s} {'7 days':>16s} {'30 days':>16s} "
                  f"{'365 days':>16s}   p50 / p95 ms")
            for name, view in views.items():
                cells = []
                for days in (7, 30, 365):
                    period = Period.last_days(days, today)
                    times = []
                    for _ in range(repeats):
                        s = time.perf_counter()
                        catch_up(db)
                        view(period)
                        times.append((time.perf_counter() - s) * 1000)
                    times.sort()
                    cells.append(f"{statistics.median(times):.1f} / {times[int(0.95 * (len(times) - 1))]:.1f}")
                print(f"  {name:44s} " + " ".join(f"{c:>16s}" for c in cells), flush=True)
            print("  load average (1, 5, 15 min) after the views: " + ", ".join(f"{x:.1f}" for x in os.getloadavg())
                  + f" on {os.cpu_count()} cores")
        finally:
            svc.db.engine.dispose()
            if drop:
                drop()


# ---- govbot bench load ----------------------------------------------------------------------------
_FOLLOW_UPS = ["那要多少钱", "在哪里办", "要带什么材料", "多久能办好", "可以网上办吗"]
_CHIT_CHAT = ["你好", "谢谢", "好的", "再见", "你是谁"]
_BOOKING = ["我想预约办理", "下周三", "上午"]


def load_conversations(n: int, seed: int = 14) -> list[list[str]]:
    """Realistic conversations: a question from the evaluation sets (hundreds of distinct phrasings), often
    follow-ups on it, sometimes chit-chat or the start of a booking form."""
    from retrieval.evaluate import load_cases

    rng = random.Random(seed)
    questions = [c.question for name in ("dev", "test") for c in load_cases(name)]
    conversations = []
    for _ in range(n):
        turns = [rng.choice(_CHIT_CHAT)] if rng.random() < 0.3 else []
        turns.append(rng.choice(questions))
        turns += rng.sample(_FOLLOW_UPS, k=rng.choice([0, 1, 1, 2]))
        if rng.random() < 0.15:
            turns += _BOOKING
        if rng.random() < 0.3:
            turns.append(rng.choice(questions))
        turns.append(rng.choice(_CHIT_CHAT))
        conversations.append(turns)
    return conversations


def _percentiles(ms: list[float]) -> str:
    if not ms:
        return "no replies"
    q = np.percentile(ms, [50, 95, 99])
    return f"p50 {q[0]:.0f} ms, p95 {q[1]:.0f} ms, p99 {q[2]:.0f} ms"


async def _open_loop(url: str, conversations: list[list[str]], rate: float, duration: float, run: str) -> dict:
    """Poisson arrivals at `rate` messages/s in total; each message is the next turn of a random citizen, sent
    after that citizen's previous reply (a person waits for the answer); latency counts from the arrival."""
    import asyncio

    import httpx

    rng = random.Random(7)
    queues = [asyncio.Queue() for _ in conversations]
    latencies, errors = [], []

    async def citizen(i: int, client: httpx.AsyncClient) -> None:
        turns, sender, ip = conversations[i], f"load-{run}-{i}", f"10.{i // 65536 % 256}.{i // 256 % 256}.{i % 256}"
        step = 0
        while True:
            arrived = await queues[i].get()
            if arrived is None:
                return
            message = turns[step % len(turns)]
            step += 1
            try:
                r = await client.post(url, json={"sender_id": sender, "message": message, "channel": "web"},
                                      headers={"X-Forwarded-For": ip})  # one address per citizen (rate limits)
                if r.status_code == 200 and r.json().get("messages") is not None:
                    latencies.append((time.perf_counter() - arrived) * 1000)
                else:
                    errors.append(f"HTTP {r.status_code}")
            except httpx.HTTPError as exc:
                errors.append(type(exc).__name__)

    limits = httpx.Limits(max_connections=len(conversations), max_keepalive_connections=len(conversations))
    async with httpx.AsyncClient(timeout=30, limits=limits) as client:
        workers = [asyncio.create_task(citizen(i, client)) for i in range(len(conversations))]
        t0, sent, next_at = time.perf_counter(), 0, 0.0
        while next_at < duration:
            await asyncio.sleep(max(0.0, t0 + next_at - time.perf_counter()))
            queues[rng.randrange(len(queues))].put_nowait(time.perf_counter())
            sent += 1
            next_at += rng.expovariate(rate)
        for q in queues:
            q.put_nowait(None)
        await asyncio.gather(*workers)
        elapsed = time.perf_counter() - t0
    return {"sent": sent, "answered": len(latencies), "errors": errors, "elapsed": elapsed, "latencies": latencies}


async def _saturation(post, conversations: list[list[str]], concurrency: int, duration: float) -> float:
    """Closed loop: `concurrency` conversations each sending its next message as soon as it has the reply."""
    import asyncio

    done = 0
    stop_at = time.perf_counter() + duration

    async def conversation(i: int) -> None:
        nonlocal done
        turns, step = conversations[i % len(conversations)], 0
        while time.perf_counter() < stop_at:
            await post(f"sat-{i}-{step // len(turns)}", turns[step % len(turns)], i)
            step += 1
            done += 1

    t0 = time.perf_counter()
    await asyncio.gather(*(conversation(i) for i in range(concurrency)))
    return done / (time.perf_counter() - t0)


def run_bench_load(settings, rate: float, duration: float, citizens: int, concurrency: int,
                   saturation_s: float) -> None:
    """`govbot bench load` against a running stack: open-loop Poisson arrivals through the chat API, then
    saturation throughput of the full stack and of Rasa's bare REST channel on the same messages."""
    import asyncio

    import httpx

    app, rasa = f"http://127.0.0.1:{settings.port}", settings.rasa_url
    try:
        httpx.get(f"{app}/healthz", timeout=3).raise_for_status()
    except httpx.HTTPError:
        raise SystemExit(f"no server at {app}: start it with `make run` (or `govbot serve`) first")
    conversations = load_conversations(max(citizens, concurrency))
    distinct = len({m for c in conversations for m in c})
    print(f"load: {citizens} citizens, {rate:g} messages/s for {duration:g} s (Poisson), "
          f"{distinct} distinct messages", flush=True)
    run = f"{int(time.time())}"
    result = asyncio.run(_open_loop(f"{app}/api/v1/chat", conversations[:citizens], rate, duration, run))
    kinds = {k: result["errors"].count(k) for k in sorted(set(result["errors"]))}
    print(f"open loop: {result['sent']} sent, {result['answered']} answered, {len(result['errors'])} errors "
          f"{kinds or ''}; {result['answered'] / result['elapsed']:.1f} turns/s; {_percentiles(result['latencies'])}",
          flush=True)

    async def saturate(target: str) -> float:
        limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
        async with httpx.AsyncClient(timeout=60, limits=limits) as client:
            async def post(sender: str, message: str, i: int) -> None:
                if target == "stack":
                    r = await client.post(f"{app}/api/v1/chat", headers={"X-Forwarded-For": f"10.9.0.{i % 256}"},
                                          json={"sender_id": f"{run}-{sender}", "message": message, "channel": "web"})
                else:
                    r = await client.post(f"{rasa}/webhooks/rest/webhook",
                                          json={"sender": f"{run}-rasa-{sender}", "message": message})
                r.raise_for_status()

            return await _saturation(post, conversations, concurrency, saturation_s)

    stack = asyncio.run(saturate("stack"))
    bare = asyncio.run(saturate("rasa"))
    print(f"saturation ({concurrency} concurrent conversations, {saturation_s:g} s each): full stack "
          f"{stack:.1f} turns/s, Rasa's bare REST channel {bare:.1f} turns/s, ratio {stack / bare:.2f}")
