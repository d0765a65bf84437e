"""Query parameters: integers within bounds, and cursor pagination (`after`, `before`, `limit`, `order`)."""

from __future__ import annotations

from typing import Any

from starlette.datastructures import QueryParams

from respkit.conformance.server.errors import bad_request

Item = dict[str, Any]


def query_int(query: QueryParams, name: str, default: int, low: int, high: int) -> int:
    raw = query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise bad_request(f"Invalid '{name}': expected an integer, got '{raw[:40]}'.", param=name) from None
    if not low <= value <= high:
        raise bad_request(f"Invalid '{name}': must be between {low} and {high}.", param=name)
    return value


def query_bool(query: QueryParams, name: str, default: bool) -> bool:
    raw = query.get(name)
    if raw is None:
        return default
    if raw.lower() not in ("true", "false"):
        raise bad_request(f"Invalid '{name}': expected 'true' or 'false', got '{raw[:40]}'.", param=name)
    return raw.lower() == "true"


def _cursor(query: QueryParams, name: str, ids: list[str]) -> int | None:
    cursor = query.get(name)
    if cursor is None:
        return None
    if cursor not in ids:
        raise bad_request(f"Invalid '{name}': no item with id '{cursor[:80]}'.", param=name)
    return ids.index(cursor)


def page(items: list[Item], query: QueryParams) -> tuple[list[Item], bool]:
    """One page of `items` (oldest first) as the query asks for it, and whether more lie beyond it.

    `order` is `desc` (newest first) by default; `after` starts past an item, `before` stops short of
    one; with only `before`, the page is the `limit` items just before it."""
    order = query.get("order", "desc")
    if order not in ("asc", "desc"):
        raise bad_request(f"Invalid 'order': expected 'asc' or 'desc', got '{order[:40]}'.", param="order")
    limit = query_int(query, "limit", 20, 1, 100)
    ordered = items if order == "asc" else items[::-1]
    ids = [item["id"] for item in ordered]
    after, before = _cursor(query, "after", ids), _cursor(query, "before", ids)
    window = ordered[(after + 1 if after is not None else 0) : before]
    chosen = window[-limit:] if before is not None and after is None else window[:limit]
    return chosen, len(window) > limit


def list_body(items: list[Item], has_more: bool) -> dict[str, Any]:
    """The list object (`ResponseItemList`); an empty page has empty `first_id` and `last_id` strings."""
    first, last = (items[0]["id"], items[-1]["id"]) if items else ("", "")
    return {"object": "list", "data": items, "first_id": first, "last_id": last, "has_more": has_more}
