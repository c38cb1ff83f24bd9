#!/bin/sh
# First start on an empty volume: write the starter bot.yaml and config/ to edit.
set -e
if [ ! -f "${QUNBOT_CONFIG:-bot.yaml}" ]; then
  bot init "$(dirname "${QUNBOT_CONFIG:-bot.yaml}")"
fi
exec "$@"
