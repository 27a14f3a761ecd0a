"""Turn a folder (recursively) or a single file into normalised ``Article`` records.

Formats: ``.txt``/``.md`` (first line is the title), ``.html``/``.htm`` (main text via
trafilatura), ``.json`` (an object or a list of objects) and ``.jsonl`` (one object a line).
Bad input never raises: every file or record that cannot be used becomes a ``Skipped`` with a
reason and one warning in the log, so one broken file never costs the whole build.
"""
from __future__ import annotations

import codecs
import json
import logging
import os
import re
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any, Iterator

from .logsafe import safe_id
from .normalise import CONTROL, content_hash, is_link_line, normalise_text, normalise_title, title_from_text
from .pubdate import publication_date
from .records import Article, Skipped

log = logging.getLogger(__name__)

TEXT_SUFFIXES = {".txt", ".md"}
HTML_SUFFIXES = {".html", ".htm"}
SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | {".json", ".jsonl"}
LEAD_MIN_CHARS = 150  # a first line longer than this is a lead paragraph, not a headline

_MD_HEADING = re.compile(r"^#{1,6}\s+")
_CLOSERS = "\"'»”’)]"
Fields = dict[str, Any]  # id, title, text, date, url, source of one article


@dataclass(frozen=True)
class IngestResult:
    """Everything a build can index, plus a report of what it could not."""

    articles: list[Article]
    skipped: list[Skipped]


class _Skip(Exception):
    """Internal signal: this file or record is unusable, for the given reason."""

    def __init__(self, reason: str, line: int | None = None) -> None:
        super().__init__(reason)
        self.reason, self.line = reason, line


def _decode(data: bytes) -> str:
    """Bytes to text: UTF-8 first, then the encodings older Spanish files actually use."""
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):  # Windows "Unicode"
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            raise _Skip("binary file (invalid UTF-16), not text") from None
    if b"\x00" in data:
        raise _Skip("binary file (contains NUL bytes), not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            text = data.decode("latin-1")  # never fails: every byte is a character
    sample = text[:65536]
    if len(CONTROL.findall(sample)) > 0.1 * len(sample):
        raise _Skip("binary file (mostly non-text bytes), not text")
    return text


def _read_text(path: Path, max_file_bytes: int) -> str:
    """The decoded file, or a skip that says why it cannot be used."""
    try:
        size = path.stat().st_size
        if size > max_file_bytes:
            raise _Skip(f"file is {size:,} bytes, over the {max_file_bytes:,}-byte limit")
        data = path.read_bytes()
    except PermissionError:
        raise _Skip("permission denied: cannot read the file") from None
    except OSError as err:
        raise _Skip(f"cannot read the file: {err.strerror or err}") from None
    if not data:
        raise _Skip("empty file")
    text = _decode(data)
    if not text.strip():
        raise _Skip("file holds only whitespace, no text")
    return text


def _below_warning(record: logging.LogRecord) -> bool:
    return record.levelno < logging.WARNING


@contextmanager
def quiet_trafilatura() -> Iterator[None]:
    """Trafilatura's own warnings and errors left out while it extracts: it warns about empty
    pages itself, and the build (a skipped file) and the fetch (a page without an article)
    report each one once, in their words. Its debug and info lines are untouched."""
    names = ("trafilatura.core", "trafilatura.utils", "trafilatura.main_extractor")
    loggers = [logging.getLogger(n) for n in names]
    for logger in loggers:
        logger.addFilter(_below_warning)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(_below_warning)


def _parse_html(raw: str, stem: str) -> Fields:
    """Main text and metadata of a web page, leaving menus, footers and comments out."""
    import trafilatura  # slow import, paid only when there is HTML

    if "html" not in raw[:50].lower():  # trafilatura rejects bare fragments; wrap them
        raw = f"<html><body><div>{raw}</div></body></html>"
    with quiet_trafilatura():
        doc = trafilatura.bare_extraction(raw, with_metadata=True, include_comments=False,
                                          date_extraction_params={"extensive_search": False})
    lines = normalise_text(doc.text or "").split("\n") if doc is not None else [""]
    title = normalise_title(doc.title or "") if doc is not None else ""
    if len(lines) > 1 and lines[0] == title:
        lines = lines[1:]  # the page's <h1> repeats the title
    if not lines[0]:
        raise _Skip("no text found in the HTML (no body, or only boilerplate)")
    return {"title": title or stem, "text": "\n".join(lines),
            "date": doc.date, "url": doc.url, "source": doc.sitename}


def _parse_plain(raw: str, markdown: bool) -> Fields:
    """Title from the first line; a lead paragraph stays in the body and gives a short title."""
    lines = normalise_text(raw, drop_links=False).split("\n")
    if markdown:
        lines = [line for line in (_MD_HEADING.sub("", line) for line in lines) if line]
    if not lines:
        raise _Skip("no text left after removing markup")
    first = lines[0]
    if len(first) > LEAD_MIN_CHARS or first.rstrip(_CLOSERS).endswith((".", "!", "?", "…")):
        title, body = title_from_text(first), lines
    else:
        title, body = first, lines[1:] or [first]
    return {"title": title, "text": "\n".join(line for line in body if not is_link_line(line))}


def _json_records(raw: str, jsonl: bool) -> Iterator[tuple[Any, int | None]]:
    """(record, line or item number) for each record; a bad JSONL line is a skip, not a stop."""
    if jsonl:
        for number, line in enumerate(raw.split("\n"), start=1):
            if line.strip():
                try:
                    yield json.loads(line), number
                except ValueError as err:
                    reason = f"line is not valid JSON ({getattr(err, 'msg', err)})"
                    yield _Skip(reason, number), number
                except RecursionError:  # thousands of nested brackets: skip the line, read the next
                    yield _Skip("line is nested too deeply to read as JSON", number), number
        return
    try:
        data = json.loads(raw)
    except ValueError as err:
        line = getattr(err, "lineno", None)
        raise _Skip(f"malformed JSON ({getattr(err, 'msg', err)})", line) from None
    except RecursionError:
        raise _Skip("JSON nested too deeply to read") from None
    if isinstance(data, list):
        yield from ((item, number) for number, item in enumerate(data, start=1))
    else:
        yield data, None


def _scalar(value: Any) -> str | None:
    """Metadata as a one-line string, or None when absent, empty or not a scalar."""
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        return normalise_title(str(value)) or None
    return None


def _from_record(record: Any, line: int | None, fallback_id: str) -> Fields:
    """Fields of one JSON record: it must be an object with a string ``text``."""
    if not isinstance(record, dict):
        raise _Skip(f"not a JSON object but {type(record).__name__}", line)
    if not isinstance(record.get("text"), str):
        problem = "no 'text' field" if record.get("text") is None else "'text' is not a string"
        raise _Skip(problem, line)
    given_id = _scalar(record.get("id"))
    return {"id": given_id or fallback_id, "title": _scalar(record.get("title")) or "",
            "text": normalise_text(record["text"]), "date": _scalar(record.get("date")),
            "url": _scalar(record.get("url")), "source": _scalar(record.get("source"))}


def _parse_file(path: Path, rel: str, max_bytes: int) -> Iterator[tuple[Fields | _Skip, int | None]]:
    """Each article's fields, or a per-record skip, with its line (None for whole files)."""
    raw, suffix = _read_text(path, max_bytes), path.suffix.lower()
    path_id = PurePosixPath(rel).with_suffix("").as_posix()
    if suffix in HTML_SUFFIXES:
        yield {"id": path_id, **_parse_html(raw, path.stem)}, None
    elif suffix in TEXT_SUFFIXES:
        yield {"id": path_id, **_parse_plain(raw, suffix == ".md")}, None
    else:
        for record, line in _json_records(raw, suffix == ".jsonl"):
            try:
                if isinstance(record, _Skip):
                    raise record
                yield _from_record(record, line, path_id if line is None else f"{rel}#{line}"), line
            except _Skip as skip:
                yield skip, line


def _resolve(path: Path) -> Path | None:
    """Where a path really leads, or None for a symlink loop (which would raise)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return None


def _classify(entry: os.DirEntry[str], real_root: Path) -> tuple[str, str]:
    """What the walk does with one folder entry: load, link, descend, ignore or skip (+ why).

    Folder symlinks are never followed: one inside the root only repeats folders walked
    anyway, one outside would pull in foreign files, and neither can then loop. A file
    symlink is used only if it stays inside the root.
    """
    path, real = Path(entry.path), _resolve(Path(entry.path))
    if entry.name.startswith(".") or (path.suffix.lower() not in SUFFIXES
                                      and not (real and real.is_dir())):
        return "ignore", "hidden, or not an article format"
    if real is None or (entry.is_symlink() and not real.exists()):
        return "skip", "broken symlink (missing target or a loop)"
    if entry.is_symlink() and not real.is_relative_to(real_root):
        return "skip", f"symlink to {real}, outside the input folder; not followed"
    if entry.is_dir(follow_symlinks=False):
        return "descend", ""
    if real.is_file() and path.suffix.lower() in SUFFIXES:
        return ("link" if entry.is_symlink() else "load"), ""
    return "ignore", "a folder symlink, or not a regular file"


def _walk(root: Path) -> list[tuple[str, Path | str, bool]]:
    """(relative path, file or skip reason, is a symlink), sorted by path for reproducibility."""
    real_root, found, stack = root.resolve(), [], [root]
    while stack:
        folder = stack.pop()
        try:
            entries = list(os.scandir(folder))
        except OSError as err:
            found.append((folder.relative_to(root).as_posix(), f"cannot list: {err.strerror}", False))
            continue
        for entry in entries:
            path = Path(entry.path)
            try:
                action, detail = _classify(entry, real_root)
            except OSError as err:
                action, detail = "skip", f"cannot access: {err.strerror}"
            if action == "descend":
                stack.append(path)
            elif action == "ignore":
                log.debug("ignoring %s (%s)", path, detail)
            else:
                found.append((path.relative_to(root).as_posix(), detail or path, action == "link"))
    return sorted(found, key=lambda item: PurePosixPath(item[0]).parts)


class _Collector:
    """Accumulates articles and skips, enforcing the size limit and unique ids."""

    def __init__(self, max_article_chars: int) -> None:
        self.max_chars = max_article_chars
        self.articles: list[Article] = []
        self.skipped: list[Skipped] = []
        self.first_seen: dict[str, str] = {}

    def skip(self, where: Path, reason: str, line: int | None = None) -> None:
        skipped = Skipped(str(where), reason, line)
        self.skipped.append(skipped)
        log.warning("skipped %s", skipped.describe())

    def add(self, fields: Fields, line: int | None, where: Path, rel: str) -> None:
        text, article_id = fields["text"], safe_id(fields["id"])
        if not text:
            return self.skip(where, "empty text", line)
        if len(text) > self.max_chars:
            return self.skip(where, f"text is {len(text):,} characters, over the "
                             f"{self.max_chars:,}-character limit", line)
        if article_id in self.first_seen:
            return self.skip(where, f"duplicate id {article_id!r}: first seen in "
                             f"{self.first_seen[article_id]}, which was kept", line)
        self.first_seen[article_id] = f"{where}:{line}" if line is not None else str(where)
        title = normalise_title(fields["title"]) or title_from_text(text)
        meta = {key: fields.get(key) for key in ("date", "url", "source")}
        # ISO of the precision known, from the record or else the URL (index.pubdate)
        meta["date"] = publication_date(meta["date"], meta["url"], self.first_seen[article_id])
        self.articles.append(Article(id=article_id, title=title, text=text, path=rel,
                                     content_hash=content_hash(title, text, **meta), **meta))

    def load_file(self, path: Path, rel: str, max_file_bytes: int) -> None:
        """Add one file's articles; any failure becomes a skip, never a raise."""
        try:
            for item, line in _parse_file(path, rel, max_file_bytes):
                if isinstance(item, _Skip):
                    self.skip(path, item.reason, line)
                else:
                    self.add(item, line, path, rel)
        except _Skip as skip:
            self.skip(path, skip.reason, skip.line)
        except Exception as err:  # noqa: BLE001 - one odd file must not abort the build
            log.debug("unexpected error reading %s", path, exc_info=True)
            self.skip(path, f"unexpected error: {type(err).__name__}: {err}")


def load_articles(path: Path, max_file_bytes: int = 50_000_000,
                  max_article_chars: int = 2_000_000) -> IngestResult:
    """Load every article under ``path`` (a folder, recursively, or one file).

    Ids come from the records, else from the path relative to the input root (for a single
    file, its folder). ``Article.path`` is that relative path; ``Skipped.path`` is the path
    as reached from ``path``, so an operator can find the file.
    """
    path, out = Path(path), _Collector(max_article_chars)
    root = path.parent
    try:
        if path.is_dir():
            root, files = path, _walk(path)
        elif path.is_file() and path.suffix.lower() in SUFFIXES:
            files = [(path.name, path, False)]
        elif path.is_file():
            files = [(path.name, f"not an article file ({', '.join(sorted(SUFFIXES))})", False)]
        else:
            files = [(path.name, "broken symlink" if path.is_symlink() else "does not exist", False)]
    except OSError as err:
        files = [(path.name, f"cannot access: {err.strerror}", False)]
    # A file reached both directly and via a symlink is loaded once, under its own path.
    owners = {_resolve(f): rel for rel, f, link in files if isinstance(f, Path) and not link}
    for rel, item, _ in files:
        if isinstance(item, str):
            out.skip(root / rel, item)
        elif (owner := owners.setdefault(_resolve(item), rel)) != rel:
            out.skip(item, f"same file as {owner} (reached via a symlink)")
        else:
            out.load_file(item, rel, max_file_bytes)
    return IngestResult(out.articles, out.skipped)
