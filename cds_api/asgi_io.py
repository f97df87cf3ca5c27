"""Reading a request and writing an answer at the ASGI level, for the hook call's route.

The hook call is the hot path. Served as a Litestar ASGI route it still passes Litestar's routing, CORS
middleware and the one exception mapper, but skips building a ``Request``, resolving handler keywords and
the response machinery: about 150 k instructions of the 2.4 M a heavy call costs over HTTP (measured with
callgrind on a Litestar app answering a 33 KB POST: 244 k per call through an HTTP route, 93 k through an
ASGI route). What Litestar's request would have given, the body limit and the URL the client addressed,
is done here the same way.
"""

from __future__ import annotations

from typing import Final

from litestar.exceptions import ClientException
from litestar.status_codes import HTTP_413_REQUEST_ENTITY_TOO_LARGE
from litestar.types import HTTPResponseBodyEvent, HTTPResponseStartEvent, Receive, Scope, Send

MAX_BODY_BYTES: Final = 10_000_000
"""The largest request body accepted, on every route (Litestar's ``request_max_body_size`` is set to it)."""
_DEFAULT_PORTS: Final = {"http": 80, "https": 443}
_JSON_HEADERS: Final = [(b"content-type", b"application/json")]


class ClientDisconnected(Exception):
    """The client went away before its request body arrived: there is no one to answer."""


async def read_body(receive: Receive, limit: int = MAX_BODY_BYTES) -> bytes:
    """The whole request body, from as many ``http.request`` messages as the server sends.

    Raises ``ClientException`` (413) past ``limit`` bytes, as Litestar's own body reading does, and
    :class:`ClientDisconnected` when the client left first.
    """
    message = await receive()
    if message["type"] != "http.request":
        raise ClientDisconnected
    body = message.get("body", b"")
    if not message.get("more_body", False) and len(body) <= limit:
        return body  # the usual case: one message
    chunks = [body]
    size = len(body)
    while message.get("more_body", False):
        message = await receive()
        if message["type"] != "http.request":
            raise ClientDisconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            break
        chunks.append(chunk)
    if size > limit:
        raise ClientException(
            f"request body: larger than the {limit:,} bytes accepted", status_code=HTTP_413_REQUEST_ENTITY_TOO_LARGE
        )
    return b"".join(chunks)


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of header ``name`` (lower case, as ASGI servers give header names)."""
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")
    return None


def base_url(scope: Scope) -> str:
    """``scheme://host[:port]`` as the client addressed this server: the Host header, else the server's
    address (its port left out when it is the scheme's default), as Litestar's ``URL.from_scope`` has it."""
    scheme = scope.get("scheme", "http")
    host = header(scope, b"host") or ""
    server = scope.get("server")
    if server and not host:
        name, port = server
        host = name if port is None or _DEFAULT_PORTS.get(scheme) == port else f"{name}:{port}"
    return f"{scheme}://{host}"


async def send_json(send: Send, body: bytes) -> None:
    """A 200 answer of pre-encoded JSON ``body``."""
    start: HTTPResponseStartEvent = {
        "type": "http.response.start",
        "status": 200,
        "headers": [*_JSON_HEADERS, (b"content-length", str(len(body)).encode())],
    }
    await send(start)
    answer: HTTPResponseBodyEvent = {"type": "http.response.body", "body": body, "more_body": False}
    await send(answer)
