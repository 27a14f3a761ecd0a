"""article-qa's index library: ingest, chunk, embed, store, search and answer, without Telegram."""
from .build import BuildReport, build_index
from .embedding import Encoder
from .engine import Engine
from .errors import (BuildLocked, IndexCorrupt, IndexError_, IndexMismatch, IndexNotFound,
                     ModelUnavailable, NothingToIndex)
from .records import Answer, Article, ArticleInfo, Chunk, Hit, IndexInfo, Passage, Skipped, Turn
from .settings import Settings

__all__ = [
    "Answer", "Article", "ArticleInfo", "BuildLocked", "BuildReport", "Chunk", "Encoder", "Engine",
    "Hit", "IndexCorrupt", "IndexError_", "IndexInfo", "IndexMismatch", "IndexNotFound", "ModelUnavailable",
    "NothingToIndex", "Passage", "Settings", "Skipped", "Turn", "build_index",
]
