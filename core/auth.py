"""Operator authentication: bearer tokens (stored hashed) mapped to a role."""
from __future__ import annotations

import hashlib
import secrets

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, Database

ROLES = ("editor", "reviewer", "admin", "agent")
_bearer = HTTPBearer(auto_error=False)


class ApiUser(Base):
    """Operators (editor, reviewer, admin, agent) authenticate with a bearer token; only its hash is kept."""

    __tablename__ = "api_users"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    role: Mapped[str] = mapped_column(String(16))
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def add_user(db: Database, name: str, role: str, token: str | None = None) -> str:
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}; choose one of {', '.join(ROLES)}")
    token = token or secrets.token_urlsafe(24)
    with db.session() as s:
        user = s.get(ApiUser, name) or ApiUser(name=name, role=role, token_sha256=_hash(token))
        user.role, user.token_sha256 = role, _hash(token)
        s.add(user)
    return token


def current_user(request: Request, cred: HTTPAuthorizationCredentials | None = Depends(_bearer)) -> ApiUser:
    if cred is None:
        raise HTTPException(401, detail="需要登录：请在 Authorization 头里带上 Bearer 令牌 / missing bearer token")
    db: Database = request.app.state.services.db
    with db.session() as s:
        user = s.query(ApiUser).filter_by(token_sha256=_hash(cred.credentials)).one_or_none()
    if user is None:
        raise HTTPException(401, detail="令牌无效 / invalid token")
    return user


def require(*roles: str):
    def check(user: ApiUser = Depends(current_user)) -> ApiUser:
        if user.role not in roles:
            raise HTTPException(403, detail=f"权限不足：需要 {'/'.join(roles)} 角色 / requires role {'/'.join(roles)}")
        return user

    return check
