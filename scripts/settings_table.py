#!/usr/bin/env python
"""Print the README's settings table from the settings classes, so the two never drift apart."""
from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.settings import BotSettings  # noqa: E402


def main() -> int:
    print("| variable | default | meaning |")
    print("|---|---|---|")
    for name, field in BotSettings.model_fields.items():
        alias = field.validation_alias
        env = alias.choices[0] if alias is not None else f"ARTICLE_QA_{name.upper()}"
        default = field.default
        shown = "(none)" if default is None else ("(empty)" if default == frozenset() else default)
        print(f"| `{env}` | `{shown}` | {field.description or ''} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
