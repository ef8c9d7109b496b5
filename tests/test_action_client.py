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


def test_the_domain_is_encoded_once_and_the_body_is_the_same_json() -> None:
    action_client.install()
    domain = {"responses": {"utter_greet": [{"text": "Buongiorno/Buonasera \\u20ac €"}]}, "slots": {"a": {}}}

    async def run() -> list[dict[str, Any]]:
        seen: list[dict[str, Any]] = []
        runner, url = await _serve(seen)
        endpoint = EndpointConfig(url)
        try:
            for turn in range(3):
                events = [{"text": f"turno {turn}"}]
                body = {"next_action": "action_faq", "tracker": {"events": events}, "domain": domain}
                await endpoint.request(json=body, method="post")
            await endpoint.request(json={"domain": domain}, method="post")
            await endpoint.request(json={"domain": {"responses": {}}}, method="post")
        finally:
            await runner.cleanup()
        return seen

    seen = asyncio.run(run())
    bodies = [json.loads(call["body"]) for call in seen]
    assert bodies[:3] == [
        {"next_action": "action_faq", "tracker": {"events": [{"text": f"turno {turn}"}]}, "domain": domain}
        for turn in range(3)
    ]
    assert bodies[3:] == [{"domain": domain}, {"domain": {"responses": {}}}]
    # a new domain object (a new model) replaces the kept encoding
    (kept,) = action_client._encoded_domain.values()
    assert kept[0] == {"responses": {}} and kept[0] is not domain


def test_the_domain_encoding_is_reused_for_the_same_object(monkeypatch) -> None:
    encoded: list[Any] = []
    real = action_client.dumps
    monkeypatch.setattr(action_client, "dumps", lambda value: encoded.append(value) or real(value))
    domain = {"slots": {"customer_code": {}}}
    for turn in range(3):
        action_client.encoded_body({"next_action": "x", "sender_id": str(turn), "domain": domain})
    assert sum(value is domain for value in encoded) == 1
    assert json.loads(action_client.encoded_body({"domain": domain, "a": 1})) == {"a": 1, "domain": domain}
