"""Domain errors raised inside the library; the CLI and the bot turn them into words."""
from __future__ import annotations


class IndexError_(Exception):
    """Base class for every error the index library raises on purpose."""


class IndexNotFound(IndexError_):
    """No usable index at the given directory."""


class IndexMismatch(IndexError_):
    """The index was built with another model, format or chunking than this code expects."""


class IndexCorrupt(IndexError_):
    """An index file is missing or does not match the checksum its manifest recorded."""


class BuildLocked(IndexError_):
    """Another build holds the lock on this index directory."""


class NothingToIndex(IndexError_):
    """The build found no article it could use."""


class ModelUnavailable(IndexError_):
    """The embedding model could not be loaded from the configured name or path."""


class BuildFailed(IndexError_):
    """The build could not write the index (a read-only folder, a full disk); the served one is untouched."""
