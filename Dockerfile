# qunbot in a container: the production path is `docker compose up` (compose.yaml).
# Two stages: build the wheel, install it with the wechaty and web extras into a venv
# (web: the operators' console, so `web.enabled` works in the image); the final
# image carries only that venv (no compilers, no source tree) and runs as a non-root user.
# Python 3.12: python-wechaty 0.10.7 does not import on 3.13 (telnetlib).

FROM python:3.12-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE THIRD_PARTY_NOTICES.md ./
COPY bot ./bot
COPY plugins ./plugins
# The same steps tests/test_packaging.py runs in CI: wheel, fresh venv, install.
RUN pip wheel --no-cache-dir --no-deps -w /wheels . \
 && python -m venv /opt/qunbot \
 && /opt/qunbot/bin/pip install --no-cache-dir "$(ls /wheels/qunbot-*.whl)[wechaty,web]" \
 && find /opt/qunbot -name __pycache__ -prune -exec rm -rf {} +

FROM python:3.12-slim
RUN useradd --system --uid 10001 --create-home --home-dir /srv/qunbot qunbot
COPY --from=build /opt/qunbot /opt/qunbot
COPY deploy/entrypoint.sh /usr/local/bin/qunbot-entrypoint
ENV PATH=/opt/qunbot/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    QUNBOT_CONFIG=/srv/qunbot/bot.yaml
WORKDIR /srv/qunbot
USER qunbot
# bot.yaml, config/ and data/ (SQLite, the digest's charts) live here.
VOLUME ["/srv/qunbot"]
# Answers from bot.yaml's `health:` block; healthy when it is off (nothing to ask).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s CMD ["bot", "health"]
ENTRYPOINT ["qunbot-entrypoint"]
CMD ["bot", "run", "--log-format", "json"]
