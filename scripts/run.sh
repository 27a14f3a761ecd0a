#!/usr/bin/env bash
# The README's main command: set up .venv, then run the bot on the configured articles
# (the bundled sample by default). It builds the index first if there is none; without
# TELEGRAM_BOT_TOKEN it opens the console chat instead of Telegram.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
exec .venv/bin/python -m bot "$@"
