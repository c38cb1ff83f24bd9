"""The WeChat adapter, over python-wechaty's puppet-service gRPC connection."""

from bot.adapters.wechaty.adapter import WechatyAdapter

__all__ = ["WechatyAdapter"]
