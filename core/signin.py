"""The operators' sign-in page and API: /login, /api/v1/auth/login, /logout, /me (the page is core/static/)."""
from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import BaseModel, Field

from core.auth import CSRF_COOKIE, SESSION_COOKIE, ApiUser, SignInError, current_user, sign_in, sign_out

router = APIRouter(prefix="/api/v1/auth", tags=["operator sign-in"])
pages = APIRouter()


class Credentials(BaseModel):
    name: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=1, max_length=1024)


def _set_cookies(request: Request, response: Response, secret: str | None, csrf: str | None) -> None:
    """HttpOnly session cookie + script-readable CSRF cookie; both SameSite=Strict, Secure over https.

    No Max-Age: the browser drops them when it closes; the server enforces the idle and absolute expiry."""
    secure = request.url.scheme == "https"
    for name, value, http_only in ((SESSION_COOKIE, secret, True), (CSRF_COOKIE, csrf, False)):
        if value is None:
            response.delete_cookie(name, path="/", secure=secure, httponly=http_only, samesite="strict")
        else:
            response.set_cookie(name, value, path="/", secure=secure, httponly=http_only, samesite="strict")


@router.post("/login")
def login(body: Credentials, request: Request, response: Response) -> dict[str, str]:
    client = request.client.host if request.client else ""
    try:
        session = sign_in(request.app.state.services.db, body.name, body.password, client)
    except SignInError as exc:
        headers = {"Retry-After": str(exc.retry_after)} if exc.retry_after else None
        raise HTTPException(exc.status, detail=str(exc), headers=headers) from exc
    _set_cookies(request, response, session.secret, session.csrf_token)
    return {"name": session.user.name, "role": session.user.role, "csrf_token": session.csrf_token}


@router.post("/logout", status_code=204)
def logout(request: Request, response: Response, user: ApiUser = Depends(current_user)) -> None:
    """Ends the browser's session (the CSRF header is checked like any unsafe call); bearer tokens stay valid."""
    secret = request.cookies.get(SESSION_COOKIE)
    if secret:
        sign_out(request.app.state.services.db, secret)
    _set_cookies(request, response, None, None)


@router.get("/me")
def me(user: ApiUser = Depends(current_user)) -> dict[str, str]:
    return {"name": user.name, "role": user.role}


@pages.get("/login", response_class=HTMLResponse, include_in_schema=False)
def login_page() -> str:
    return (Path(__file__).parent / "static" / "login.html").read_text(encoding="utf-8")
