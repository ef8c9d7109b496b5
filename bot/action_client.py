"""Rasa's HTTP client for its endpoints (the action server above all), with connections kept open
and a faster JSON encoder (issue 15), installed by bot/rasa_main.py.

Rasa 3.6's `EndpointConfig.request` creates an aiohttp `ClientSession` for every request and
closes it afterwards: every custom action call opens a new TCP connection (and a new connection
pool) to the action server. Here each endpoint keeps one session per event loop, so calls reuse
open connections; idle ones are closed after KEEPALIVE_S, far shorter than the action server's
(KEEP_ALIVE_TIMEOUT_S in bot/action_server.py, 60 s) so that Rasa never sends on a connection the
server is closing. Request bodies are encoded with ujson (already a dependency of Rasa) instead of the
standard library: the body of an action call is the whole conversation, encoded on every call.
The request itself (headers, parameters, errors, the JSON answer) is Rasa's code.

The domain (72 KiB of JSON: every response, slot and form), which Rasa puts in the body of every
action call, is the same object for as long as the model is loaded (`Domain.as_dict()` returns the
dict the Domain was built from, which Rasa never changes): it is encoded once per domain object and
written into each body as those bytes (the other keys are encoded per call). The body is the same
JSON object, with `domain` as its last key.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
from typing import Any

import aiohttp
import ujson
from aiohttp.client_exceptions import ContentTypeError
from rasa.shared.exceptions import FileNotFoundException
from rasa.utils.endpoints import DEFAULT_REQUEST_TIMEOUT, ClientResponseError, EndpointConfig, concat_url

KEEPALIVE_S = 2.0

# ujson escapes "/" by default; the standard library (and so Rasa) does not
dumps = functools.partial(ujson.dumps, escape_forward_slashes=False)


# id(domain) -> (the domain, its encoding): the one loaded model's, replaced when a new model's
# domain arrives; the object is kept so that its id cannot be reused by another
_encoded_domain: dict[int, tuple[Any, str]] = {}


def encoded_body(body: Any) -> bytes:
    """`dumps(body)`, with the domain's encoding reused when the body carries one."""
    domain = body.get("domain") if isinstance(body, dict) else None
    if not isinstance(domain, dict):
        return dumps(body).encode()
    cached = _encoded_domain.get(id(domain))
    if cached is None or cached[0] is not domain:
        _encoded_domain.clear()
        cached = _encoded_domain[id(domain)] = (domain, dumps(domain))
    rest = dumps({key: value for key, value in body.items() if key != "domain"})
    return f'{rest[:-1]}{"," if len(rest) > 2 else ""}"domain":{cached[1]}}}'.encode()


# one session per event loop and per set of credentials (the URL is given per request); not on
# the EndpointConfig itself, which Rasa copies
_sessions: dict[tuple[int, str, str], aiohttp.ClientSession] = {}


def _session(endpoint: EndpointConfig) -> aiohttp.ClientSession:
    """A session for this endpoint's headers and credentials on the running event loop."""
    key = (id(asyncio.get_running_loop()), repr(endpoint.headers), repr(endpoint.basic_auth))
    session = _sessions.get(key)
    if session is not None and not session.closed:
        return session
    auth = None
    if endpoint.basic_auth:
        auth = aiohttp.BasicAuth(endpoint.basic_auth["username"], endpoint.basic_auth["password"])
    session = aiohttp.ClientSession(
        headers=endpoint.headers,
        auth=auth,
        timeout=aiohttp.ClientTimeout(total=DEFAULT_REQUEST_TIMEOUT),
        json_serialize=dumps,
        connector=aiohttp.TCPConnector(keepalive_timeout=KEEPALIVE_S),
    )
    _sessions[key] = session
    return session


async def request(
    self: EndpointConfig,
    method: str = "post",
    subpath: str | None = None,
    content_type: str | None = "application/json",
    compress: bool = False,
    **kwargs: Any,
) -> Any | None:
    """Rasa 3.6's `EndpointConfig.request`, on the endpoint's kept session."""
    headers = {}
    if content_type:
        headers["Content-Type"] = content_type
    if "headers" in kwargs:
        headers.update(kwargs["headers"])
        del kwargs["headers"]
    if self.headers:
        headers.update(self.headers)
    if kwargs.get("json") is not None and content_type == "application/json":
        kwargs["data"] = encoded_body(kwargs.pop("json"))
    url = concat_url(self.url, subpath)
    sslcontext = None
    if self.cafile:
        try:
            sslcontext = ssl.create_default_context(cafile=self.cafile)
        except FileNotFoundError as e:
            raise FileNotFoundException(f"Failed to find certificate file, '{self.cafile}' does not exist.") from e
    async with _session(self).request(
        method,
        url,
        headers=headers,
        params=self.combine_parameters(kwargs),
        compress=compress,
        ssl=sslcontext,
        **kwargs,
    ) as response:
        if response.status >= 400:
            raise ClientResponseError(response.status, response.reason, await response.content.read())
        try:
            return await response.json()
        except ContentTypeError:
            return None


def install() -> None:
    EndpointConfig.request = request
