"""The errata in spec/errata/ are complete for OpenAI's own traffic, and each one is needed."""

from __future__ import annotations

import json
from typing import Any

import pytest

from respkit.generator.overlay import apply_entries
from tests.paths import CORPUS, REPO
from tests.schema_tools import BundleValidator

BUNDLE: dict[str, Any] = json.loads((REPO / "generated" / "schema.json").read_text(encoding="utf-8"))
ERRATA: list[dict[str, Any]] = BUNDLE["x-respkit-errata"]
OPENAI = sorted(p for p in (CORPUS / "openai").iterdir() if p.is_file()) if CORPUS.is_dir() else []
pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason=f"needs the shared corpus: {CORPUS} is absent")


@pytest.fixture(scope="module")
def lenient() -> BundleValidator:
    return BundleValidator(apply_entries(BUNDLE, ERRATA))


@pytest.fixture(scope="module")
def strict() -> BundleValidator:
    return BundleValidator(BUNDLE)


def test_the_published_spec_rejects_most_of_openais_own_json_bodies(strict: BundleValidator) -> None:
    bodies = [p for p in OPENAI if p.suffix == ".json" and not p.name.endswith(".error.json")]
    failing = [p.name for p in bodies if any(strict.errors(p))]
    assert len(failing) > len(bodies) / 2, failing


@pytest.mark.parametrize("path", OPENAI, ids=lambda p: p.name)
def test_openai_recording_fits_spec_plus_errata(path: Any, lenient: BundleValidator) -> None:
    errors = list(lenient.errors(path))
    assert errors == [], f"{path.name}: a disagreement with the spec that no erratum lists:\n" + "\n".join(errors[:10])


@pytest.mark.parametrize("index", range(len(ERRATA)), ids=lambda i: f"{ERRATA[i]['op']}:{ERRATA[i]['target']}")
def test_each_erratum_is_needed_by_its_evidence(index: int) -> None:
    entry = ERRATA[index]
    assert entry["kind"] in {"erratum", "drift"} and entry["why"] and entry["evidence"], entry
    without = BundleValidator(apply_entries(BUNDLE, [e for i, e in enumerate(ERRATA) if i != index]))
    for name in entry["evidence"]:
        path = CORPUS / name
        assert path.is_file(), f"evidence {name} is not in the corpus"
        assert any(without.errors(path)), f"{name} passes without the erratum on {entry['target']}"
