"""Usage accounting shared by the body and stream checks."""

from __future__ import annotations

from typing import Any


def usage_problems(response: Any) -> list[tuple[str, str, Any, Any]]:
    """(pointer, message, expected, received) for usage totals that do not add up."""
    usage = response.get("usage") if isinstance(response, dict) else None
    if not isinstance(usage, dict):
        return []
    out: list[tuple[str, str, Any, Any]] = []
    inp, outp, total = usage.get("input_tokens"), usage.get("output_tokens"), usage.get("total_tokens")
    if isinstance(inp, int) and isinstance(outp, int) and isinstance(total, int) and inp + outp != total:
        out.append(("/usage/total_tokens", "total_tokens is not input_tokens + output_tokens", inp + outp, total))
    for part, whole, detail in (
        ("input_tokens_details", inp, "cached_tokens"),
        ("output_tokens_details", outp, "reasoning_tokens"),
    ):
        details = usage.get(part)
        value = details.get(detail) if isinstance(details, dict) else None
        if isinstance(value, int) and isinstance(whole, int) and value > whole:
            out.append((f"/usage/{part}/{detail}", f"{detail} exceeds its total", f"<= {whole}", value))
    return out


def usage_missing(response: Any) -> bool:
    """A completed response without a usage object."""
    return (
        isinstance(response, dict)
        and response.get("status") == "completed"
        and not isinstance(response.get("usage"), dict)
    )
