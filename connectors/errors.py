"""Clear error bodies: 4xx answers carry a Chinese message (and the field) instead of a stack of jargon."""
from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

_REASONS = {"missing": "缺少该字段", "string_too_short": "不能为空", "string_too_long": "内容过长",
            "string_pattern_mismatch": "格式不正确", "literal_error": "取值不在允许范围内",
            "json_invalid": "不是合法的 JSON", "value_error": "取值不正确"}


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"field": ".".join(str(p) for p in e["loc"] if p != "body") or "(body)",
                   "reason": _REASONS.get(e["type"], e["msg"]), "detail": e["msg"]} for e in exc.errors()]
        first = errors[0] if errors else {"field": "", "reason": "请求格式不正确"}
        return JSONResponse(status_code=422, content={
            "detail": f"请求有误：{first['field']} {first['reason']}", "errors": errors})
