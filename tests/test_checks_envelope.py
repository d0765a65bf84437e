"""JSON bodies and error envelopes."""

from __future__ import annotations

from respkit.conformance.engine import check_error, check_json_body
from tests.stream_builder import body_findings, corpus, error_findings, failures

ERR_401 = "openai/error_401_invalid_api_key.error.json"


def test_openai_errors_pass() -> None:
    assert failures(error_findings(ERR_401, 401)) == set()
    assert failures(error_findings("openai/error_400_model_not_found.error.json", 400)) == set()


def test_response_is_json() -> None:
    assert "response_is_json" in failures(check_json_body(b"{oops", profile="openai"))


def test_response_content_type_json() -> None:
    assert "response_content_type_json" in failures(body_findings("openai/text_basic.json", content_type="text/html"))


def test_response_usage_present() -> None:
    found = body_findings("openai/text_basic.json", lambda b: {**b, "usage": None})
    assert "response_usage_present" in failures(found)


def test_response_usage_totals_add_up() -> None:
    def edit(b: dict) -> dict:  # type: ignore[type-arg]
        b["usage"]["output_tokens_details"]["reasoning_tokens"] = 10**6
        return b

    found = [f for f in body_findings("openai/text_basic.json", edit) if f.check == "response_usage_totals_add_up"]
    assert found[0].pointer == "/usage/output_tokens_details/reasoning_tokens"


def test_error_is_json() -> None:
    assert "error_is_json" in failures(check_error(502, None, b"<html>Bad gateway</html>", profile="openai"))


def test_error_content_type_json() -> None:
    assert "error_content_type_json" in failures(error_findings(ERR_401, 401, content_type="text/plain"))


def test_error_matches_envelope_without_envelope() -> None:
    found = error_findings(ERR_401, 401, lambda b: b["error"])
    assert "error_matches_envelope" in failures(found)


def test_error_matches_envelope_extra_members() -> None:
    found = error_findings(ERR_401, 401, lambda b: {**b, "success": False})
    assert [f.pointer for f in found if f.check == "error_matches_envelope"] == ["/success"]


def test_error_status_matches_type() -> None:
    assert "error_status_matches_type" in failures(error_findings(ERR_401, 500))
    assert "error_status_matches_type" in failures(error_findings("openai/error_400_model_not_found.error.json", 429))


def test_a_401_must_say_authentication() -> None:
    def edit(b: dict) -> dict:  # type: ignore[type-arg]
        return {"error": {**b["error"], "code": None, "type": "invalid_request_error"}}

    assert "error_status_matches_type" in failures(error_findings(ERR_401, 401, edit))


def test_error_retry_after_on_429() -> None:
    quota = "openai/error_insufficient_quota.error.json"
    assert "error_retry_after_on_429" in failures(
        error_findings(quota, 429, headers={"content-type": "application/json"})
    )
    assert failures(error_findings(quota, 429, headers={"retry-after": "20"})) == set()


def test_acedata_envelope_is_a_finding() -> None:
    body = (corpus("..").parent / "main").exists()  # the seed-derived recording ships with respkit
    assert body is not None
    from respkit.conformance.recordings import HERE

    raw = (HERE / "acedata" / "error_api_error.error.json").read_bytes()
    strict = check_error(500, None, raw, profile="openai")
    assert {f.pointer for f in strict if f.check == "error_matches_envelope" and f.fails} >= {"/error/type", "/success"}
    known = check_error(500, None, raw, profile="acedata")
    assert not failures(known) and any(f.check == "error_matches_envelope" for f in known)


def test_deepseek_octet_stream_is_its_deviation() -> None:
    raw = corpus("deepseek/error_400_no_tool_output.error.json").read_bytes()
    found = check_error(400, None, raw, content_type="application/octet-stream", profile="deepseek")
    assert not failures(found) and [f.check for f in found] == ["error_content_type_json"]
