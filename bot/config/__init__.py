"""Configuration: bot.yaml and content under config/, validated by pydantic."""

from bot.config.loader import ConfigError, ConfigIssue, LoadedConfig, load_config, load_content
from bot.config.models import BotConfig, GroupConfig

__all__ = ["BotConfig", "ConfigError", "ConfigIssue", "GroupConfig", "LoadedConfig", "load_config",
           "load_content"]
