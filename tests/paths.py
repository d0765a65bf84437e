from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
CORPUS = SHARED / "corpus"
SEEDS = SHARED / "seeds"
SPEC = SHARED / "spec" / "openai-openapi.yaml"
PREVIOUS_SPEC = SHARED / "spec" / "previous" / "openai-openapi.2026-06.yaml"


def corpus_files() -> list[Path]:
    return sorted(p for p in CORPUS.rglob("*") if p.is_file() and p.name != "INDEX.md")
