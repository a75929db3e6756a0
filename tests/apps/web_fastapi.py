"""The FastAPI app of tests.apps.web, as FastAPI users write one: ``add_middleware`` and
decorated routes whose ``request: Request`` FastAPI resolves from this module's globals
(hence no ``from __future__ import annotations`` here)."""

from typing import Any

from fastapi import FastAPI, Request

from engineio_session.asgi import SessionMiddleware
from tests.apps.web import describe


def fastapi_app(store: Any, secret: Any, options: dict[str, Any]) -> FastAPI:
    app = FastAPI()
    app.add_middleware(SessionMiddleware, store=store, secret=secret, **options)

    @app.get("/session")
    async def get_session(request: Request) -> dict[str, Any]:
        return describe(request.session)

    @app.post("/update")
    async def update(request: Request) -> dict[str, Any]:
        request.session.update(await request.json())
        return {"id": request.session.id}

    @app.post("/logout")
    async def logout(request: Request) -> dict[str, Any]:
        await request.session.destroy()
        return {"ok": True}

    return app
