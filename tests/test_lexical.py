"""The Spanish analyzer (folding, aliases, stopwords, stemming) and the BM25 wrapper."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import Stemmer

from index.lemmas import spanish_lemmas
from index.lexical import Analyzer, Bm25Index, fold, parse_aliases, read_alias_text


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer(read_alias_text())


def test_fold_strips_accents_and_case() -> None:
    assert fold("Acusación ÉXITO Pingüino") == "acusacion exito pinguino"


def test_stemming_joins_inflections(analyzer: Analyzer) -> None:
    assert analyzer.terms("acusa")[0] == analyzer.terms("acusado")[0] == analyzer.terms("acusaciones")[0]


@pytest.fixture(scope="module")
def lemmatizing() -> Analyzer:
    return Analyzer(read_alias_text(), spanish_lemmas())


@pytest.mark.parametrize("forms", [("niega", "negado", "negar"), ("murió", "murio", "morir", "muere"),
                                   ("hizo", "hacer", "hecho"), ("puso", "poner"), ("supo", "saber")])
def test_lemmas_join_irregular_forms_that_stemming_keeps_apart(lemmatizing: Analyzer, analyzer: Analyzer,
                                                               forms: tuple[str, ...]) -> None:
    assert len({lemmatizing.terms(f)[0] for f in forms}) == 1
    assert len({analyzer.terms(f)[0] for f in forms}) > 1  # why the table is there


def test_lemmas_leave_aliases_stopwords_and_unknown_words_alone(lemmatizing: Analyzer, analyzer: Analyzer) -> None:
    text = "Los estadounidenses dijeron que EE. UU. fueron a Pionyang con la ONU"
    assert lemmatizing.terms(text) == [analyzer.terms("estadounidenses")[0], analyzer.terms("decir")[0],
                                       analyzer.terms("EE. UU.")[0], "pionyang", analyzer.terms("ONU")[0]]


def test_lemma_table_is_folded_and_only_holds_forms_whose_stem_it_changes() -> None:
    table = spanish_lemmas()
    assert table["niega"] == "negar" and table["murio"] == "morir" and len(table) > 100_000
    sample = list(table.items())[::997]
    assert all(form == fold(form) and lemma == fold(lemma) and form != lemma for form, lemma in sample)
    stemmer = Stemmer.Stemmer("spanish")
    assert all(stemmer.stemWord(form) != stemmer.stemWord(lemma) for form, lemma in sample)


def test_auxiliary_lemmas_and_cuanto_are_stopwords(lemmatizing: Analyzer) -> None:
    """Found in the console: "¿Dónde iba a ser?" kept "ir" and "ser" (the lemmas of "iba" and
    "ser", which bm25s' list lacks) and read as a question that names its subject."""
    assert lemmatizing.terms("¿Dónde iba a ser?") == []
    assert lemmatizing.terms("¿Cuánto tiempo estuvieron?") == lemmatizing.terms("tiempo")
    assert lemmatizing.terms("ha sido elegido") == lemmatizing.terms("elegido")


def test_accents_do_not_matter(analyzer: Analyzer) -> None:
    assert analyzer.terms("la acusación de artillería") == analyzer.terms("la acusacion de artilleria")


def test_stopwords_are_dropped(analyzer: Analyzer) -> None:
    assert analyzer.terms("¿Qué es lo que de la?") == []


@pytest.mark.parametrize("variant", ["EE. UU.", "EE.UU.", "EEUU", "EUA", "USA", "Estados Unidos", "estadounidenses",
                                     "estadounidense", "ee uu", "ESTADOS UNIDOS"])
def test_united_states_aliases(analyzer: Analyzer, variant: str) -> None:
    assert analyzer.terms(variant) == ["estados_unidos"]


def test_question_meets_article_through_alias(analyzer: Analyzer) -> None:
    question = set(analyzer.terms("¿Qué acusa EE. UU.?"))
    article = set(analyzer.terms("Funcionarios estadounidenses han acusado a Corea del Norte"))
    assert question <= article


@pytest.mark.parametrize("a,b", [("UE", "Unión Europea"), ("ONU", "Naciones Unidas"), ("OTAN", "NATO"),
                                 ("OMS", "Organización Mundial de la Salud")])
def test_other_aliases(analyzer: Analyzer, a: str, b: str) -> None:
    assert analyzer.terms(a) == analyzer.terms(b)


@pytest.mark.parametrize("a,b", [("foto", "fotografía"), ("fotos", "fotografías"), ("la tele", "la televisión"),
                                 ("profe", "profesora"), ("bici", "bicicleta"), ("peli", "película"),
                                 ("el finde", "el fin de semana"), ("km", "kilómetros"), ("kilos", "kg")])
def test_a_word_clipped_as_people_type_it_is_the_whole_word(analyzer: Analyzer, a: str, b: str) -> None:
    """"y q foto subio" must meet "compartió una fotografía"."""
    assert analyzer.terms(a) == analyzer.terms(b)


def test_loose_associations_are_not_aliases(analyzer: Analyzer) -> None:
    assert analyzer.terms("Rusia") != analyzer.terms("Kremlin")
    assert analyzer.terms("ruso") != analyzer.terms("Moscú")


def test_alias_table_is_data_and_extendable(tmp_path: Path) -> None:
    extra = tmp_path / "mine.tsv"
    extra.write_text("# mine\npemex\tPemex|Petróleos Mexicanos\n", encoding="utf-8")
    analyzer = Analyzer(read_alias_text(extra))
    assert analyzer.terms("Petróleos Mexicanos") == analyzer.terms("PEMEX") == ["pemex"]
    assert analyzer.terms("EE. UU.") == ["estados_unidos"]  # the bundled table still applies


def test_parse_aliases_ignores_comments_and_blank_lines() -> None:
    table = parse_aliases("# c\n\nx_y\tA b|C\n")
    assert table == {("a", "b"): "x_y", ("c",): "x_y"}


def test_one_letter_words_are_kept(analyzer: Analyzer) -> None:
    assert "x" in analyzer.terms("la generación x")


def test_bm25_ranks_and_handles_empty(analyzer: Analyzer, tmp_path: Path) -> None:
    docs = ["Estados Unidos acusa a Corea del Norte", "El Kremlin niega todo", "", "Recetas de cocina"]
    index = Bm25Index.build([analyzer.terms(d) for d in docs])
    scores = index.scores(analyzer.terms("¿Qué acusa EE. UU.?"))
    assert scores.shape == (4,) and int(np.argmax(scores)) == 0
    assert not index.scores([]).any()
    assert not index.scores(["palabradesconocida"]).any()
    index.save(tmp_path / "bm25")
    loaded = Bm25Index.load(tmp_path / "bm25", mmap=True)
    np.testing.assert_allclose(loaded.scores(analyzer.terms("kremlin")), index.scores(analyzer.terms("kremlin")))
    assert not list((tmp_path / "bm25").glob("*.pkl"))


def test_idf_rarer_terms_weigh_more(analyzer: Analyzer) -> None:
    index = Bm25Index.build([analyzer.terms(t) for t in ["gato perro", "gato", "gato raton"]])
    idf = index.idf(analyzer.terms("gato raton"))
    assert idf[analyzer.terms("raton")[0]] > idf[analyzer.terms("gato")[0]]


def test_article_text_keeps_the_words_of_a_multi_word_alias() -> None:
    """"putin corea" must meet "Corea del Norte", which the alias turns into one token."""
    parts = Analyzer(read_alias_text(), alias_parts=True)
    document = parts.document_terms("Putin viaja a Corea del Norte")
    assert "corea_del_norte" in document and set(parts.terms("corea")) <= set(document)
    # The question keeps the canonical token alone: "Corea del Norte" still meets "norcoreanos" in full.
    assert parts.terms("Corea del Norte") == ["corea_del_norte"] == parts.document_terms("norcoreanos")
    # Letters of an abbreviation are not words: "EE. UU." adds no "ee" or "uu".
    assert parts.document_terms("EE. UU.") == ["estados_unidos"]
    # An index built before this analyses its articles as before.
    assert Analyzer(read_alias_text()).document_terms("Corea del Norte") == ["corea_del_norte"]

