"""Configuration: bot.yaml and content under config/, validated by pydantic."""

from bot.config.loader import (
    ConfigError,
    ConfigIssue,
    ContentProblem,
    KeyProblem,
    LoadedConfig,
    load_config,
    load_content,
    load_content_kept,
)
from bot.config.models import BotConfig, GroupConfig

__all__ = ["BotConfig", "ConfigError", "ConfigIssue", "ContentProblem", "GroupConfig", "KeyProblem",
           "LoadedConfig", "load_config", "load_content", "load_content_kept"]
