"""Distributed mode: two app replicas and two Rasa servers on loopback behind nginx, sharing PostgreSQL (the app's
database and Rasa's tracker store) and Redis (Rasa's lock store, the app's pub/sub). A conversation goes on
whichever replica answers, and an agent's reply sent on replica B reaches a citizen listening on replica A."""
from __future__ import annotations

import json
import secrets
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import redis
from websockets.sync.client import connect

from core.auth import add_user
from core.settings import ROOT, Settings
from govbot import rasa_project
from govbot.services import Services
from govbot.stack import Process, start_processes, stop, wait_ready
from tests.conftest import make_settings, need_service
from tests.stack import EPOCHS_SCALE

pytestmark = [pytest.mark.slow, pytest.mark.postgres, pytest.mark.redis]

POSTGRES = "postgresql+psycopg://postgres@127.0.0.1:5432"
REDIS = "redis://127.0.0.1:6379/0"
NGINX_PORT = 18029
AGENT_TOKEN = "distributed-agent-token"
NGINX_MAIN = """pid {tmp}/nginx.pid;
error_log {tmp}/nginx-error.log warn;
events {{ worker_connections 256; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/body; proxy_temp_path {tmp}/proxy; fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi; scgi_temp_path {tmp}/scgi;
    include {tmp}/govbot.conf;
}}
"""


def _postgres_up() -> bool:
    import psycopg

    try:
        psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", connect_timeout=3).close()
        return True
    except psycopg.Error:
        return False


def _redis_up() -> bool:
    try:
        return bool(redis.Redis.from_url(REDIS, socket_timeout=3).ping())
    except redis.RedisError:
        return False


def _admin_sql(statement: str) -> None:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/test", autocommit=True) as conn:
        conn.execute(statement)


def _copy_embedding_cache(settings: Settings) -> None:
    import sqlite3

    source = ROOT / "var" / "cache" / "embeddings.sqlite"
    if not source.exists():
        return
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(source) as src, sqlite3.connect(settings.cache_dir / "embeddings.sqlite") as dst:
        src.backup(dst)


def nginx_config(tmp: Path, upstreams: list[int]) -> Path:
    """The shipped deploy/nginx.conf with loopback replicas and port; the answering replica in a header."""
    site = (ROOT / "deploy" / "nginx.conf").read_text()
    servers = "".join(f"    server 127.0.0.1:{p} max_fails=3 fail_timeout=10s;\n" for p in upstreams)
    start, end = site.index("upstream govbot_app {\n") + len("upstream govbot_app {\n"), site.index("    keepalive")
    site = site[:start] + servers + site[end:]
    site = site.replace("listen 80;", f"listen 127.0.0.1:{NGINX_PORT};")
    site = site.replace("location / {\n", "location / {\n        add_header X-Upstream $upstream_addr always;\n")
    (tmp / "govbot.conf").write_text(site)
    main = tmp / "nginx.conf"
    main.write_text(NGINX_MAIN.format(tmp=tmp))
    return main


@dataclass
class Cluster:
    replicas: list[Settings]
    client: httpx.Client  # a citizen's browser, through nginx

    def chat(self, sender: str, message: str) -> tuple[dict, str]:
        r = self.client.post("/api/v1/chat", json={"sender_id": sender, "message": message, "channel": "web"})
        assert r.status_code == 200, r.text
        return r.json(), r.headers["x-upstream"]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    need_service(_postgres_up(), "PostgreSQL at 127.0.0.1:5432")
    need_service(_redis_up(), "Redis at 127.0.0.1:6379")
    need_service(shutil.which("nginx") is not None, "nginx (apt-get install nginx-light)")
    tmp = tmp_path_factory.mktemp("distributed")
    database = f"govbot_dist_{secrets.token_hex(4)}"
    _admin_sql(f"CREATE DATABASE {database}")
    shared = {"database_url": f"{POSTGRES}/{database}", "redis_url": REDIS,
              "rasa_token": secrets.token_urlsafe(16), "action_token": secrets.token_urlsafe(16)}
    replicas = [make_settings(tmp / name, port=port, rasa_port=rasa_port, **shared)
                for name, port, rasa_port in (("a", 18020, 15020), ("b", 18021, 15021))]
    for settings in replicas:  # the embeddings already computed on this machine: replicas index in seconds
        _copy_embedding_cache(settings)
    first = Services(replicas[0])
    assert first.kb.count() == 80  # schema and sample knowledge base once, before the replicas start
    add_user(first.db, "agent-d", "agent", token=AGENT_TOKEN)
    first.db.engine.dispose()
    model = rasa_project.train(replicas[0], epochs_scale=EPOCHS_SCALE)
    procs: list[Process] = []
    nginx = None
    try:
        for settings in replicas:
            procs += start_processes(settings, model)
        for settings in replicas:
            wait_ready(settings, [p for p in procs if p.port in (settings.port, settings.rasa_port)], timeout=420)
        nginx = subprocess.Popen(["nginx", "-p", str(tmp), "-c", str(nginx_config(tmp, [18020, 18021])),
                                  "-g", "daemon off;"], stderr=subprocess.STDOUT,
                                 stdout=(tmp / "nginx.out").open("w"))
        base = f"http://127.0.0.1:{NGINX_PORT}"
        for _ in range(50):
            try:
                httpx.get(f"{base}/livez", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        with httpx.Client(base_url=base, timeout=60) as client:
            yield Cluster(replicas, client)
    finally:
        if nginx is not None:
            nginx.terminate()
            nginx.wait(10)
        stop(procs)
        _admin_sql(f"DROP DATABASE IF EXISTS {database} WITH (FORCE)")


def texts(reply: dict) -> str:
    return "\n".join(m["text"] for m in reply["messages"])


def test_a_conversation_goes_on_whichever_replica_answers(cluster):
    answered_by = set()
    passport, by = cluster.chat("d1", "护照怎么办")
    answered_by.add(by)
    fee, by = cluster.chat("d1", "那要多少钱")
    answered_by.add(by)
    assert fee["matches"][0]["code"] == "GA-CR-01" and "120元" in texts(fee)
    for message, expected in (("我想预约办理", "哪一天"), ("下周三", "可预约的时段"), ("上午10点", "姓名"),
                              ("王小明", "手机号"), ("13812345678", "请核对预约信息"), ("确认预约", "预约成功")):
        reply, by = cluster.chat("d1", message)
        answered_by.add(by)
        assert expected in texts(reply), (message, reply)
    assert answered_by == {"127.0.0.1:18020", "127.0.0.1:18021"}  # nginx spread the turns over both replicas


def test_an_agent_reply_sent_on_replica_b_reaches_the_citizen_on_replica_a(cluster):
    sender = "d2"
    cluster.chat(sender, "护照怎么办")  # the first message: the browser now holds the conversation's cookie
    cookie = cluster.client.cookies.get("govbot_chat")
    a, b = (f"127.0.0.1:{s.port}" for s in cluster.replicas)
    with connect(f"ws://{a}/api/v1/conversations/{sender}/ws", additional_headers={"Cookie": f"govbot_chat={cookie}"},
                 open_timeout=10) as live:
        asked, _ = cluster.chat(sender, "转人工")
        assert asked["mode"] == "human" and "工单号" in texts(asked)
        agent = {"Authorization": f"Bearer {AGENT_TOKEN}"}
        tickets = httpx.get(f"http://{b}/api/v1/tickets", headers=agent, timeout=30).json()
        ticket_id = next(t["id"] for t in tickets if t["sender_id"] == sender)
        assert httpx.post(f"http://{b}/api/v1/tickets/{ticket_id}/claim", headers=agent, timeout=30).status_code == 200
        answer = "您好，我是人工客服，护照可在出入境窗口办理。"
        sent = httpx.post(f"http://{b}/api/v1/tickets/{ticket_id}/messages", headers=agent, json={"text": answer},
                          timeout=30)
        assert sent.status_code == 200, sent.text
        deadline = time.time() + 20
        while time.time() < deadline:
            event = json.loads(live.recv(timeout=max(0.1, deadline - time.time())))
            if event.get("type") == "message" and event.get("author") == "agent":
                assert event["text"] == answer
                break
        else:
            pytest.fail("the agent's reply never reached the citizen's socket on the other replica")
