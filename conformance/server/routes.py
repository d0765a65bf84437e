"""The operations the spec lists under /responses, served under /v1 (one handler per operation)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse

from respkit.conformance.served_models import is_served
from respkit.conformance.server import events, model, sse
from respkit.conformance.server.chat import chat_completion
from respkit.conformance.server.compaction import compacted
from respkit.conformance.server.conversation import Resolver, check_pairs
from respkit.conformance.server.errors import ApiError, bad_request
from respkit.conformance.server.guards import read_json
from respkit.conformance.server.items import input_items
from respkit.conformance.server.query import list_body, page, query_bool, query_int
from respkit.conformance.server.record import Record
from respkit.conformance.server.sizing import record_bytes
from respkit.conformance.server.state import ServerState

Handler = Callable[[Request, ServerState], Awaitable[Response]]


def state_of(request: Request) -> ServerState:
    server: ServerState = request.app.state.server
    return server


async def body_of(request: Request, server: ServerState) -> dict[str, Any]:
    schema: str | None = request.state.operation.request_schema
    return await read_json(request, schema, server.max_body_bytes, server.read_timeout)


def json_response(server: ServerState, body: dict[str, Any]) -> JSONResponse:
    return JSONResponse(server.quirk.body(body) if body.get("object") == "response" else body)


def stream_response(
    server: ServerState,
    stream: AsyncIterator[events.Event],
    model_name: str,
    ready: bool = False,
    obfuscate: bool = True,
) -> StreamingResponse:
    return StreamingResponse(
        sse.encode(stream, server.quirk, model_name, ready, obfuscate),
        media_type=server.quirk.stream_media_type,
        headers={"Cache-Control": "no-cache"},
    )


def _history(server: ServerState, previous_id: Any) -> list[dict[str, Any]]:
    if not isinstance(previous_id, str):
        return []
    previous = server.store.previous(previous_id)
    return [*previous.history, *previous.input_items, *previous.output()]


def _obfuscate(body: dict[str, Any]) -> bool:
    """`stream_options.include_obfuscation`: on unless set to false, as OpenAI does."""
    options = body.get("stream_options")
    return not (isinstance(options, dict) and options.get("include_obfuscation") is False)


def _check_model(body: dict[str, Any]) -> None:
    """A model the server documents (`respkit serve --help`), else OpenAI's 400 `model_not_found`."""
    name = body.get("model")
    if isinstance(name, str) and not is_served(name):
        raise bad_request(f"The requested model '{name}' does not exist.", param="model", code="model_not_found")


def _check_create(body: dict[str, Any]) -> None:
    if not body.get("model"):
        raise bad_request("Missing required parameter: 'model'.", param="model", code="missing_required_parameter")
    _check_model(body)
    if body.get("background") and body.get("store") is False:
        raise bad_request("Background responses need `store` to be true.", param="background", code="invalid_value")


def _live(record: Record) -> Iterator[events.Event]:
    yield from events.opening(record, queued=False)
    yield events.in_progress(record)
    if record.plan.status != "failed":
        yield from events.body_events(record)
    record.finish()
    yield from events.closing(record)


def _planned(body: dict[str, Any], history: list[dict[str, Any]], resolve: Resolver) -> tuple[Record, int]:
    """The record and the bytes storing it costs: work that grows with the body, so it runs in a thread
    (`asyncio.to_thread`), and a 4 MB body never holds up the other clients. Its conversation is checked
    first: item references resolved, tool calls and outputs paired (`conversation`)."""
    items = input_items(body.get("input"), resolve)
    check_pairs(history, items)
    kept = {key: value for key, value in body.items() if key != "input"}  # the items hold it (a third less)
    record = Record(kept, model.respond(body, history, items), items, history)
    return record, record_bytes(record) if record.stored else 0


async def create(request: Request, server: ServerState) -> Response:
    body = await body_of(request, server)
    _check_create(body)
    history = _history(server, body.get("previous_response_id"))
    record, size = await asyncio.to_thread(_planned, body, history, server.store.item)
    server.store.add(record, size)
    if server.quirk.chat_completion:
        record.finish()
        return JSONResponse(chat_completion(record))
    if record.background:
        job = server.store.start(record)
        if body.get("stream"):
            return stream_response(server, job.follow(-1), body["model"], obfuscate=_obfuscate(body))
        return json_response(server, record.body("queued"))
    if body.get("stream"):
        live = sse.from_iterable(events.numbered(_live(record)))
        return stream_response(server, live, body["model"], ready=True, obfuscate=_obfuscate(body))
    record.finish()
    return json_response(server, record.body())


def _replay(record: Record, after: int) -> Iterator[events.Event]:
    return (e for e in events.numbered(events.all_events(record)) if e["sequence_number"] > after)


async def retrieve(request: Request, server: ServerState) -> Response:
    record = server.store.get(request.path_params["response_id"])
    if not query_bool(request.query_params, "stream", False):
        return json_response(server, record.body())
    after = query_int(request.query_params, "starting_after", -1, -1, 2**31)
    obfuscate = query_bool(request.query_params, "include_obfuscation", True)
    job = server.store.job(record.id)
    model_name = record.request["model"]
    if job:
        return stream_response(server, job.follow(after), model_name, obfuscate=obfuscate)
    replay = sse.from_iterable(_replay(record, after))
    return stream_response(server, replay, model_name, ready=True, obfuscate=obfuscate)


async def delete(request: Request, server: ServerState) -> Response:
    response_id = request.path_params["response_id"]
    await server.store.delete(response_id)
    return JSONResponse({"id": response_id, "object": "response", "deleted": True})


async def cancel(request: Request, server: ServerState) -> Response:
    record = server.store.get(request.path_params["response_id"])
    if not record.background:
        raise bad_request("Only responses created with background=true can be cancelled.", code="invalid_request")
    job = server.store.job(record.id)
    if job:  # else it has finished, and stays as it ended
        await job.cancel()
    return json_response(server, record.body())


async def list_input_items(request: Request, server: ServerState) -> Response:
    record = server.store.get(request.path_params["response_id"])
    return JSONResponse(list_body(*page(record.input_items, request.query_params)))


def _counted(body: dict[str, Any], history: list[dict[str, Any]], resolve: Resolver) -> dict[str, Any]:
    count = model.input_tokens(body, history, input_items(body.get("input"), resolve))
    return {"object": "response.input_tokens", "input_tokens": count}


async def input_tokens(request: Request, server: ServerState) -> Response:
    body = await body_of(request, server)
    _check_model(body)
    history = _history(server, body.get("previous_response_id"))
    return JSONResponse(await asyncio.to_thread(_counted, body, history, server.store.item))


def _compacted(body: dict[str, Any], history: list[dict[str, Any]], resolve: Resolver) -> dict[str, Any]:
    items = [*history, *input_items(body.get("input"), resolve)]
    return compacted(items, model.input_tokens(body, [], items))


async def compact(request: Request, server: ServerState) -> Response:
    body = await body_of(request, server)
    _check_model(body)
    history = _history(server, body.get("previous_response_id"))
    return JSONResponse(await asyncio.to_thread(_compacted, body, history, server.store.item))


#: The handler of each (method, path) the spec lists; an operation without one answers 501.
HANDLERS: dict[tuple[str, str], Handler] = {
    ("POST", "/responses"): create,
    ("GET", "/responses/{response_id}"): retrieve,
    ("DELETE", "/responses/{response_id}"): delete,
    ("POST", "/responses/{response_id}/cancel"): cancel,
    ("GET", "/responses/{response_id}/input_items"): list_input_items,
    ("POST", "/responses/input_tokens"): input_tokens,
    ("POST", "/responses/compact"): compact,
}


async def not_implemented(request: Request, server: ServerState) -> Response:
    raise ApiError(
        501, f"The reference server does not implement {request.method} {request.url.path}.", type="server_error"
    )
