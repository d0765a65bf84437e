"""Plain Draft 2020-12 validation of recordings against a bundle: the yardstick the tests use to
judge the spec itself (the conformance engine has its own, faster path)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from generator.spec_view import stream_event_types


class BundleValidator:
    """Validators for `Response`, the error envelope and each stream event, from one bundle."""

    def __init__(self, bundle: dict[str, Any]) -> None:
        self.components = bundle["components"]
        self.events = {tag: self._validator(name) for tag, name in stream_event_types(bundle).items()}
        self.response = self._validator("Response")
        self.error = self._validator("ErrorResponse")

    def _validator(self, name: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": self.components})

    def errors(self, path: Path) -> Iterator[str]:
        """Every schema error in a recording, as 'where: message' lines."""
        text = path.read_text(encoding="utf-8")
        if path.name.endswith(".error.json"):
            yield from self._report("body", self.error, json.loads(text))
        elif path.suffix == ".json":
            yield from self._report("body", self.response, json.loads(text))
        else:
            for number, payload in enumerate(_payloads(text)):
                validator = self.events.get(str(payload.get("type")))
                if validator is None:
                    yield f"event {number}: unknown type {payload.get('type')!r}"
                else:
                    yield from self._report(f"event {number}", validator, payload)

    @staticmethod
    def _report(where: str, validator: Draft202012Validator, value: Any) -> Iterator[str]:
        for error in validator.iter_errors(value):
            pointer = "".join(f"/{p}" for p in error.absolute_path)
            yield f"{where} {pointer or '/'}: {error.message[:160]}"


def _payloads(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                yield json.loads(data)
