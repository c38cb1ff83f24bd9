"""A plain install works outside the checkout: the wheel carries migrations and the
starter config, `bot init` writes a deployment, and every example plays with it.

Building and installing takes a minute, so outside CI these run only when asked
(QUNBOT_PACKAGING_TESTS=1); in CI they always run.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = sorted((ROOT / "examples").glob("*.txt"))

pytestmark = pytest.mark.skipif(
    not (os.environ.get("CI") or os.environ.get("QUNBOT_PACKAGING_TESTS")),
    reason="builds a wheel and a fresh venv (~1 min): set QUNBOT_PACKAGING_TESTS=1",
)


def run(*args: str | Path, cwd: Path, timeout: float = 600) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "QUNBOT_CONFIG")}
    result = subprocess.run([str(a) for a in args], cwd=cwd, env=env, capture_output=True,
                            text=True, timeout=timeout, check=False)
    assert result.returncode == 0, f"{args} failed:\n{result.stdout}\n{result.stderr}"
    return result


@pytest.fixture(scope="session")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh venv outside the checkout with the built wheel installed; its bin folder."""
    work = tmp_path_factory.mktemp("wheel")
    run(sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", work / "dist", ROOT,
        cwd=work)
    wheel = next((work / "dist").glob("qunbot-*.whl"))
    venv.create(work / "venv", with_pip=True)
    bin_dir = work / "venv" / "bin"
    run(bin_dir / "pip", "install", "-q", wheel, cwd=work)
    return bin_dir


@pytest.fixture(scope="session")
def deployment(installed: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    site = tmp_path_factory.mktemp("site")
    run(installed / "bot", "init", site, cwd=site)
    return site


def test_the_wheel_carries_no_checkout_paths(installed: Path, deployment: Path) -> None:
    located = run(installed / "python", "-c", "import bot, plugins; print(bot.__file__)",
                  cwd=deployment).stdout
    assert str(ROOT) not in located and "site-packages" in located


def test_init_writes_a_deployment_that_checks_out(installed: Path, deployment: Path) -> None:
    assert (deployment / "bot.yaml").is_file() and (deployment / "config" / "faq").is_dir()
    checked = run(installed / "bot", "config", "check", "bot.yaml", cwd=deployment)
    assert "OK" in checked.stdout
    upgraded = run(installed / "bot", "db", "upgrade", cwd=deployment)
    assert (deployment / "data" / "qunbot.db").is_file(), upgraded.stdout


def test_init_refuses_to_overwrite(installed: Path, deployment: Path) -> None:
    again = subprocess.run([installed / "bot", "init", deployment], capture_output=True,
                           text=True, check=False)
    assert again.returncode == 2 and "--force" in again.stderr


def test_the_installed_bot_plays_core_like_the_checkout(installed: Path, deployment: Path):
    script = ROOT / "examples" / "core.txt"
    from_wheel = run(installed / "bot", "run", "--script", script, "--jsonl", cwd=deployment)
    from_checkout = run(sys.executable, "-m", "bot", "run", "--script", script, "--jsonl",
                        cwd=ROOT)
    sent = [json.loads(line) for line in from_wheel.stdout.splitlines() if line.strip()]
    assert sent, "the installed bot sent nothing"
    # Files the bot writes (the digest's chart) sit under each deployment's own folder.
    assert from_wheel.stdout.replace(str(deployment), "<site>") == (
        from_checkout.stdout.replace(str(ROOT), "<site>"))


@pytest.mark.parametrize("script", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_every_example_plays_with_the_installed_bot(installed, deployment, script):
    played = run(installed / "bot", "run", "--script", script, cwd=deployment)
    assert played.stdout.strip()


def test_plugins_are_listed_with_their_distribution(installed: Path, deployment: Path):
    listed = run(installed / "bot", "plugins", cwd=deployment).stdout
    assert "checkin" in listed and "qunbot 0.1.0 · plugins.checkin:plugin" in listed


def teardown_module() -> None:
    shutil.rmtree(ROOT / "build", ignore_errors=True)  # setuptools' scratch folder


THANKS_CONFIG = """\
bot: {name: 小助手}
groups:
  g1:
    name: 读书会
    plugins:
      thanks: {per_day: 2}
"""

THANKS_SCRIPT = """\
@group 读书会
@at 2026-11-23 20:00
alice: /thanks @bob
alice: 感谢 @carol
alice: /thanks @dave
bob: /thanks
@advance 1h
"""


def test_a_plugin_from_new_plugin_installs_and_plays(installed: Path, tmp_path: Path):
    """Third-party path end to end: generate, pip install, enable, migrate its own table."""
    run(installed / "bot", "new-plugin", "thanks", "--dir", tmp_path, cwd=tmp_path)
    run(installed / "pip", "install", "-q", tmp_path / "qunbot-thanks", cwd=tmp_path)
    listed = run(installed / "bot", "plugins", cwd=tmp_path).stdout
    assert "thanks — 感谢榜  [qunbot-thanks 0.1.0 · qunbot_thanks:plugin]" in listed
    (tmp_path / "bot.yaml").write_text(THANKS_CONFIG, encoding="utf-8")
    (tmp_path / "thanks.txt").write_text(THANKS_SCRIPT, encoding="utf-8")
    played = run(installed / "bot", "run", "--script", "thanks.txt", cwd=tmp_path).stdout
    assert "今天第 2 次" in played and "已经感谢 2 次啦" in played
    assert "你一共收到 1 次感谢" in played and "今天的感谢：2 次" in played
