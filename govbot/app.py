"""The FastAPI app: mounts the chat API and page, the action webhook, the editor API and page."""
from __future__ import annotations

import asyncio
import logging
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.staticfiles import StaticFiles

from bot.actions.server import router as actions_router
from bot.degraded import answer_without_rasa
from bot.gateway import Gateway
from bot.rasa_client import RasaClient
from connectors import edge, errors, ops, web_chat, wechat_api, wechat_miniprogram, wechat_official
from connectors.wechat_channel import WeChat
from connectors.wechat_handoff import WeChatAgentReplies
from core import signin
from core.logs import setup_logging
from core.settings import Settings, get_settings
from govbot.services import Services
from handoff import api as handoff_api
from insight import api as insight_api
from knowledge_base import api as kb_api

log = logging.getLogger("govbot.app")


def create_app(settings: Settings | None = None, services: Services | None = None) -> FastAPI:
    settings = settings or get_settings()
    setup_logging(fmt=settings.log_format)  # every handler masks personal data (uvicorn's included)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        svc = services or Services(settings)
        svc.start_watching()  # loads the knowledge base, builds the index, follows publishes
        svc.applications  # noqa: B018
        rasa = RasaClient(settings.rasa_url, settings.rasa_token)
        app.state.services = svc
        app.state.gateway = Gateway(svc.conversations, rasa, partial(answer_without_rasa, svc), svc.safety)
        ops.meter_turns(app.state.gateway)
        rasa_watch = asyncio.create_task(ops.watch_rasa(lambda: app.state.gateway.rasa))
        app.state.wechat = WeChat(settings, svc.db)
        wechat_replies = WeChatAgentReplies(app.state.wechat, svc.db)
        svc.desk.deliveries.register(wechat_replies)  # agents' replies to WeChat citizens
        await svc.hub.start()
        log.info("ready: %d items indexed", len(svc.retriever))
        yield
        rasa_watch.cancel()
        svc.desk.deliveries.unregister(wechat_replies)
        await svc.hub.close()
        await app.state.wechat.close()  # lets answers still on their way to WeChat go out
        svc.stop_watching()
        await rasa.close()

    app = FastAPI(title="政务通 GovBot", version="0.1.0", lifespan=lifespan)
    errors.install(app)
    edge.install(app, settings)  # request ids, metrics, CORS, security headers, size and rate limits
    app.include_router(web_chat.router)
    app.include_router(ops.router)
    app.include_router(actions_router)
    app.include_router(kb_api.router)
    app.include_router(kb_api.pages)
    app.include_router(insight_api.router)
    app.include_router(insight_api.pages)
    app.include_router(handoff_api.router)
    app.include_router(handoff_api.pages)
    app.include_router(signin.router)
    app.include_router(signin.pages)
    app.include_router(wechat_official.router)
    app.include_router(wechat_miniprogram.router)
    app.include_router(wechat_api.router)
    # pages' scripts and styles: no inline code
    for name, package in (("chat", web_chat), ("editor", kb_api), ("signin", signin), ("insight", insight_api),
                          ("console", handoff_api)):
        app.mount(f"/static/{name}", StaticFiles(directory=Path(package.__file__).parent / "static"), name=name)

    @app.get("/healthz")
    async def healthz(request: Request) -> dict:
        svc: Services = request.app.state.services
        rasa_ok = await request.app.state.gateway.rasa.ready()
        return {"status": "ok" if rasa_ok else "degraded", "rasa": rasa_ok, "items": len(svc.retriever)}

    return app
