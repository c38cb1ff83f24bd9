"""Running the real `bot` command as users and CI do: transcripts in examples/, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_bot(*args: str, timeout: float = 180,
            typed: str | None = None) -> subprocess.CompletedProcess[str]:
    """`bot ARGS…` from the repository's root, with this checkout's code (and `typed` as
    what a person types into the console)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "bot", *args], cwd=ROOT, env=env, input=typed,
                          capture_output=True, text=True, timeout=timeout)


def play(script: str) -> list[dict[str, Any]]:
    """Every message the bot sent while playing examples/SCRIPT (it must exit cleanly)."""
    result = run_bot("run", "--script", f"examples/{script}", "--jsonl")
    assert result.returncode == 0, result.stderr
    return [json.loads(line) for line in result.stdout.splitlines()]
