"""Request bodies read within a limit and a deadline, and JSON vetted before anyone parses it.

A body is read only after the caller is authenticated (`ordergate.api.edge.guard`), and
never beyond its route's limit: a `Content-Length` over the limit is refused before a
byte is read, and a chunked body is counted as it arrives, so nothing past the limit is
ever held. The whole body must arrive within `ORDERGATE_API_BODY_TIMEOUT_SECONDS` of the
first read.

A JSON body is then vetted by the one decoder the API trusts (`vet_json`): UTF-8 only,
no key twice in one object (a client that sends `quantity` twice must not have one of
them silently win), at most `MAX_JSON_DEPTH` levels of nesting, strings of at most
`MAX_JSON_STRING` characters, and no control character or lone surrogate in any string
or key (they would reach the journal, the logs and PostgreSQL, which refuses NUL). The
value it decodes is the one FastAPI validates (`guard.VettedRequest`): the body is parsed
once.
"""

from __future__ import annotations

import json
import re
from typing import Any, Final

from starlette.types import Message, Receive

from ordergate.domain.errors import MalformedRequest, PayloadTooLarge, RequestTimedOut

MAX_JSON_DEPTH: Final = 32
MAX_JSON_STRING: Final = 4096

_FORBIDDEN_CHARACTERS: Final = re.compile("[\x00-\x1f\x7f\ud800-\udfff]")


def declared_length(headers: list[tuple[bytes, bytes]]) -> int | None:
    """The request's `Content-Length`, if it sent one (h11 has checked it is a number)."""
    for name, value in headers:
        if name == b"content-length":
            return int(value)
    return None


def refuse_declared(length: int | None, limit: int) -> None:
    """`PayloadTooLarge` before reading, if the declared length is over `limit`."""
    if length is not None and length > limit:
        raise too_large(limit)


def too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than this route's limit of {limit} bytes")


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, refused with `PayloadTooLarge` as soon as it passes `limit`.

    The caller bounds the time (`asyncio.timeout`). A client that leaves before its body
    is whole gets `RequestTimedOut` (`CLIENT_GONE`), an answer nobody will read.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            raise RequestTimedOut("the client left before its body arrived", code="CLIENT_GONE")
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise too_large(limit)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def body_timed_out(seconds: float) -> RequestTimedOut:
    return RequestTimedOut(f"the request body did not arrive within {seconds:g} s")


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the body read here to the app, then defers to the client's."""
    pending: list[Message] = [{"type": "http.request", "body": body, "more_body": False}]

    async def replayed() -> Message:
        if pending:
            return pending.pop()
        return await receive()

    return replayed


def is_json(headers: list[tuple[bytes, bytes]]) -> bool:
    """Whether FastAPI would parse this body as JSON (`application/json`, `...+json`)."""
    for name, value in headers:
        if name == b"content-type":
            media = value.split(b";", 1)[0].strip().lower()
            return media == b"application/json" or (
                media.startswith(b"application/") and media.endswith(b"+json")
            )
    return False


def vet_json(body: bytes) -> Any:
    """The decoded document, or `MalformedRequest` (with its reason code) unless `body`
    is JSON the API accepts."""
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedRequest(
            f"the body is not UTF-8 (byte {exc.start})", code="BODY_NOT_UTF8"
        ) from None
    try:
        value = json.loads(text, object_pairs_hook=_unique_keys)
    except RecursionError:
        raise _too_deep() from None
    except json.JSONDecodeError as exc:
        raise MalformedRequest(
            f"the body is not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}",
            code="JSON_INVALID",
        ) from None
    except ValueError as exc:  # an integer of more digits than Python converts
        raise MalformedRequest(f"the body is not usable JSON: {exc}", code="JSON_INVALID") from None
    _check_tree(value)
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise MalformedRequest(
                    f"the key {_quoted(key)} appears twice in one object",
                    code="JSON_DUPLICATE_KEY",
                )
            seen.add(key)
    return result


def _check_tree(value: Any) -> None:
    """Walk the decoded value without recursion: depth, string lengths, characters."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, str):
            _check_string(node)
        elif isinstance(node, dict | list):
            if depth > MAX_JSON_DEPTH:
                raise _too_deep()
            if isinstance(node, dict):
                for key, item in node.items():
                    _check_string(key)
                    stack.append((item, depth + 1))
            else:
                stack.extend((item, depth + 1) for item in node)


def _check_string(text: str) -> None:
    if len(text) > MAX_JSON_STRING:
        raise MalformedRequest(
            f"a string of the body is longer than {MAX_JSON_STRING} characters",
            code="JSON_STRING_TOO_LONG",
        )
    found = _FORBIDDEN_CHARACTERS.search(text)
    if found is not None:
        raise MalformedRequest(
            f"a string of the body holds the control character U+{ord(found.group()):04X}",
            code="CONTROL_CHARACTER",
        )


def _too_deep() -> MalformedRequest:
    return MalformedRequest(
        f"the body nests deeper than {MAX_JSON_DEPTH} levels", code="JSON_TOO_DEEP"
    )


def _quoted(key: str) -> str:
    return json.dumps(key[:64])  # escaped: a key is shown, never its control characters
