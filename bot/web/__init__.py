"""The operators' web console (issue 19): server-rendered pages over the digest's tables.

Only `bot.web.models` is imported by the core (the tables); the rest needs the `web` extra
(starlette, jinja2, uvicorn, ruamel.yaml, python-multipart) and is imported when
`web.enabled` is set.
"""
