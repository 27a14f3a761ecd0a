"""Fetched articles on disk: one ``<id>.json`` per article in the article folder.

The file holds what ``index.ingest`` reads (id, title, text, date, url, source) plus
``fetched_at``, which ingest ignores. An article already on disk with the same content is left
untouched (same bytes, same mtime), so a rebuild sees nothing new; a changed one is replaced
atomically; nothing is ever deleted, so an article a feed no longer lists stays answerable.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from .fetch_state import now_iso, write_atomically

CONTENT_FIELDS = ("id", "title", "text", "date", "url", "source")
Outcome = Literal["new", "changed", "unchanged"]


def article_path(folder: Path, article_id: str) -> Path:
    return folder / f"{article_id}.json"


def _on_disk(path: Path) -> dict[str, Any] | None:
    """The stored article, or None when there is none or it cannot be read (then it is rewritten)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def write_article(folder: Path, fields: dict[str, Any]) -> Outcome:
    """Store one article unless the same content is already there; say which it was."""
    path = article_path(folder, fields["id"])
    existed, existing = path.exists(), _on_disk(path)
    content = {key: fields.get(key) for key in CONTENT_FIELDS}
    if existing is not None and {key: existing.get(key) for key in CONTENT_FIELDS} == content:
        return "unchanged"
    record = {**content, "fetched_at": now_iso()}
    write_atomically(path, (json.dumps(record, ensure_ascii=False, indent=1) + "\n").encode("utf-8"))
    return "changed" if existed else "new"
