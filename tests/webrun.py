"""`bot run` with the console adapter and the web console, as a process the tests type into.

What the bot sends comes back as JSON lines (`--jsonl`), so a test can wait for the answer
a browser action posts in the simulated group.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import re
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from tests.webkit import write_deployment

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class BotProcess:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        path = write_deployment(directory)
        self.port = free_port()
        text = path.read_text(encoding="utf-8")
        # Plain http on the loopback: cookies without `secure`, links to this port.
        text = text.replace("  public_url: https://console.example.org\n",
                            f"  port: {self.port}\n  secure_cookies: false\n")
        path.write_text(text, encoding="utf-8")
        self.url = f"http://127.0.0.1:{self.port}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
        env.pop("QUNBOT_CONFIG", None)
        self.process = subprocess.Popen(
            [sys.executable, "-m", "bot", "run", "-c", str(path), "--jsonl"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
            cwd=directory, env=env)
        self.lines: queue.Queue[str] = queue.Queue()
        self.sent: list[dict[str, Any]] = []
        self.output: list[str] = []
        threading.Thread(target=self._read, daemon=True).start()
        self._wait_until_serving()

    def _read(self) -> None:
        assert self.process.stdout is not None
        for raw in self.process.stdout:
            self.lines.put(raw.decode("utf-8", errors="replace"))

    def _drain(self) -> None:
        while True:
            try:
                line = self.lines.get_nowait()
            except queue.Empty:
                return
            self.output.append(line)
            start = line.find("{")
            if start >= 0:
                with contextlib.suppress(ValueError):  # a line that only looks like JSON
                    self.sent.append(json.loads(line[start:]))

    def _wait_until_serving(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                self._drain()
                raise RuntimeError("bot run ended:\n" + "".join(self.output))
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        raise TimeoutError("the web console did not start")

    def type(self, *lines: str) -> None:
        assert self.process.stdin is not None
        for line in lines:
            self.process.stdin.write((line + "\n").encode("utf-8"))
        self.process.stdin.flush()

    def wait_for(self, predicate: Any, timeout: float = 60) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._drain()
            found = next((m for m in self.sent if predicate(m)), None)
            if found is not None:
                return found
            time.sleep(0.05)
        raise TimeoutError("not sent; the bot's output:\n" + "".join(self.output[-40:]))

    def login_link(self, person: str) -> str:
        before = len(self.sent)
        self.type(f"/as {person}", "后台")
        sent = self.wait_for(lambda m: self.sent.index(m) >= before and m.get("to") == person)
        match = re.search(r"http://127\.0\.0\.1:\d+/login/[\w-]+", sent["text"])
        assert match, sent
        return match.group(0)

    def stop(self) -> str:
        if self.process.poll() is None:
            self.type("/quit")
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self._drain()
        return "".join(self.output)
