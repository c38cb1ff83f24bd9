"""Plugins come from entry points, shipped ones included; `bot new-plugin` writes one that
works: its own table through its own Alembic branch, its test on the harness."""

from __future__ import annotations

import os
import subprocess
import sys
from importlib.metadata import EntryPoint
from pathlib import Path

import pytest
from typer.testing import CliRunner

from bot import registry
from bot.cli import app
from bot.newplugin import NewPluginError, write_plugin
from bot.plugin import Plugin

ROOT = Path(__file__).resolve().parents[1]
# Another distribution's plugin that happens to use a shipped plugin's name.
ANOTHER_CHECKIN = Plugin(name="checkin", title="别人的打卡")

SHIPPED = {"activity", "briefing", "checkin", "lottery", "minigames", "moderation", "points",
           "qa", "quiz", "redpacket", "timed_posts", "tags", "invites", "recap", "surprise"}


def test_the_shipped_plugins_are_found_through_entry_points() -> None:
    found = {item.plugin.name: item for item in registry.discover()}
    assert set(found) >= SHIPPED
    assert found["checkin"].distribution == "qunbot"
    assert found["checkin"].source == "plugins.checkin:plugin"


def test_bot_plugins_names_where_each_plugin_comes_from() -> None:
    listed = CliRunner().invoke(app, ["plugins"]).output
    assert "checkin — 每日打卡  [qunbot 0.1.0 · plugins.checkin:plugin]" in listed


@pytest.fixture
def entry_points_are(monkeypatch):
    def install(*entries: tuple[str, str]) -> None:
        points = [EntryPoint(name, value, registry.ENTRY_POINT_GROUP) for name, value in entries]
        monkeypatch.setattr(registry, "entry_points", lambda group: points)
        registry.discover.cache_clear()

    yield install
    registry.discover.cache_clear()


def test_two_plugins_with_one_name_are_a_clear_error(entry_points_are) -> None:
    entry_points_are(("checkin", "plugins.checkin:plugin"),
                     ("checkin", "tests.test_plugin_discovery:ANOTHER_CHECKIN"))
    with pytest.raises(registry.PluginDiscoveryError, match="two plugins are named 'checkin'"):
        registry.discover()


@pytest.mark.parametrize(("value", "message"), [
    ("plugins.nonexistent:plugin", "failed to load"),
    ("plugins.checkin.texts:TEXTS", "is not a bot.plugin.Plugin"),
    ("plugins.points:plugin", "names a plugin called 'points'"),
])
def test_a_broken_plugin_is_named_with_the_reason(entry_points_are, value, message) -> None:
    entry_points_are(("checkin", value))
    with pytest.raises(registry.PluginDiscoveryError, match=message):
        registry.discover()


def test_new_plugin_refuses_bad_names_and_existing_folders(tmp_path) -> None:
    with pytest.raises(NewPluginError, match="invalid plugin name"):
        write_plugin("Thanks!", tmp_path)
    write_plugin("thanks", tmp_path)
    with pytest.raises(NewPluginError, match="already exists"):
        write_plugin("thanks", tmp_path)


def test_the_generated_plugin_passes_its_own_test(tmp_path) -> None:
    """Its table comes from its own Alembic branch; the harness runs it like a shipped one.
    In a subprocess: its models must not join this process's metadata."""
    target = write_plugin("kudos", tmp_path)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT)])}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(target / "tests")],
        cwd=target, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout
