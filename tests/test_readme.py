"""The README's settings table is generated from the settings classes; it must not drift from them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_readme_settings_table_matches_the_settings() -> None:
    table = subprocess.run([sys.executable, str(ROOT / "scripts" / "settings_table.py")], capture_output=True,
                           text=True, check=True, cwd=ROOT).stdout.strip()
    assert table.count("\n") > 10
    assert table in (ROOT / "README.md").read_text(encoding="utf-8"), \
        "README settings table is stale: paste the output of `python scripts/settings_table.py`"
