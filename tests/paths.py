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


def private_cache(folder: Path) -> Path:
    """A cache folder of a test's own (for `RESPKIT_CACHE_DIR`): the spec copies it keeps are that test's
    alone, while the pure work (parsed specs, generated models, drawn schemathesis cases: each a function
    of its key alone) is shared with the cache the rest of the suite uses, so that a test does not parse,
    generate and draw anew."""
    from respkit.generator.cache import cache_root

    shared = cache_root()  # read before the test points RESPKIT_CACHE_DIR at ``folder``
    folder.mkdir(parents=True, exist_ok=True)
    for kind in ("parsed", "models", "cases"):
        try:
            (shared / kind).mkdir(parents=True, exist_ok=True)
            (folder / kind).symlink_to(shared / kind, target_is_directory=True)
        except OSError:  # a user cache that cannot be written: the test does the work itself
            continue
    return folder


def pytest_env(**extra: str) -> dict[str, str]:
    """The environment of a pytest run in a fresh process: this one's, except that pytest may keep the
    modules it rewrites for assertions (every module of an installed plugin's distribution: schemathesis,
    hypothesis), which PYTHONDONTWRITEBYTECODE forbids it: rewritten anew, they cost each run ~3 s of start."""
    import os

    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return {**env, **extra}
