"""A local stand-in for WeChat's server API on 127.0.0.1 (a real HTTP server in a thread).

It implements what GovBot calls, as documented: `GET /cgi-bin/token` (7200 s tokens; the previous token stays
valid 5 minutes after a new one is issued), `POST /cgi-bin/message/custom/send` (40001 unknown token, 42001
expired, 47001 bad JSON, 45015 outside the 48-hour window, 45047 past 5 messages since the citizen's last
message) and `GET /sns/jscode2session` (40029 unknown code, 40163 code already used). It records every request
and every message it accepted. `clock_offset` moves its clock forward to expire tokens.
"""
from __future__ import annotations

import base64
import dataclasses
import json
import secrets
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

REPLY_WINDOW_S = 48 * 3600
REPLIES_PER_WINDOW = 5
OLD_TOKEN_GRACE_S = 300
TOKEN = "govbot-test-token"
AES_KEY = base64.b64encode(b"0123456789abcdef0123456789abcdef").decode().rstrip("=")


@dataclass
class FakeWeChat:
    appid: str = "wx-fake-appid"
    secret: str = "fake-secret"
    token_ttl_s: int = 7200
    token_delay_s: float = 0.0  # makes concurrent refreshes overlap
    clock_offset: float = 0.0
    requests: list[dict[str, Any]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    tokens: dict[str, float] = field(default_factory=dict)  # token → expiry (fake clock)
    codes: dict[str, str | None] = field(default_factory=dict)  # js_code → openid (None once used)
    window: dict[str, tuple[float, int]] = field(default_factory=dict)  # openid → (last message at, replies)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def now(self) -> float:
        return time.time() + self.clock_offset

    # ---- what the test tells the fake (WeChat knows these from the citizen's side) --------------------------
    def citizen_spoke(self, openid: str, ago_s: float = 0.0) -> None:
        with self.lock:
            self.window[openid] = (self.now() - ago_s, 0)

    def issue_code(self, openid: str) -> str:
        code = secrets.token_hex(16)
        with self.lock:
            self.codes[code] = openid
        return code

    def token_fetches(self) -> int:
        return sum(1 for r in self.requests if r["path"] == "/cgi-bin/token")

    # ---- the API -------------------------------------------------------------------------------------------
    def token(self, q: dict[str, str]) -> dict:
        time.sleep(self.token_delay_s)
        if q.get("grant_type") != "client_credential":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        if q.get("appid") != self.appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if q.get("secret") != self.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        token, now = secrets.token_urlsafe(48), self.now()
        with self.lock:
            self.tokens = {t: min(exp, now + OLD_TOKEN_GRACE_S) for t, exp in self.tokens.items()}
            self.tokens[token] = now + self.token_ttl_s
        return {"access_token": token, "expires_in": self.token_ttl_s}

    def custom_send(self, q: dict[str, str], body: bytes) -> dict:
        with self.lock:
            expiry = self.tokens.get(q.get("access_token", ""))
            if expiry is None:
                return {"errcode": 40001, "errmsg": "invalid credential, access_token is invalid or not latest"}
            if expiry <= self.now():
                return {"errcode": 42001, "errmsg": "access_token expired"}
            try:
                msg = json.loads(body)
                openid, kind = msg["touser"], msg["msgtype"]
                content = msg[kind]
            except (ValueError, KeyError, TypeError):
                return {"errcode": 47001, "errmsg": "data format error"}
            last, replies = self.window.get(openid, (float("-inf"), 0))
            if self.now() - last > REPLY_WINDOW_S:
                return {"errcode": 45015, "errmsg": "response out of time limit or subscription is canceled"}
            if replies >= REPLIES_PER_WINDOW:
                return {"errcode": 45047, "errmsg": "out of response count limit"}
            self.window[openid] = (last, replies + 1)
            self.sent.append({"touser": openid, "msgtype": kind, kind: content})
        return {"errcode": 0, "errmsg": "ok"}

    def code2session(self, q: dict[str, str]) -> dict:
        if q.get("appid") != self.appid:
            return {"errcode": 40013, "errmsg": "invalid appid"}
        if q.get("secret") != self.secret:
            return {"errcode": 40125, "errmsg": "invalid appsecret"}
        if q.get("grant_type") != "authorization_code":
            return {"errcode": 40002, "errmsg": "invalid grant_type"}
        with self.lock:
            code = q.get("js_code", "")
            if code not in self.codes:
                return {"errcode": 40029, "errmsg": "invalid code"}
            openid = self.codes[code]
            if openid is None:
                return {"errcode": 40163, "errmsg": "code been used"}
            self.codes[code] = None
        return {"openid": openid, "session_key": secrets.token_urlsafe(16)}

    def handle(self, method: str, path: str, q: dict[str, str], body: bytes) -> tuple[int, dict]:
        with self.lock:
            self.requests.append({"method": method, "path": path, "query": q, "body": body})
        routes = {("GET", "/cgi-bin/token"): lambda: self.token(q),
                  ("POST", "/cgi-bin/message/custom/send"): lambda: self.custom_send(q, body),
                  ("GET", "/sns/jscode2session"): lambda: self.code2session(q)}
        route = routes.get((method, path))
        return (200, route()) if route else (404, {"errcode": -1, "errmsg": "no such api"})


class FakeWeChatServer:
    """Serves a FakeWeChat on 127.0.0.1 (an ephemeral port) until `stop()`."""

    def __init__(self, fake: FakeWeChat) -> None:
        self.fake = fake

        class Handler(BaseHTTPRequestHandler):
            def _serve(self, method: str) -> None:
                url = urlsplit(self.path)
                q = {k: v[0] for k, v in parse_qs(url.query).items()}
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                status, data = fake.handle(method, url.path, q, body)
                payload = json.dumps(data, ensure_ascii=False).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:  # noqa: N802
                self._serve("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._serve("POST")

            def log_message(self, *_: Any) -> None:
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


class WeChatPusher:
    """WeChat's side of the push: wechatpy's own WeChatCrypto signs and encrypts what we post to the app."""

    def __init__(self, client: Any, path: str, token: str, aes_key: str, appid: str) -> None:
        from wechatpy.crypto import WeChatCrypto

        self.client, self.path, self.token = client, path, token
        self.crypto = WeChatCrypto(token, aes_key, appid)

    def query(self, timestamp: int | None = None, nonce: str | None = None) -> dict[str, str]:
        from wechatpy.utils import WeChatSigner

        ts, nonce = str(timestamp or int(time.time())), nonce or secrets.token_hex(5)
        signer = WeChatSigner()
        signer.add_data(self.token, ts, nonce)
        return {"signature": signer.signature, "timestamp": ts, "nonce": nonce}

    @staticmethod
    def xml(fields: dict[str, Any]) -> str:
        return "<xml>" + "".join(f"<{k}>{v}</{k}>" if isinstance(v, int) else f"<{k}><![CDATA[{v}]]></{k}>"
                                 for k, v in fields.items()) + "</xml>"

    def push(self, fields: dict[str, Any], mode: str = "aes", fmt: str = "xml", timestamp: int | None = None,
             **query: str) -> Any:
        """POST one message in plain, compat (plain fields + Encrypt) or aes (Encrypt only) mode."""
        import xmltodict

        params = {**self.query(timestamp), **query}
        plain = json.dumps(fields, ensure_ascii=False) if fmt == "json" else self.xml(fields)
        if mode == "plain":
            return self.client.post(self.path, params=params, content=plain.encode())
        sealed = xmltodict.parse(self.crypto.encrypt_message(plain, params["nonce"], params["timestamp"]))["xml"]
        params = {"encrypt_type": "aes", "msg_signature": sealed["MsgSignature"], **params}
        outer = {"ToUserName": fields["ToUserName"], "Encrypt": sealed["Encrypt"]}
        if mode == "compat":
            outer = {**fields, "Encrypt": sealed["Encrypt"]}
        body = json.dumps(outer, ensure_ascii=False) if fmt == "json" else self.xml(outer)
        return self.client.post(self.path, params=params, content=body.encode())

    def open_reply(self, text: str) -> dict[str, str]:
        """The passive reply, its signature checked and decrypted by wechatpy (as WeChat would)."""
        import xmltodict

        envelope = xmltodict.parse(text)["xml"]
        plain = self.crypto.decrypt_message(text, envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"])
        return xmltodict.parse(plain)["xml"]


class RetrievalGateway:
    """The gateway's handle() answering from retrieval (Rasa does not run in these tests), optionally slow."""

    def __init__(self, retriever: Any, delay_s: float = 0.0) -> None:
        self.retriever, self.delay_s = retriever, delay_s
        self.calls: list[tuple[str, str, str]] = []

    async def handle(self, sender_id: str, text: str, channel: str) -> dict[str, Any]:
        import asyncio

        self.calls.append((sender_id, text, channel))
        await asyncio.sleep(self.delay_s)
        result = self.retriever.search(text)
        if result.decision == "answer":
            messages = [{"text": f"【{result.offered[0].title}】请携带相关材料到政务服务中心办理。"}]
        elif result.decision == "clarify":
            messages = [{"text": "您想咨询的是下面哪一项？",
                         "buttons": [{"title": m.title, "payload": m.title} for m in result.offered]}]
        else:
            messages = [{"text": "抱歉，没有找到相关的办事指南。"}]
        return {"sender_id": sender_id, "messages": messages, "decision": result.decision,
                "matches": [m.as_dict() for m in result.offered], "mode": "bot"}


def wait_for(predicate: Any, timeout: float = 15.0) -> Any:
    """The predicate's first truthy value, polled until `timeout` (answers sent in the background)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := predicate():
            return value
        time.sleep(0.1)
    raise AssertionError("timed out")


@pytest.fixture
def wechat_server():
    server = FakeWeChatServer(FakeWeChat())
    yield server
    server.stop()


@pytest.fixture
def services(services, wechat_server):
    """conftest's services, configured for WeChat against the fake server (app_client is built from them)."""
    fake = wechat_server.fake
    services.settings = dataclasses.replace(
        services.settings, wechat_token=TOKEN, wechat_encoding_aes_key=AES_KEY, wechat_appid=fake.appid,
        wechat_appsecret=fake.secret, wechat_api_base=wechat_server.url, redis_url="")
    return services


@pytest.fixture
def gateway(app_client, services):
    """Rasa does not run here: the app's gateway answers from retrieval."""
    gw = RetrievalGateway(services.retriever)
    app_client.app.state.gateway = gw
    return gw
