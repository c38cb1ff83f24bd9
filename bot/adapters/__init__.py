"""Adapters: the boundary between a chat platform and the core."""
