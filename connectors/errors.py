"""Clear error bodies: every 4xx names the problem in Chinese (and in English on operator routes), a
malformed JSON body says where it breaks, and nothing answers with a bare "Not Found" or a byte offset."""
from __future__ import annotations

from http import HTTPStatus

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.utils import is_body_allowed_for_status_code
from starlette.exceptions import HTTPException as StarletteHTTPException

from handoff.tickets import HandoffError

# Routes and pages citizens use; every other route is an operator's (editor, reviewer, admin, agent).
CITIZEN_PATHS = ("/api/v1/chat", "/api/v1/miniprogram", "/wechat/", "/static/chat/")

_REASONS = {"missing": "缺少该字段", "string_too_short": "不能为空", "string_too_long": "内容过长",
            "string_pattern_mismatch": "格式不正确", "literal_error": "取值不在允许范围内", "enum": "取值不在允许范围内",
            "string_type": "应为文字", "int_parsing": "应为整数", "int_type": "应为整数", "float_parsing": "应为数字",
            "float_type": "应为数字", "bool_parsing": "应为 true 或 false", "bool_type": "应为 true 或 false",
            "model_attributes_type": "应为 JSON 对象", "dict_type": "应为 JSON 对象", "list_type": "应为列表",
            "too_short": "条目太少", "too_long": "条目太多", "extra_forbidden": "不允许该字段",
            "greater_than": "数值过小", "greater_than_equal": "数值过小", "less_than": "数值过大",
            "less_than_equal": "数值过大", "date_parsing": "日期格式应为 YYYY-MM-DD",
            "date_from_datetime_parsing": "日期格式应为 YYYY-MM-DD", "url_parsing": "网址格式不正确"}
_JSON_PROBLEMS = {"Expecting value": "缺少取值", "Expecting property name enclosed in double quotes": "字段名应使用双引号",
                  "Expecting ':' delimiter": "缺少冒号", "Expecting ',' delimiter": "缺少逗号",
                  "Unterminated string starting at": "字符串缺少结尾的引号", "Invalid control character at": "含有控制字符",
                  "Extra data": "JSON 之后还有多余内容", "Invalid \\escape": "转义字符不正确"}
_STATUS_ZH = {400: "请求有误", 401: "需要登录", 403: "没有权限", 404: "找不到该地址", 405: "不支持该请求方法",
              406: "无法提供所要求的格式", 408: "请求超时", 409: "与当前状态冲突", 410: "该资源已不存在",
              411: "缺少请求长度", 412: "内容已被他人修改，请刷新后重试", 413: "请求内容过大", 414: "地址过长",
              415: "不支持该内容类型", 422: "请求内容有误", 428: "缺少版本条件（If-Match）", 429: "请求过于频繁，请稍后再试"}
_FRAMEWORK_DETAILS = {"Not authenticated": 401, "Invalid authentication credentials": 401}


def for_operators(path: str) -> bool:
    return path != "/" and not path.startswith(CITIZEN_PATHS)


def _json_problem(error: dict, body: object) -> tuple[str, str]:
    """(Chinese, English) description of where and why a request body is not JSON."""
    pos = error["loc"][-1] if isinstance(error["loc"][-1], int) else 0
    doc = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body or "")
    line, column = doc.count("\n", 0, pos) + 1, pos - doc.rfind("\n", 0, pos)
    problem = str((error.get("ctx") or {}).get("error", ""))
    zh = _JSON_PROBLEMS.get(problem, "格式不正确")
    return (f"请求体不是合法的 JSON：第{line}行第{column}列附近{zh}",
            f"request body is not valid JSON: line {line}, column {column}: {problem or 'syntax error'}")


def _field(error: dict) -> str:
    return ".".join(str(p) for p in error["loc"] if p != "body") or "请求体"


def _reason(error: dict) -> str:
    if error["type"] == "value_error":  # our validators raise ValueError with a Chinese message
        return str((error.get("ctx") or {}).get("error", "")) or "取值不正确"
    if error["type"] == "missing" and tuple(error["loc"]) == ("body",):
        return "不能为空"
    return _REASONS.get(error["type"], "格式不正确")


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        operator = for_operators(request.url.path)
        errors = list(exc.errors())
        bad_json = next((e for e in errors if e["type"] == "json_invalid"), None)
        if bad_json is not None:
            zh, en = _json_problem(bad_json, exc.body)
            return JSONResponse(status_code=422, content={"detail": f"{zh} / {en}" if operator else zh})
        rows = [{"field": _field(e), "reason": _reason(e), **({"message": e["msg"]} if operator else {})}
                for e in errors]
        first = rows[0] if rows else {"field": "请求体", "reason": "格式不正确"}
        detail = f"请求有误：{first['field']} {first['reason']}"
        if operator and rows:
            detail += f" / invalid request: {first['field']}: {first['message']}"
        return JSONResponse(status_code=422, content={"detail": detail, "errors": rows})

    @app.exception_handler(HandoffError)
    async def _handoff_refused(_: Request, exc: HandoffError) -> JSONResponse:
        """A queue rule the request breaks (taken, closed, not yours): its status and Chinese message."""
        return JSONResponse(status_code=exc.status, content={"detail": str(exc)})

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        if not is_body_allowed_for_status_code(exc.status_code):
            return Response(status_code=exc.status_code, headers=exc.headers)
        detail = exc.detail
        framework_text = isinstance(detail, str) and (
            detail == HTTPStatus(exc.status_code).phrase or detail in _FRAMEWORK_DETAILS)
        if framework_text and exc.status_code in _STATUS_ZH:  # the framework's English default
            zh = _STATUS_ZH[exc.status_code]
            detail = f"{zh} / {detail}" if for_operators(request.url.path) else zh
        return JSONResponse(status_code=exc.status_code, content={"detail": detail}, headers=exc.headers)

    @app.exception_handler(OverflowError)
    async def _out_of_range(request: Request, _: OverflowError) -> JSONResponse:
        # an integer beyond what the database stores (SQLite: 64 bits), e.g. an id in the path (found by fuzzing)
        detail = "请求有误：数值超出范围" + (" / invalid request: number out of range"
                                          if for_operators(request.url.path) else "")
        return JSONResponse(status_code=422, content={"detail": detail})

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, __: Exception) -> JSONResponse:
        # the server still logs the traceback (masked, see core/logs.py); the caller gets no internals
        return JSONResponse(status_code=500, content={"detail": "服务暂时出现问题，请稍后再试或拨打12345热线。"})
