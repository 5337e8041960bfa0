"""Operator accounts and authentication: bearer tokens for scripts, password sign-in with session cookies.

Both are stored hashed: tokens and session ids with SHA-256 (they are long random strings), passwords with
argon2id. A session cookie is refused on unsafe methods unless the request carries the session's CSRF token
in `X-CSRF-Token` (double submit: the page reads it from the `govbot_csrf` cookie, which a foreign site can
neither read nor set on our origin). Five wrong passwords lock an account for 15 minutes; sign-ins, failures,
lock-outs, sign-outs and disabling are written to the operator audit log."""
from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
from dataclasses import dataclass
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import Boolean, DateTime, ForeignKey, Integer, String, Text, delete, func, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.clock import utcnow
from core.db import Base, Database

ROLES = ("editor", "reviewer", "admin", "agent")
MAX_FAILED_SIGNINS = 5
LOCKOUT = dt.timedelta(minutes=15)
SESSION_IDLE = dt.timedelta(minutes=30)
SESSION_ABSOLUTE = dt.timedelta(hours=12)
SESSION_TOUCH_EVERY = dt.timedelta(minutes=1)  # last-seen is written at most this often
MIN_PASSWORD_LENGTH = 8
SESSION_COOKIE, CSRF_COOKIE, CSRF_HEADER = "govbot_session", "govbot_csrf", "X-CSRF-Token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

log = logging.getLogger("govbot.auth")
_bearer = HTTPBearer(auto_error=False)
_hasher = PasswordHasher()  # argon2id, the library's recommended parameters


@cache
def _dummy_hash() -> str:
    """Checked against for unknown names, so that they cost as much time as a wrong password."""
    return _hasher.hash(secrets.token_urlsafe(16))


class ApiUser(Base):
    """An operator: a bearer token (hash) for scripts, optionally a password (argon2 hash) for the sign-in page."""

    __tablename__ = "api_users"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(255), default=None)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")
    failed_signins: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), default=None)


class OperatorSession(Base):
    """A signed-in browser; the cookie holds the secret, the table only its hash."""

    __tablename__ = "operator_sessions"

    id_sha256: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_name: Mapped[str] = mapped_column(ForeignKey("api_users.name", ondelete="CASCADE"), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    last_seen_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class AuthEvent(Base):
    """Operator audit log: signin, signin_failed, locked, signout, disabled, enabled, account_saved."""

    __tablename__ = "operator_auth_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    name: Mapped[str] = mapped_column(String(80), index=True)
    event: Mapped[str] = mapped_column(String(24))
    detail: Mapped[str] = mapped_column(Text, default="")


class SignInError(Exception):
    def __init__(self, status: int, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.retry_after = status, retry_after


@dataclass(frozen=True)
class NewSession:
    user: ApiUser
    secret: str  # the cookie value; only its hash is stored

    @property
    def csrf_token(self) -> str:
        return csrf_token_for(self.secret)


def _sha256(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def csrf_token_for(session_secret: str) -> str:
    """The CSRF token is bound to its session: a token from another session (or made up) does not match."""
    return _sha256("csrf:" + session_secret)


def _aware(moment: dt.datetime) -> dt.datetime:
    """SQLite hands timestamps back without their zone; every stored timestamp is UTC."""
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def _audit(s: Session, name: str, event: str, detail: str = "") -> None:
    s.add(AuthEvent(name=name, event=event, detail=detail))
    log.info("operator %s: %s %s", name, event, detail)


# --- accounts -------------------------------------------------------------------------------------------

def _check_password_rules(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValueError(f"密码至少 {MIN_PASSWORD_LENGTH} 位 / "
                         f"a password needs at least {MIN_PASSWORD_LENGTH} characters")


def add_user(db: Database, name: str, role: str, token: str | None = None, password: str | None = None) -> str:
    """Create or update an operator (role, a new bearer token, the password if given); returns the token.

    A new password ends the account's open sessions and lifts a lock-out."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    if password is not None:
        _check_password_rules(password)
    token = token or secrets.token_urlsafe(24)
    with db.session() as s:
        user = s.get(ApiUser, name) or ApiUser(name=name, role=role, token_sha256=_sha256(token))
        user.role, user.token_sha256 = role, _sha256(token)
        if password is not None:
            user.password_hash = _hasher.hash(password)
            user.failed_signins, user.locked_until = 0, None
            s.execute(delete(OperatorSession).where(OperatorSession.user_name == name))
        s.add(user)
        _audit(s, name, "account_saved", f"role={role} password={'set' if password is not None else 'unchanged'}")
    return token


def set_disabled(db: Database, name: str, disabled: bool) -> None:
    """Disabling refuses the account's token and password and ends its sessions; enabling also lifts a lock."""
    with db.session() as s:
        user = s.get(ApiUser, name)
        if user is None:
            raise KeyError(name)
        user.disabled = disabled
        if disabled:
            s.execute(delete(OperatorSession).where(OperatorSession.user_name == name))
        else:
            user.failed_signins, user.locked_until = 0, None
        _audit(s, name, "disabled" if disabled else "enabled")


@dataclass(frozen=True)
class AccountRow:
    name: str
    role: str
    has_password: bool
    disabled: bool
    locked_until: dt.datetime | None
    sessions: int


def list_users(db: Database) -> list[AccountRow]:
    with db.session() as s:
        sessions = dict(s.execute(select(OperatorSession.user_name, func.count())
                                  .group_by(OperatorSession.user_name)).all())
        return [AccountRow(u.name, u.role, u.password_hash is not None, u.disabled, _lock_end(u),
                           sessions.get(u.name, 0))
                for u in s.scalars(select(ApiUser).order_by(ApiUser.name))]


def _lock_end(user: ApiUser) -> dt.datetime | None:
    """When the account's lock-out ends, if it is locked now."""
    if user.locked_until is None or _aware(user.locked_until) <= utcnow():
        return None
    return _aware(user.locked_until)


# --- sign-in and sessions -------------------------------------------------------------------------------

def sign_in(db: Database, name: str, password: str, client: str = "") -> NewSession:
    """Check the password and open a session, or raise SignInError (same message for unknown names).

    The failure counters and audit rows are committed before the error is raised."""
    with db.session() as s:
        outcome = _check_password(s, name, password, client, utcnow())
    if isinstance(outcome, SignInError):
        raise outcome
    return outcome


def _check_password(s: Session, name: str, password: str, client: str, now: dt.datetime) -> NewSession | SignInError:
    wrong = SignInError(401, "用户名或密码错误 / wrong name or password")
    user = s.get(ApiUser, name, with_for_update=True)
    if user is None or user.password_hash is None:
        _verify(_dummy_hash(), password)
        if user is not None:
            _audit(s, name, "signin_failed", f"no password set; from {client}")
        return wrong
    if (lock_end := _lock_end(user)) is not None:
        wait = int((lock_end - now).total_seconds()) + 1
        _audit(s, name, "signin_failed", f"locked; from {client}")
        return SignInError(429, f"密码错误次数过多，账户已锁定，请 {(wait + 59) // 60} 分钟后再试 / "
                                f"too many wrong passwords: account locked, retry in {wait} s", wait)
    if not _verify(user.password_hash, password):
        user.failed_signins += 1
        _audit(s, name, "signin_failed", f"wrong password ({user.failed_signins}); from {client}")
        if user.failed_signins >= MAX_FAILED_SIGNINS:
            user.failed_signins, user.locked_until = 0, now + LOCKOUT
            _audit(s, name, "locked", f"until {user.locked_until.isoformat(timespec='seconds')}")
        return wrong
    if user.disabled:
        _audit(s, name, "signin_failed", f"disabled; from {client}")
        return SignInError(403, "账户已停用，请联系管理员 / account disabled")
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = _hasher.hash(password)
    user.failed_signins, user.locked_until = 0, None
    secret = secrets.token_urlsafe(32)
    s.add(OperatorSession(id_sha256=_sha256(secret), user_name=name, created_at=now, last_seen_at=now))
    _audit(s, name, "signin", f"from {client}")
    return NewSession(user, secret)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def session_user(db: Database, secret: str) -> ApiUser | None:
    """The operator behind a session cookie, or None when unknown, idle or absolutely expired, or disabled."""
    now = utcnow()
    with db.session() as s:
        session = s.get(OperatorSession, _sha256(secret))
        if session is None:
            return None
        if now - _aware(session.last_seen_at) > SESSION_IDLE or now - _aware(session.created_at) > SESSION_ABSOLUTE:
            s.delete(session)
            return None
        user = s.get(ApiUser, session.user_name)
        if user is None or user.disabled:
            return None
        if now - _aware(session.last_seen_at) > SESSION_TOUCH_EVERY:
            session.last_seen_at = now
        return user


def sign_out(db: Database, secret: str) -> None:
    with db.session() as s:
        session = s.get(OperatorSession, _sha256(secret))
        if session is not None:
            _audit(s, session.user_name, "signout")
            s.delete(session)


# --- FastAPI dependencies -------------------------------------------------------------------------------

def _db(request: Request) -> Database:
    return request.app.state.services.db


def page_user(request: Request) -> ApiUser | None:
    """For pages (GET): who is signed in with the session cookie, if anyone."""
    secret = request.cookies.get(SESSION_COOKIE)
    return session_user(_db(request), secret) if secret else None


def current_user(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> ApiUser:
    """A bearer token (scripts) or the session cookie (pages; unsafe methods also need the CSRF header)."""
    if cred is not None:
        with _db(request).session() as s:
            user = s.scalars(select(ApiUser).filter_by(token_sha256=_sha256(cred.credentials))).one_or_none()
        if user is None:
            raise HTTPException(401, detail="令牌无效 / invalid token")
        if user.disabled:
            raise HTTPException(403, detail="账户已停用，请联系管理员 / account disabled")
        return user
    secret = request.cookies.get(SESSION_COOKIE)
    if not secret:
        raise HTTPException(401, detail="需要登录：请先登录，或在 Authorization 头里带上 Bearer 令牌 / "
                                        "sign in, or send a bearer token")
    user = session_user(_db(request), secret)
    if user is None:
        raise HTTPException(401, detail="登录已过期，请重新登录 / session expired, please sign in again")
    if request.method not in SAFE_METHODS and not hmac.compare_digest(
            request.headers.get(CSRF_HEADER, "").encode(), csrf_token_for(secret).encode()):
        raise HTTPException(403, detail=f"缺少或错误的 {CSRF_HEADER} 请求头（防跨站请求伪造）/ "
                                        f"missing or wrong {CSRF_HEADER} header")
    return user


def require(*roles: str):
    def check(user: ApiUser = Depends(current_user)) -> ApiUser:
        if user.role not in roles:
            raise HTTPException(403, detail=f"权限不足：需要 {'/'.join(roles)} 角色 / requires role {'/'.join(roles)}")
        return user

    return check
