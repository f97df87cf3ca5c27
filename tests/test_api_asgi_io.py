"""The hook route's ASGI reading and writing: the body however the server splits it, the URL as addressed."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from litestar.exceptions import ClientException

from cds_api.asgi_io import ClientDisconnected, base_url, read_body, send_json


def messages(*sent: dict[str, Any]) -> Callable[[], Awaitable[Any]]:
    queue = list(sent)

    async def receive() -> Any:
        return queue.pop(0)

    return receive


def chunk(body: bytes, more: bool) -> dict[str, Any]:
    return {"type": "http.request", "body": body, "more_body": more}


def test_one_message_and_many_give_the_same_body() -> None:
    assert asyncio.run(read_body(messages(chunk(b'{"a": 1}', False)))) == b'{"a": 1}'
    split = messages(chunk(b'{"a"', True), chunk(b"", True), chunk(b": 1}", False))
    assert asyncio.run(read_body(split)) == b'{"a": 1}'


def test_a_message_without_body_keys_is_an_empty_body() -> None:
    assert asyncio.run(read_body(messages({"type": "http.request"}))) == b""


@pytest.mark.parametrize(
    "sent",
    [
        (chunk(b"x" * 11, False),),
        (chunk(b"x" * 6, True), chunk(b"x" * 5, False)),
        (chunk(b"x" * 10, True), chunk(b"x", True), chunk(b"never read", False)),
    ],
)
def test_past_the_limit_is_413(sent: tuple[dict[str, Any], ...]) -> None:
    with pytest.raises(ClientException) as raised:
        asyncio.run(read_body(messages(*sent), limit=10))
    assert raised.value.status_code == 413
    assert "10 bytes" in raised.value.detail


def test_exactly_the_limit_is_read() -> None:
    assert asyncio.run(read_body(messages(chunk(b"x" * 6, True), chunk(b"x" * 4, False)), limit=10)) == b"x" * 10


@pytest.mark.parametrize("before", [0, 1])
def test_a_client_that_leaves_mid_body_is_told_apart(before: int) -> None:
    sent = [chunk(b"part", True)] * before + [{"type": "http.disconnect"}]
    with pytest.raises(ClientDisconnected):
        asyncio.run(read_body(messages(*sent)))


@pytest.mark.parametrize(
    ("scheme", "headers", "server", "expected"),
    [
        ("https", [(b"host", b"cds.example.org")], ("10.0.0.5", 8443), "https://cds.example.org"),
        ("http", [(b"host", b"")], ("127.0.0.1", 8000), "http://127.0.0.1:8000"),
        ("http", [], ("127.0.0.1", 80), "http://127.0.0.1"),
        ("https", [], ("cds.internal", 443), "https://cds.internal"),
        ("https", [], ("cds.internal", 80), "https://cds.internal:80"),
    ],
)
def test_base_url_is_what_the_client_addressed(
    scheme: str, headers: list[tuple[bytes, bytes]], server: tuple[str, int], expected: str
) -> None:
    scope: Any = {"type": "http", "scheme": scheme, "headers": headers, "server": server}
    assert base_url(scope) == expected


def test_send_json_declares_type_and_length() -> None:
    sent: list[dict[str, Any]] = []

    async def send(message: Any) -> None:
        sent.append(message)

    asyncio.run(send_json(send, b'{"cards":[]}'))
    start, body = sent
    assert start["status"] == 200
    assert dict(start["headers"]) == {b"content-type": b"application/json", b"content-length": b"12"}
    assert body["body"] == b'{"cards":[]}' and body["more_body"] is False
