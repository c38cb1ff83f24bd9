"""The plugins qunbot ships, one package each.

They are found like any third-party plugin: through the `qunbot.plugins` entry points in
pyproject.toml (bot/registry.py). Nothing here lists them.
"""
