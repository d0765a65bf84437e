"""The user cache: a kept parse is what libyaml gives, kept models are what datamodel-code-generator gives
for the same input (and only for it), an entry that does not verify or names anything but plain data is
done again, and the cache keeps at most `KEPT` entries of each kind."""

from __future__ import annotations

import datetime
import hashlib
import pickle
from pathlib import Path

import pytest

from respkit.generator import cache, models, source

SPEC_TEXT = b"openapi: 3.1.0\ninfo: {title: t, version: 2026-06-01}\npaths: {/responses: {}}\nx-codes: {200: ok}\n"


@pytest.fixture(autouse=True)
def own_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("RESPKIT_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(source, "_PARSED", {})  # nothing from this process's own memos
    monkeypatch.setattr(models, "_GENERATED", {})
    return tmp_path / "cache" / "parsed"


def _parse(data: bytes = SPEC_TEXT) -> dict[str, object]:
    source._PARSED.clear()
    return source.parse("spec.yaml", data)


def test_a_kept_parse_is_the_parse(own_cache: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first = _parse()
    [entry] = list(own_cache.iterdir())
    monkeypatch.setattr(source, "_parse", None)  # the second read must not parse
    again = _parse()
    assert again == first and again["info"] == {"title": "t", "version": datetime.date(2026, 6, 1)}
    assert again["x-codes"] == {200: "ok"}  # keys keep their YAML types
    assert entry.name.startswith(hashlib.sha256(SPEC_TEXT).hexdigest())


def test_an_entry_that_does_not_verify_is_parsed_again(own_cache: Path) -> None:
    _parse()
    [entry] = list(own_cache.iterdir())
    data = entry.read_bytes()
    forged = pickle.dumps({"openapi": "3.1.0", "paths": {"/forged": {}}})
    entry.write_bytes(data[:32] + forged)  # the digest no longer matches
    assert "/forged" not in _parse()["paths"]  # type: ignore[operator]


def test_an_entry_naming_a_class_is_refused(own_cache: Path) -> None:
    _parse()
    [entry] = list(own_cache.iterdir())
    payload = pickle.dumps({"openapi": "3.1.0", "paths": {}, "f": Path("x")})
    entry.write_bytes(hashlib.sha256(payload).digest() + payload)  # verifies, but names pathlib's class
    assert cache.load_parsed(entry.name.rsplit(".py", 1)[0]) is None
    assert _parse()["paths"] == {"/responses": {}}


def test_the_cache_keeps_at_most_kept_entries(own_cache: Path) -> None:
    for n in range(cache.KEPT + 3):
        _parse(SPEC_TEXT + f"x-n: {n}\n".encode())
    assert len(list(own_cache.iterdir())) == cache.KEPT


TINY = {
    "openapi": "3.1.0",
    "info": {"title": "t", "version": "1"},
    "paths": {},
    "components": {"schemas": {"Thing": {"type": "object", "properties": {"name": {"type": "string"}}}}},
}


def test_models_are_generated_once_per_input(monkeypatch: pytest.MonkeyPatch, own_cache: Path) -> None:
    runs: list[str] = []
    real = models._codegen

    def counted(text: str) -> str:
        runs.append(text)
        return real(text)

    monkeypatch.setattr(models, "_codegen", counted)
    first = models.generate_models(TINY, "# one")
    models._GENERATED.clear()  # a new process: what is on disk
    assert models.generate_models(TINY, "# one") == first and len(runs) == 1
    assert first.startswith("# one\n") and "class Thing(" in first
    other = models.generate_models(TINY, "# two")  # another header (spec name, sha256): the same run's output
    assert len(runs) == 1 and other == "# two" + first.removeprefix("# one")
    models.generate_models({**TINY, "info": {"title": "u", "version": "1"}}, "# one")  # another document
    assert len(runs) == 2
    monkeypatch.setattr(models, "CODEGEN_OPTIONS", {**models.CODEGEN_OPTIONS, "use_double_quotes": False})
    models.generate_models(TINY, "# one")  # other options: generated
    monkeypatch.setattr(models, "codegen_version", lambda: "0.0.0")
    models.generate_models(TINY, "# one")  # another version of datamodel-code-generator: generated
    assert len(runs) == 4
