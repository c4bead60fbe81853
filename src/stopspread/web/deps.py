"""Request dependencies: the shared services, the calling platform client, the case."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from fastapi import Depends, Header, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.concurrency import run_in_threadpool

from stopspread.errors import AuthError
from stopspread.services import cases
from stopspread.services.context import Services
from stopspread.services.platform import ClientDirectory, ClientInfo, check_limits
from stopspread.web.pages import Pages

__all__ = [
    "CaseId",
    "Client",
    "PagesDep",
    "Svc",
    "client_address",
    "current_client",
    "json_body",
    "parse_json",
]

M = TypeVar("M", bound=BaseModel)

BEARER = "bearer "


# Dependencies are ``async def`` on purpose: FastAPI runs plain ``def`` ones in a thread
# pool, and three thread hops per request would cost more than the match itself.


async def get_services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


async def get_clients(request: Request) -> ClientDirectory:
    clients: ClientDirectory = request.app.state.clients
    return clients


def client_address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


Svc = Annotated[Services, Depends(get_services)]


async def get_pages(request: Request) -> Pages:
    pages: Pages = request.app.state.pages
    return pages


PagesDep = Annotated[Pages, Depends(get_pages)]


async def _client_dependency(
    svc: Svc,
    clients: Annotated[ClientDirectory, Depends(get_clients)],
    authorization: Annotated[str | None, Header()] = None,
) -> ClientInfo:
    return await current_client(svc, clients, authorization)


async def current_client(
    svc: Services, clients: ClientDirectory, authorization: str | None
) -> ClientInfo:
    """The platform calling, from ``Authorization: Bearer <key>``; counts against its limits."""
    key = None
    if authorization and authorization[: len(BEARER)].lower() == BEARER:
        key = authorization[len(BEARER) :].strip()
    client = clients.authenticate(key)
    check_limits(svc, client)
    return client


Client = Annotated[ClientInfo, Depends(_client_dependency)]


async def parse_json(request: Request, model: type[M]) -> M:
    """The body validated against ``model``; errors take the usual 422 shape."""
    try:
        return model.model_validate_json(await request.body())
    except ValidationError as exc:
        raise RequestValidationError(exc.errors(include_input=False)) from None


def json_body(model: type[BaseModel]) -> dict[str, Any]:
    """OpenAPI for a JSON body a route parses itself (see :func:`parse_json`)."""
    schema = {"content": {"application/json": {"schema": _inlined(model.model_json_schema())}}}
    return {"requestBody": {**schema, "required": True}}


def _inlined(schema: dict[str, Any]) -> dict[str, Any]:
    """The model's JSON schema with its ``$defs`` written in place of each ``$ref``.

    Pydantic points nested models at ``#/$defs/Name``, which inside the OpenAPI document
    resolves against the document's root, where there is no ``$defs`` (found by schemathesis).
    """
    defs = schema.pop("$defs", {})

    def inline(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return inline(defs[ref.removeprefix("#/$defs/")])
            return {key: inline(value) for key, value in node.items()}
        if isinstance(node, list):
            return [inline(value) for value in node]
        return node

    result: dict[str, Any] = inline(schema)
    return result


async def current_case(
    code: str,
    request: Request,
    svc: Svc,
    x_case_secret: Annotated[str | None, Header()] = None,
) -> int:
    """The case id, once ``X-Case-Secret`` has proved the code (rate-limited)."""
    if not x_case_secret:
        raise AuthError("the case secret is needed: X-Case-Secret header")
    address = client_address(request)
    return await run_in_threadpool(cases.authenticate, svc, code, x_case_secret, address)


CaseId = Annotated[int, Depends(current_case)]
