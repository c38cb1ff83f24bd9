"""qunbot: a bot that does the daily work of a WeChat group operator."""

from __future__ import annotations

__version__ = "0.1.0"
