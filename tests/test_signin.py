"""Operator sign-in: passwords, lock-out, disabled accounts, session cookies with CSRF, bearer tokens, the CLI."""
from __future__ import annotations

import datetime as dt
import hashlib
import os
import subprocess
import sys
from dataclasses import dataclass

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from core.auth import (LOCKOUT, MAX_FAILED_SIGNINS, SESSION_ABSOLUTE, SESSION_IDLE, ApiUser, AuthEvent,
                       OperatorSession, SignInError, add_user, session_user, set_disabled, sign_in)
from core.clock import utcnow
from core.db import Base, Database
from govbot.app import create_app
from govbot.migrations import upgrade
from tests.conftest import make_services, make_settings
from tests.test_postgres import pg_url  # noqa: F401  (fixture: a fresh schema on the PostgreSQL server)

PASSWORD = "correct horse battery"
AUTH_TABLES = {"api_users", "operator_sessions", "operator_auth_log"}


@pytest.fixture
def db(tmp_path) -> Database:
    database = Database(f"sqlite:///{tmp_path / 'auth.db'}")
    upgrade(database)
    return database


def _sign_in_fails(db: Database, password: str) -> SignInError:
    with pytest.raises(SignInError) as caught:
        sign_in(db, "li", password)
    return caught.value


def auth_events(db: Database, name: str) -> list[str]:
    with db.session() as s:
        return list(s.scalars(select(AuthEvent.event).where(AuthEvent.name == name).order_by(AuthEvent.id)))


def _age(db: Database, **moved_back: dt.timedelta) -> None:
    """Move a timestamp column of every session (or the lock) into the past, as if time had passed."""
    with db.session() as s:
        for column, delta in moved_back.items():
            table = ApiUser if column == "locked_until" else OperatorSession
            s.execute(update(table).values({column: utcnow() - delta}))


# --- the account rules, on the database -------------------------------------------------------------------

def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(db):
    add_user(db, "li", "editor", password=PASSWORD)
    for _ in range(MAX_FAILED_SIGNINS - 1):
        assert _sign_in_fails(db, "wrong password").status == 401
    sign_in(db, "li", PASSWORD)  # a success before the limit clears the count
    for _ in range(MAX_FAILED_SIGNINS):
        assert _sign_in_fails(db, "wrong password").status == 401
    locked = _sign_in_fails(db, PASSWORD)  # even the right password, while locked
    assert locked.status == 429 and "锁定" in str(locked)
    assert LOCKOUT.total_seconds() - 5 < locked.retry_after <= LOCKOUT.total_seconds() + 1
    _age(db, locked_until=dt.timedelta(seconds=1))  # fifteen minutes later
    assert sign_in(db, "li", PASSWORD).user.name == "li"
    events = auth_events(db, "li")
    assert events.count("locked") == 1 and events.count("signin") == 2
    assert events.count("signin_failed") == 2 * MAX_FAILED_SIGNINS  # 4 + 5 wrong, 1 while locked


def test_unknown_names_and_accounts_without_password_get_the_same_answer(db):
    add_user(db, "token-only", "editor")
    for name in ("nobody", "token-only"):
        with pytest.raises(SignInError) as caught:
            sign_in(db, name, "whatever-password")
        assert caught.value.status == 401 and str(caught.value) == "用户名或密码错误 / wrong name or password"


def test_passwords_and_sessions_are_stored_hashed(db):
    add_user(db, "li", "editor", password=PASSWORD)
    session = sign_in(db, "li", PASSWORD)
    with db.session() as s:
        stored_hash = s.get(ApiUser, "li").password_hash
        session_ids = list(s.scalars(select(OperatorSession.id_sha256)))
    assert stored_hash.startswith("$argon2id$") and PASSWORD not in stored_hash
    assert session_ids == [hashlib.sha256(session.secret.encode()).hexdigest()]
    with pytest.raises(ValueError, match="至少 8 位"):
        add_user(db, "wang", "editor", password="short")
    add_user(db, "li", "editor", password="a new password")
    assert session_user(db, session.secret) is None  # a new password ends the open sessions


def test_sessions_expire_when_idle_and_absolutely(db):
    add_user(db, "li", "editor", password=PASSWORD)
    idle = sign_in(db, "li", PASSWORD).secret
    _age(db, last_seen_at=SESSION_IDLE + dt.timedelta(seconds=5))
    assert session_user(db, idle) is None
    busy = sign_in(db, "li", PASSWORD).secret
    _age(db, created_at=SESSION_ABSOLUTE - dt.timedelta(minutes=1))
    assert session_user(db, busy).name == "li"  # used recently, within the absolute limit
    _age(db, created_at=SESSION_ABSOLUTE + dt.timedelta(minutes=1))
    assert session_user(db, busy) is None
    with db.session() as s:
        assert s.scalars(select(OperatorSession)).all() == []  # expired sessions are deleted


def test_disabling_ends_sessions_and_refuses_the_password(db):
    add_user(db, "li", "editor", password=PASSWORD)
    secret = sign_in(db, "li", PASSWORD).secret
    set_disabled(db, "li", True)
    assert session_user(db, secret) is None
    assert _sign_in_fails(db, PASSWORD).status == 403
    assert _sign_in_fails(db, "wrong password").status == 401  # no hint for someone guessing
    set_disabled(db, "li", False)
    assert sign_in(db, "li", PASSWORD).user.role == "editor"
    assert {"disabled", "enabled"} <= set(auth_events(db, "li"))


def test_the_migration_builds_the_models_tables(db):
    with db.engine.connect() as conn:
        diffs = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert [d for d in diffs if any(f"'{table}'" in repr(d) for table in AUTH_TABLES)] == []


def test_sign_in_and_lock_out_on_postgres(pg_url):  # noqa: F811
    db = Database(pg_url)
    upgrade(db)
    add_user(db, "li", "editor", password=PASSWORD)
    for _ in range(MAX_FAILED_SIGNINS):
        assert _sign_in_fails(db, "wrong password").status == 401
    assert _sign_in_fails(db, PASSWORD).status == 429
    set_disabled(db, "li", False)  # an admin lifts the lock
    assert session_user(db, sign_in(db, "li", PASSWORD).secret).name == "li"


# --- over HTTP --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def app(tmp_path_factory, encoder):
    """One app for the module (the index takes seconds to build); each test uses its own operator."""
    services = make_services(tmp_path_factory.mktemp("signin"), encoder)
    with TestClient(create_app(services.settings, services)) as client:
        yield client.app


@dataclass
class Operator:
    name: str
    token: str
    client: TestClient  # its own cookie jar

    def login(self, password: str = PASSWORD):
        return self.client.post("/api/v1/auth/login", json={"name": self.name, "password": password})


@pytest.fixture
def operator(app, request) -> Operator:
    name = request.node.name[5:45]
    return Operator(name, add_user(app.state.services.db, name, "editor", password=PASSWORD), TestClient(app))


@pytest.fixture
def signed_in(operator) -> Operator:
    r = operator.login()
    assert r.status_code == 200, r.text
    return operator


def test_session_cookie_flags(operator):
    for base, secure in (("http://testserver", False), ("https://testserver", True)):
        operator.client.base_url = base
        cookies = {c.split("=", 1)[0]: c.lower() for c in operator.login().headers.get_list("set-cookie")}
        assert cookies.keys() == {"govbot_session", "govbot_csrf"}
        for name, cookie in cookies.items():
            assert "samesite=strict" in cookie and "path=/" in cookie and "max-age" not in cookie
            assert ("; secure" in cookie) is secure, cookie
            assert ("httponly" in cookie) is (name == "govbot_session"), cookie


def test_unsafe_calls_with_the_cookie_need_the_csrf_header(signed_in):
    client = signed_in.client
    assert client.get("/api/v1/kb/guides?limit=3").status_code == 200  # reads need no header
    assert client.get("/api/v1/auth/me").json() == {"name": signed_in.name, "role": "editor"}
    for headers in ({}, {"X-CSRF-Token": "made-up"}):
        r = client.post("/api/v1/kb/guides", json={"code": "X"}, headers=headers)
        assert r.status_code == 403 and "X-CSRF-Token" in r.json()["detail"]
        assert client.post("/api/v1/auth/logout", headers=headers).status_code == 403
    csrf = {"X-CSRF-Token": client.cookies["govbot_csrf"]}
    assert client.post("/api/v1/kb/guides", json={"code": "X"}, headers=csrf).status_code == 422  # past auth
    assert client.post("/api/v1/auth/logout", headers=csrf).status_code == 204
    assert "govbot_session" not in client.cookies
    assert client.get("/api/v1/auth/me").status_code == 401


def test_a_csrf_token_does_not_fit_another_session(signed_in, app):
    other = Operator(signed_in.name, signed_in.token, TestClient(app))
    assert other.login().status_code == 200
    r = other.client.post("/api/v1/auth/logout", headers={"X-CSRF-Token": signed_in.client.cookies["govbot_csrf"]})
    assert r.status_code == 403


def test_bearer_tokens_still_work_without_csrf(operator, app):
    bearer = {"Authorization": f"Bearer {operator.token}"}
    assert operator.client.get("/api/v1/auth/me", headers=bearer).json()["name"] == operator.name
    r = operator.client.post("/api/v1/kb/guides", json={"code": "X"}, headers=bearer)
    assert r.status_code == 422  # authorised; the body is what is wrong
    set_disabled(app.state.services.db, operator.name, True)
    r = operator.client.get("/api/v1/kb/guides", headers=bearer)
    assert r.status_code == 403 and "停用" in r.json()["detail"]


def test_login_answers_in_chinese_with_retry_after_when_locked(operator):
    for _ in range(MAX_FAILED_SIGNINS):
        r = operator.login("wrong password")
        assert r.status_code == 401 and r.json()["detail"].startswith("用户名或密码错误")
    r = operator.login()
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 800 and "锁定" in r.json()["detail"]
    assert "govbot_session" not in operator.client.cookies


def test_login_takes_json_only_so_a_foreign_form_cannot_sign_a_browser_in(operator):
    r = operator.client.post("/api/v1/auth/login", data={"name": operator.name, "password": PASSWORD})
    assert r.status_code == 422 and "govbot_session" not in operator.client.cookies


def test_editor_page_sends_visitors_without_a_session_to_login(signed_in, app):
    assert signed_in.client.get("/editor").status_code == 200
    anonymous = TestClient(app)
    r = anonymous.get("/editor", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login?next=/editor"
    page = anonymous.get("/login")
    assert page.status_code == 200 and "/static/signin/login.js" in page.text and "<script>" not in page.text
    assert anonymous.get("/static/signin/login.js").status_code == 200


# --- the command line -------------------------------------------------------------------------------------

def _govbot(tmp_path, *args: str, stdin: str = "") -> subprocess.CompletedProcess:
    s = make_settings(tmp_path)
    env = {**os.environ, "GOVBOT_VAR_DIR": str(s.var_dir), "DATABASE_URL": s.database_url}
    return subprocess.run([sys.executable, "-m", "govbot.cli", "users", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=120, start_new_session=True)  # no terminal: getpass reads stdin


def test_cli_add_list_disable(tmp_path):
    added = _govbot(tmp_path, "add", "li", "--role", "editor", "--password-stdin", stdin=PASSWORD + "\n")
    assert added.returncode == 0, added.stderr
    assert added.stdout.startswith("li (editor) token: ")
    typed = _govbot(tmp_path, "add", "wang", "--role", "reviewer", "--password", stdin="first-password\nsecond-one\n")
    assert typed.returncode != 0 and "differ" in typed.stderr
    assert _govbot(tmp_path, "add", "zhao", "--role", "admin").returncode == 0
    rows = {line.split()[0]: line.split() for line in _govbot(tmp_path, "list").stdout.splitlines()[1:]}
    assert rows.keys() == {"li", "zhao"}
    assert rows["li"][1:4] == ["editor", "yes", "active"] and rows["zhao"][1:4] == ["admin", "no", "active"]

    db = Database(make_settings(tmp_path).database_url)
    secret = sign_in(db, "li", PASSWORD).secret
    assert _govbot(tmp_path, "disable", "li").returncode == 0
    assert session_user(db, secret) is None
    assert _govbot(tmp_path, "list").stdout.splitlines()[1].split()[3] == "disabled"
    missing = _govbot(tmp_path, "disable", "nobody")
    assert missing.returncode != 0 and "nobody" in missing.stderr
