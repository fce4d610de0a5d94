"""The web blotter: one page at `/` and its files at `/blotter/{asset}`.

Plain HTML, CSS and JavaScript modules shipped in the package (`ordergate/api/web/`),
with no build step and no third-party code (docs/decisions/0023). They are public, as
they hold no data: the page asks for an API key and then calls the API with it like any
client, in the `X-API-Key` header, and reads `GET /v1/stream` for live events.

Every answer carries a strict Content-Security-Policy (scripts, styles and connections to
this origin only, no inline script, no framing), so a string that reaches the page from
the journal (a reason, a strategy name) cannot run as code even if it escaped the page's
own escaping. Left out of the OpenAPI document: they are not API.
"""

from __future__ import annotations

from importlib import resources
from typing import Final

from fastapi import Response

from ordergate.api.edge.guard import guarded_router
from ordergate.domain.errors import NotFound

router = guarded_router(tags=["blotter"])

PAGE_PATH: Final = "/"
ASSET_PATH: Final = "/blotter/{asset}"

_MEDIA_TYPES: Final = {
    "index.html": "text/html; charset=utf-8",
    "blotter.css": "text/css; charset=utf-8",
    "blotter.js": "text/javascript; charset=utf-8",
    "api.js": "text/javascript; charset=utf-8",
    "chart.js": "text/javascript; charset=utf-8",
}

CONTENT_SECURITY_POLICY: Final = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
_HEADERS: Final = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}


def _file(name: str) -> Response:
    media_type = _MEDIA_TYPES.get(name)
    if media_type is None:
        raise NotFound(f"the blotter has no file {name!r}", code="ROUTE_NOT_FOUND")
    body = resources.files("ordergate.api").joinpath("web", name).read_bytes()
    return Response(body, media_type=media_type, headers=_HEADERS)


@router.get(PAGE_PATH, include_in_schema=False)
async def page() -> Response:
    """The blotter's page."""
    return _file("index.html")


@router.get(ASSET_PATH, include_in_schema=False)
async def asset(asset: str) -> Response:
    """One of the page's own files; nothing else is served from here."""
    return _file(asset)
