"""Chunking: paragraph-bound sentence windows, headings, budget, overlap, offsets."""
from __future__ import annotations

import random
from pathlib import Path

import pytest

from index.chunking import article_sentences, chunk_article
from index.records import Article, Chunk
from index.sentences import is_heading, split_sentences

SEED = Path(__file__).parent / "data" / "seed.txt"
ANSWER = (
    "Funcionarios estadounidenses y surcoreanos han acusado a Corea del Norte de suministrar "
    "a Rusia artillería, misiles y otros equipos militares para prolongar el conflicto en Ucrania."
)


def article(text: str) -> Article:
    return Article(id="seed", title="t", text=text, content_hash="x")


def seed_article() -> Article:
    lines = [line.strip() for line in SEED.read_text(encoding="utf-8").splitlines()]
    return article("\n".join(line for line in lines if line))


def sentence(n: int, length: int = 100) -> str:
    """A sentence of exactly ``length`` characters, numbered so windows can be told apart."""
    head = f"Frase {n} "
    return head + "x" * (length - len(head) - 1) + "."


def body_lines(chunk: Chunk) -> list[str]:
    """The chunk's lines after its attached headings."""
    lines = chunk.text.split("\n")
    while len(lines) > 1 and is_heading(lines[0]):
        lines.pop(0)
    return lines


def check_invariants(art: Article, chunks: list[Chunk], max_chars: int) -> None:
    for position, chunk in enumerate(chunks):
        assert chunk.position == position
        assert chunk.chunk_id == f"{art.id}#{position}"
        assert chunk.article_id == art.id and chunk.title == art.title
        assert art.text[chunk.start : chunk.end] == chunk.text
        assert chunk.text == chunk.text.strip()
        body = body_lines(chunk)
        assert len(body) == 1, "a chunk crosses a paragraph boundary"
        if len(chunk.text) > max_chars:  # only a single (possibly cut) sentence may exceed
            assert len(split_sentences(body[0])) == 1
            assert len(body[0]) <= 2 * max_chars
    for before, after in zip(chunks, chunks[1:]):
        assert before.start <= after.start and before.end < after.end


def test_seed_answer_sentence_opens_a_chunk() -> None:
    art = seed_article()
    assert ANSWER in [s.text for s in article_sentences(art)]
    chunks = chunk_article(art)
    check_invariants(art, chunks, 700)
    assert any(body_lines(c)[0].startswith(ANSWER) for c in chunks)
    for max_chars in (150, 300, 450, 1000):
        chunks = chunk_article(art, max_chars=max_chars)
        check_invariants(art, chunks, max_chars)
        assert any(body_lines(c)[0].startswith(ANSWER) for c in chunks), max_chars


def test_seed_headings_are_attached_not_answers() -> None:
    art = seed_article()
    heading = "Reforzando la cooperación militar en tiempos de conflicto"
    assert heading not in [s.text for s in article_sentences(art)]
    chunks = chunk_article(art)
    assert not any(c.text == heading for c in chunks)
    owner = next(c for c in chunks if c.text.startswith(heading))
    assert owner.text.startswith(heading + "\nEl núcleo de las conversaciones")


def test_paragraph_boundaries_are_never_crossed() -> None:
    text = "Primera frase. Segunda frase.\nTercera frase. Cuarta frase."
    chunks = chunk_article(article(text), max_chars=700)
    assert [c.text for c in chunks] == ["Primera frase. Segunda frase.", "Tercera frase. Cuarta frase."]


def test_budget_and_overlap_of_one() -> None:
    text = " ".join(sentence(i) for i in range(6))
    chunks = chunk_article(article(text), max_chars=250, overlap=1)
    check_invariants(article(text), chunks, 250)
    windows = [[s.text[:8] for s in split_sentences(c.text)] for c in chunks]
    assert windows == [
        ["Frase 0 ", "Frase 1 "],
        ["Frase 1 ", "Frase 2 "],
        ["Frase 2 ", "Frase 3 "],
        ["Frase 3 ", "Frase 4 "],
        ["Frase 4 ", "Frase 5 "],
    ]


def test_no_overlap_partitions_the_paragraph() -> None:
    text = " ".join(sentence(i) for i in range(7))
    chunks = chunk_article(article(text), max_chars=250, overlap=0)
    assert [len(split_sentences(c.text)) for c in chunks] == [2, 2, 2, 1]
    assert " ".join(c.text for c in chunks) == text


@pytest.mark.parametrize("overlap", [2, 3, 10])
def test_large_overlap_still_makes_progress(overlap: int) -> None:
    text = " ".join(sentence(i, 60) for i in range(8))
    art = article(text)
    chunks = chunk_article(art, max_chars=200, overlap=overlap)
    check_invariants(art, chunks, 200)
    assert chunks[-1].end == len(text)
    for before, after in zip(chunks, chunks[1:]):
        assert before.start < after.start  # neither contains the other
    assert len(chunks) <= 8


def test_overlap_dropped_when_it_leaves_no_room() -> None:
    text = " ".join([sentence(0, 150), sentence(1, 150), sentence(2, 150)])
    chunks = chunk_article(article(text), max_chars=200, overlap=1)
    assert [c.text for c in chunks] == [sentence(0, 150), sentence(1, 150), sentence(2, 150)]


def test_heading_attached_to_following_paragraph() -> None:
    text = "Lead del artículo.\nUn título\nPrimera frase. Segunda frase."
    chunks = chunk_article(article(text))
    assert [c.text for c in chunks] == ["Lead del artículo.", "Un título\nPrimera frase. Segunda frase."]
    assert chunks[1].start == text.index("Un título")


def test_consecutive_headings_attach_together_and_only_to_first_window() -> None:
    text = "Sección\nSubsección\n" + " ".join(sentence(i) for i in range(4))
    art = article(text)
    chunks = chunk_article(art, max_chars=250)
    check_invariants(art, chunks, 250)
    assert chunks[0].start == 0 and chunks[0].text.startswith("Sección\nSubsección\nFrase 0 ")
    assert all("Sección" not in c.text for c in chunks[1:])


def test_trailing_heading_is_its_own_chunk() -> None:
    text = "Una frase.\nTítulo final"
    chunks = chunk_article(article(text))
    assert [c.text for c in chunks] == ["Una frase.", "Título final"]
    assert [c.text for c in chunk_article(article("Solo un título"))] == ["Solo un título"]


def test_long_sentence_kept_whole_below_twice_the_budget() -> None:
    long = "Palabra " + "palabra " * 29 + "fin."  # 244 characters
    chunks = chunk_article(article(f"Corta. {long} Otra corta."), max_chars=200)
    assert [c.text for c in chunks] == ["Corta.", long, "Otra corta."]


def test_very_long_sentence_cut_at_word_boundaries() -> None:
    long = " ".join(f"p{i:03d}" for i in range(200)) + "."  # 1000 characters
    art = article(long)
    chunks = chunk_article(art, max_chars=100, overlap=1)
    assert len(chunks) > 1
    assert all(len(c.text) <= 100 for c in chunks)
    assert " ".join(c.text for c in chunks) == long  # no overlap between pieces, no lost word
    assert all(c.text.split()[0].startswith("p") and len(c.text.split()[0]) == 4 for c in chunks)


def test_word_longer_than_budget_is_hard_cut() -> None:
    word = "x" * 49 + "."
    chunks = chunk_article(article(word), max_chars=20)
    assert [len(c.text) for c in chunks] == [20, 20, 10]


def test_deterministic_ids_and_empty_input() -> None:
    art = seed_article()
    first, second = chunk_article(art), chunk_article(art)
    assert first == second
    assert [c.chunk_id for c in first] == [f"seed#{i}" for i in range(len(first))]
    assert chunk_article(article("")) == []
    with pytest.raises(ValueError):
        chunk_article(art, max_chars=0)
    with pytest.raises(ValueError):
        chunk_article(art, overlap=-1)


_WORDS = ["El", "Sr.", "López", "dijo", "«Vamos.", "Ya.»", "que", "sí.", "Luego", "3.5", "EE.", "UU."]


def _random_article(rng: random.Random) -> Article:
    paragraphs = []
    for _ in range(rng.randint(1, 8)):
        words = rng.choices(_WORDS, k=rng.randint(1, 60))
        if rng.random() < 0.2:
            words = words[:5] + ["Título"]  # a heading-like line
        paragraphs.append(" ".join(words))
    return article("\n".join(paragraphs))


def test_random_articles_keep_invariants_and_cover_every_sentence() -> None:
    rng = random.Random(7)
    for _ in range(300):
        art = _random_article(rng)
        max_chars, overlap = rng.choice([40, 80, 150, 700]), rng.randint(0, 3)
        chunks = chunk_article(art, max_chars=max_chars, overlap=overlap)
        check_invariants(art, chunks, max_chars)
        for s in split_sentences(art.text):
            if len(s.text) <= 2 * max_chars:
                assert any(c.start <= s.start and s.end <= c.end for c in chunks), s.text
            else:
                covered = {i for c in chunks for i in range(max(c.start, s.start), min(c.end, s.end))}
                assert all(i in covered for i in range(s.start, s.end) if not art.text[i].isspace())
