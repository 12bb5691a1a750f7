"""The OpenAPI document and the interactive docs (Swagger UI 5, which reads OpenAPI 3.1), served
from local assets: they work with no internet access, and the page asks no other origin for
anything (no online validator, no CDN, no fonts)."""

from __future__ import annotations

from collections.abc import Callable
from importlib.resources import files
from typing import Any

from fastapi import FastAPI
from fastapi.encoders import jsonable_encoder
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.models import OpenAPI
from fastapi.staticfiles import StaticFiles
from pydantic import TypeAdapter

from skillsession.http.schemas import REF_TEMPLATE, SHAPES

ASSETS = "/docs/assets"
# Swagger UI's dist files (swagger-ui-dist 5.33.1 from npm, byte for byte), as the pinned
# `fastapi-standalone-docs` package ships them; only its files are used, not its patching
SWAGGER_UI_PACKAGE = "fastapi_standalone_docs"
SWAGGER_UI_PARAMETERS = {
    "validatorUrl": None,  # no badge that sends the document to validator.swagger.io
    "displayOperationId": True,  # the method names of generated clients
}


def swagger_ui_dir() -> str:
    return str(files(SWAGGER_UI_PACKAGE) / "static" / "swagger")


def install(app: FastAPI) -> None:
    app.mount(ASSETS, StaticFiles(directory=swagger_ui_dir()), name="docs-assets")
    app.openapi = with_shapes(app, app.openapi)  # type: ignore[method-assign]

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui():
        return get_swagger_ui_html(
            openapi_url="/openapi.json",
            title=f"{app.title} — API",
            swagger_js_url=f"{ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS}/swagger-ui.css",
            swagger_favicon_url="data:,",  # none: no request for /favicon.ico either
            swagger_ui_parameters=SWAGGER_UI_PARAMETERS,
        )


def with_shapes(
    app: FastAPI, openapi: Callable[[], dict[str, Any]]
) -> Callable[[], dict[str, Any]]:
    """FastAPI's `app.openapi` (which builds the document once and keeps it in
    `app.openapi_schema`) plus the response shapes the routes refer to (http/schemas.py)."""

    def document() -> dict[str, Any]:
        doc = openapi()
        if not SHAPES.keys() <= doc.get("components", {}).get("schemas", {}).keys():
            app.openapi_schema = doc = add_shapes(doc)
        return doc

    return document


def add_shapes(doc: dict[str, Any]) -> dict[str, Any]:
    """The document with the JSON Schema of the shapes (and of the models they use) among the
    components, in name order and through FastAPI's own last step (its OpenAPI model, without
    None values: so no `"default": null`), as if FastAPI had seen them."""
    _, top = TypeAdapter.json_schemas(
        [(shape, "serialization", TypeAdapter(shape)) for shape in SHAPES.values()],
        ref_template=REF_TEMPLATE,
    )
    shapes = top.get("$defs", {})
    components = doc.setdefault("components", {})
    known = components.get("schemas", {})
    if clash := shapes.keys() & known.keys():
        raise ValueError(f"response shapes named like request models: {sorted(clash)}")
    components["schemas"] = dict(sorted({**known, **shapes}.items()))
    return jsonable_encoder(OpenAPI(**doc), by_alias=True, exclude_none=True)
