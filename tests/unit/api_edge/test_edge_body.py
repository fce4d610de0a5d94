"""Request bodies: read within their limit, JSON vetted before FastAPI parses it."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from starlette.types import Message

from ordergate.api.edge.body import (
    MAX_JSON_DEPTH,
    MAX_JSON_STRING,
    declared_length,
    is_json,
    read_body,
    refuse_declared,
    replay,
    vet_json,
)
from ordergate.domain.errors import MalformedRequest, PayloadTooLarge, RequestTimedOut


def code_of(body: bytes) -> str:
    with pytest.raises(MalformedRequest) as refused:
        vet_json(body)
    return refused.value.code


@pytest.mark.parametrize(
    ("body", "code"),
    [
        pytest.param(b'{"qty": "1", "qty": "2"}', "JSON_DUPLICATE_KEY", id="duplicate-key"),
        pytest.param(b'{"a": {"b": 1, "b": 2}}', "JSON_DUPLICATE_KEY", id="duplicate-nested"),
        pytest.param(b"[" * 50_000 + b"]" * 50_000, "JSON_TOO_DEEP", id="deeper-than-recursion"),
        pytest.param(
            b"[" * (MAX_JSON_DEPTH + 1) + b"]" * (MAX_JSON_DEPTH + 1), "JSON_TOO_DEEP", id="depth+1"
        ),
        pytest.param(b'{"s": "\\u0000"}', "CONTROL_CHARACTER", id="escaped-nul"),
        pytest.param(b'{"s\\u0001": 1}', "CONTROL_CHARACTER", id="control-in-key"),
        pytest.param(b'{"s": "\\ud800"}', "CONTROL_CHARACTER", id="lone-surrogate"),
        pytest.param(b'{"s": "\xff"}', "BODY_NOT_UTF8", id="invalid-utf8"),
        pytest.param(b'{"s": "a\x00b"}', "JSON_INVALID", id="raw-nul"),
        pytest.param(b"symbol=EURUSD", "JSON_INVALID", id="not-json"),
        pytest.param(b'{"n": ' + b"9" * 5000 + b"}", "JSON_INVALID", id="int-too-long"),
        pytest.param(
            json.dumps({"s": "x" * (MAX_JSON_STRING + 1)}).encode(),
            "JSON_STRING_TOO_LONG",
            id="long-string",
        ),
    ],
)
def test_vet_json_refuses_with_its_reason(body: bytes, code: str) -> None:
    assert code_of(body) == code


def test_vet_json_accepts_the_limits_themselves() -> None:
    deepest = b"[" * MAX_JSON_DEPTH + b"]" * MAX_JSON_DEPTH
    longest = json.dumps({"s": "é" * MAX_JSON_STRING}).encode()

    vet_json(deepest)
    vet_json(longest)
    vet_json(b'{"symbol": "EURUSD", "qty": 1e999999, "price": NaN}')  # numbers: the schema's job


JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=20,
)


def strings_in(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [k, *strings_in(v)]]
    if isinstance(value, list):
        return [s for item in value for s in strings_in(item)]
    return []


@given(JSON_VALUES)
def test_vet_json_refuses_exactly_the_documents_with_a_control_character(value: object) -> None:
    body = json.dumps(value).encode()
    dirty = any(
        ord(c) < 0x20 or ord(c) == 0x7F or 0xD800 <= ord(c) <= 0xDFFF
        for text in strings_in(value)
        for c in text
    )
    if dirty:
        assert code_of(body) == "CONTROL_CHARACTER"
    else:
        vet_json(body)


def test_declared_length_over_the_limit_refused_before_reading() -> None:
    headers = [(b"content-length", b"1000000000")]

    with pytest.raises(PayloadTooLarge):
        refuse_declared(declared_length(headers), 65_536)
    refuse_declared(declared_length([(b"content-length", b"65536")]), 65_536)
    refuse_declared(declared_length([]), 65_536)  # chunked: counted while read


class Chunks:
    """An ASGI `receive` that hands out `chunks` and counts how many were asked for."""

    def __init__(self, *chunks: bytes, then: str = "http.request") -> None:
        self.chunks = list(chunks)
        self.asked = 0
        self.then = then

    async def __call__(self) -> Message:
        self.asked += 1
        if not self.chunks:
            return {"type": self.then}
        chunk = self.chunks.pop(0)
        return {"type": "http.request", "body": chunk, "more_body": bool(self.chunks)}


async def test_read_body_stops_at_the_first_chunk_over_the_limit() -> None:
    receive = Chunks(b"a" * 40, b"b" * 40, b"c" * 40, b"d" * 40)

    with pytest.raises(PayloadTooLarge):
        await read_body(receive, 100)
    assert receive.asked == 3  # the fourth chunk is never asked for


async def test_read_body_whole_within_the_limit() -> None:
    assert await read_body(Chunks(b"ab", b"cd"), 4) == b"abcd"


async def test_read_body_client_gone() -> None:
    messages: list[Message] = [
        {"type": "http.request", "body": b"a", "more_body": True},
        {"type": "http.disconnect"},
    ]

    async def receive() -> Message:
        return messages.pop(0)

    with pytest.raises(RequestTimedOut) as gone:
        await read_body(receive, 100)
    assert gone.value.code == "CLIENT_GONE"


async def test_replay_hands_the_body_once_then_the_client() -> None:
    client = Chunks(then="http.disconnect")
    replayed = replay(b"body", client)

    assert await replayed() == {"type": "http.request", "body": b"body", "more_body": False}
    assert (await replayed())["type"] == "http.disconnect"


@pytest.mark.parametrize(
    ("content_type", "expected"),
    [
        (b"application/json", True),
        (b"Application/JSON; charset=utf-8", True),
        (b"application/merge-patch+json", True),
        (b"text/plain", False),
        (b"application/x-www-form-urlencoded", False),
    ],
)
def test_is_json_as_fastapi_reads_content_type(content_type: bytes, expected: bool) -> None:
    assert is_json([(b"content-type", content_type)]) is expected
    assert is_json([]) is False
