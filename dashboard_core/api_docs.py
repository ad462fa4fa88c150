"""The API's ReDoc page with nothing fetched from outside the machine.

fastapi_offline ships ReDoc's script, but that script still shows Redocly's logo
from ``cdn.redoc.ly`` under the menu: a request out of a closed network (refused,
and an error in the browser's console). The page here serves the same script with
that image swapped for an empty inline one. Swagger UI (``/api/docs``) needs no such
change once its online validator is off (``SWAGGER_PARAMETERS``).
"""

from __future__ import annotations

import logging
from pathlib import Path

import fastapi_offline
from fastapi import FastAPI, Request
from fastapi.openapi.docs import get_redoc_html
from fastapi.responses import HTMLResponse, Response

log = logging.getLogger(__name__)

REDOC_JS = Path(fastapi_offline.__file__).parent / "static" / "redoc.standalone.js"
CDN_LOGO = b"https://cdn.redoc.ly/redoc/logo-mini.svg"
NO_LOGO = b"data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='1' height='1'/%3E"
# Swagger UI would otherwise show a badge from validator.swagger.io for a document it can reach.
SWAGGER_PARAMETERS = {"validatorUrl": None}


def redoc_script() -> bytes:
    """ReDoc's script without the CDN logo. Read on each request (1 MB, asked for rarely)
    rather than kept for the server's life."""
    script = REDOC_JS.read_bytes()
    if CDN_LOGO not in script:
        log.warning("ReDoc's script no longer has %s: check it for other outside URLs", CDN_LOGO.decode())
    return script.replace(CDN_LOGO, NO_LOGO)


def add_redoc(api: FastAPI, static_url: str = "/static-offline-docs") -> None:
    """``/redoc`` and its script ``/redoc/redoc.standalone.js`` (give ``redoc_url=None``
    to ``FastAPIOffline``, whose own page would use the unpatched script)."""

    @api.get("/redoc", include_in_schema=False)
    async def redoc_html(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return get_redoc_html(
            openapi_url=f"{root}{api.openapi_url}",
            title=f"{api.title} - ReDoc",
            redoc_js_url=f"{root}/redoc/redoc.standalone.js",
            redoc_favicon_url=f"{root}{static_url}/favicon.png",
            with_google_fonts=False,
        )

    @api.get("/redoc/redoc.standalone.js", include_in_schema=False)
    def redoc_js() -> Response:
        return Response(redoc_script(), media_type="text/javascript")
