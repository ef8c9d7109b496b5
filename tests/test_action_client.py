"""Rasa's endpoint client with kept connections and ujson bodies (bot/action_client.py): the same
requests and answers as Rasa's, over one connection, against a real HTTP server on loopback."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from aiohttp import web
from rasa.utils.endpoints import ClientResponseError, EndpointConfig

from bot import action_client


async def _serve(seen: list[dict[str, Any]]) -> tuple[web.AppRunner, str]:
    async def webhook(request: web.Request) -> web.Response:
        transport = request.transport
        seen.append(
            {
                "peer": transport.get_extra_info("peername") if transport else None,
                "body": await request.text(),
                "authorization": request.headers.get("Authorization"),
            }
        )
        if request.query.get("fail"):
            return web.json_response({"error": "no"}, status=400)
        return web.json_response({"events": [], "responses": []})

    app = web.Application()
    app.router.add_post("/webhook", webhook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    return runner, f"http://127.0.0.1:{port}/webhook"


def test_action_calls_reuse_one_connection_and_send_what_rasa_sends() -> None:
    action_client.install()
    payload = {"next_action": "action_stores", "tracker": {"events": [{"text": "c'è un ufficio a Prato/Siena? €"}]}}

    async def run() -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        runner, url = await _serve(seen)
        endpoint = EndpointConfig(url, headers={"Authorization": "Bearer action-token"})
        try:
            for _ in range(3):
                assert await endpoint.request(json=payload, method="post") == {"events": [], "responses": []}
            with pytest.raises(ClientResponseError) as refused:
                await endpoint.request(json=payload, method="post", params={"fail": "1"})
            assert refused.value.status == 400
        finally:
            await runner.cleanup()
        return seen

    seen = asyncio.run(run())
    assert len(seen) == 4
    assert len({call["peer"] for call in seen}) == 1  # one TCP connection (Rasa's: one per call)
    assert all(json.loads(call["body"]) == payload for call in seen)
    assert all(call["authorization"] == "Bearer action-token" for call in seen)
    assert "\\/" not in seen[0]["body"]  # "/" as the standard library writes it
