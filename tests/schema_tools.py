"""Plain Draft 2020-12 validation of recordings against a bundle: the yardstick the tests use to
judge the spec itself (the conformance engine has its own, faster path)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator

from respkit.conformance.operations import FALLBACK, infer
from respkit.conformance.schema import SpecValidators
from respkit.generator.spec_view import operations, stream_event_types


class BundleValidator:
    """Validators for each operation's body, the error envelope and each stream event, from one bundle.
    A JSON body is validated against the schema of the operation it answers (told by
    `conformance.operations`, as replay tells it); an event type the spec does not define is not a schema
    matter (the engine reports it as undocumented); an `output_item.added` item is an in-progress snapshot,
    which may lack the finished item's members (the engine's rule, `conformance.checks.schemas._snapshot`)."""

    def __init__(self, bundle: dict[str, Any], snapshots: bool = True) -> None:
        #: False: an added item is held to its full schema (the models read it so; the checks do not)
        self.snapshots = snapshots
        self.components = bundle["components"]
        self.events = {tag: self._validator(name) for tag, name in stream_event_types(bundle).items()}
        self.error = self._validator("ErrorResponse")
        self.bodies = {op.operation_id: op.response_schema for op in operations(bundle)}
        # the engine's validators walk an error to its leaf (a union narrowed to the item's tag), which the
        # snapshot rule needs; the bundle given is used as it is (its own errata list left out)
        self.leaves = SpecValidators({**bundle, "x-respkit-errata": []})
        self.event_names = stream_event_types(bundle)

    def _validator(self, name: str) -> Draft202012Validator:
        return Draft202012Validator({"$ref": f"#/components/schemas/{name}", "components": self.components})

    def errors(self, path: Path) -> Iterator[str]:
        """Every schema error in a recording, as 'where: message' lines."""
        text = path.read_text(encoding="utf-8")
        if path.name.endswith(".error.json"):
            yield from self._report("body", self.error, json.loads(text))
        elif path.suffix == ".json":
            body = json.loads(text)
            schema = self.bodies.get(infer(body).operation or FALLBACK)
            if schema is not None:
                yield from self._report("body", self._validator(schema), body)
        else:
            for number, payload in enumerate(_payloads(text)):
                validator = self.events.get(str(payload.get("type")))
                if validator is None or validator.is_valid(payload):
                    continue
                if not self.snapshots or payload.get("type") != "response.output_item.added":
                    yield from self._report(f"event {number}", validator, payload)
                    continue
                issues = self.leaves.check(self.event_names["response.output_item.added"], payload, strict_only=True)
                yield from (
                    f"event {number} {i.pointer}: {i.message}"
                    for i in issues
                    if not _snapshot_gap(i.pointer, i.message)
                )

    @staticmethod
    def _report(where: str, validator: Draft202012Validator, value: Any) -> Iterator[str]:
        for error in validator.iter_errors(value):
            pointer = "".join(f"/{p}" for p in error.absolute_path)
            yield f"{where} {pointer or '/'}: {error.message[:160]}"


def _snapshot_gap(where: str, message: str) -> bool:
    """An error of an added item's snapshot that the in-progress rule explains: a member it lacks, at any
    depth, beyond its identity."""
    tokens = where.split("/")
    gap = message.endswith("is a required property") and len(tokens) >= 3 and tokens[1] == "item"
    return gap and tokens[-1] not in ("type", "id", "status")


def _payloads(text: str) -> Iterator[dict[str, Any]]:
    for line in text.splitlines():
        if line.startswith("data:"):
            data = line[5:].strip()
            if data and data != "[DONE]":
                yield json.loads(data)
