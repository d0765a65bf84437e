"""Bodies of operations that do not return a `Response` (input items, token counts) are checked
against their own schema, live and in replay (the sidecar's `operation` says which)."""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from respkit.conformance.engine import check_operation_body
from respkit.conformance.replay import load_recording, replay
from respkit.conformance.server import run_server


def _items_page() -> bytes:
    with run_server() as url:
        headers = {"Authorization": "Bearer k"}
        created = httpx.post(f"{url}/responses", json={"model": "gpt-4.1", "input": "hi"}, headers=headers).json()
        return httpx.get(f"{url}/responses/{created['id']}/input_items", headers=headers).content


def test_a_valid_page_passes_and_a_broken_one_fails() -> None:
    page = _items_page()
    assert check_operation_body(page, "ResponseItemList", operation="listInputItems", profile="strict") == []
    broken = json.loads(page)
    broken["data"] = "not a list"
    found = check_operation_body(json.dumps(broken), "ResponseItemList", operation="listInputItems")
    assert [f.check for f in found] == ["operation_response_matches_schema"]
    assert found[0].pointer == "/data" and found[0].fails


def test_replay_reads_the_operation_from_the_sidecar(tmp_path: Path) -> None:
    page = json.loads(_items_page())
    page["has_more"] = "yes"
    (tmp_path / "items.json").write_text(json.dumps(page))
    (tmp_path / "items.meta.yaml").write_text("provider: openai\nprofile: openai\noperation: listInputItems\n")
    assert load_recording(tmp_path / "items.json").operation == "listInputItems"
    [result] = replay([tmp_path])
    failed = [(f.check, f.pointer) for f in result.findings if f.fails]
    assert failed == [("operation_response_matches_schema", "/has_more")]


def test_any_operation_body_must_be_json_served_as_json() -> None:
    # found by `respkit selftest` on the reference server's own traffic: these passed unchecked before
    page = _items_page()
    served_as_html = check_operation_body(
        page, "ResponseItemList", operation="listInputItems", content_type="text/html"
    )
    assert [(f.check, f.fails) for f in served_as_html] == [("response_content_type_json", True)]
    deleted = b'{"id": "resp_1", "object": "response", "deleted": true}'
    assert check_operation_body(deleted, None, operation="deleteResponse", profile="strict") == []
    cut = check_operation_body(deleted[:-1], None, operation="deleteResponse")
    assert [(f.check, f.fails) for f in cut] == [("response_is_json", True)]
