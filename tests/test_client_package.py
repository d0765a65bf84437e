"""`respkit generate --out DIR --package NAME` gives a self-contained client package: it imports neither
respkit's modules nor `generated`, and talks to a server on its own; importing it stays lazy."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from respkit.conformance.server import run_server
from tests.paths import REPO

USER_SCRIPT = """
import json, sys
from myresponses import ResponsesClient, output_text
with ResponsesClient(base_url=sys.argv[1], api_key="sk-user") as client:
    text = output_text(client.responses.create(model="gpt-4.1", input="from a user package"))
    with client.responses.create(model="gpt-4.1", input="streamed", stream=True) as stream:
        streamed = stream.get_final_text()
mine = sorted({name.split(".")[0] for name in sys.modules} & {"generated", "generator", "conformance", "respkit"})
print(json.dumps({"text": text, "streamed": streamed, "respkit_modules": mine}))
"""

LAZY = """
import json, sys
import myresponses
from myresponses import ResponsesClient, RateLimitError
heavy = ("httpx", "pydantic", "myresponses.models", "myresponses.events")
print(json.dumps(sorted(m for m in heavy if m in sys.modules)))
"""


@pytest.mark.slow
def test_generated_package_is_self_contained_and_lazy(tmp_path: Path) -> None:
    made = subprocess.run(
        [sys.executable, "-m", "respkit.conformance", "generate", "--out", str(tmp_path), "--package", "myresponses"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert made.returncode == 0, made.stderr
    package = tmp_path / "myresponses"
    for path in package.glob("*.py"):
        source = path.read_text()
        assert "import generated" not in source and "from generated" not in source, path.name
        assert "from generator" not in source and "from conformance" not in source, path.name
    isolated = [sys.executable, "-I", "-c"]  # -I: no current directory, no user site: only the venv + tmp_path
    env_path = (
        # drop the repository itself from the path (not the venv, which may live inside it)
        f"import sys; sys.path.insert(0, {str(tmp_path)!r}); sys.path = [p for p in sys.path if p != {str(REPO)!r}]"
    )
    with run_server(api_keys={"sk-user"}) as url:
        out = subprocess.run(
            [*isolated, env_path + "\n" + USER_SCRIPT, url], capture_output=True, text=True, timeout=120
        )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result == {"text": "You said: from a user package", "streamed": "You said: streamed", "respkit_modules": []}
    lazy = subprocess.run([*isolated, env_path + "\n" + LAZY], capture_output=True, text=True, timeout=120)
    assert lazy.returncode == 0, lazy.stderr
    assert json.loads(lazy.stdout) == []
