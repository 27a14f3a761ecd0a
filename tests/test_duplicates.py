"""index.duplicates: which articles are one story, and which version of an article is indexed."""
from __future__ import annotations

import re

import pytest

from index import duplicates
from index.duplicates import find_stories, group_texts, jaccard, outlet_name, shingle_hashes
from index.normalise import content_hash
from index.records import Article

THRESHOLD = 0.5  # the default's neighbourhood; every case below is far from it on either side

FIRE = (
    "Un incendio consumió la madrugada del martes 42 locales del mercado de San Juan, en el centro de la "
    "ciudad, sin dejar víctimas, según informó la Secretaría de Protección Civil. El fuego comenzó hacia las "
    "3:40 horas en un puesto de comida y se extendió con rapidez por los pasillos techados con lámina. "
    "Cuatro camiones de bomberos y 35 elementos trabajaron durante casi cinco horas para controlar las llamas. "
    "Los comerciantes calcularon pérdidas superiores a 12 millones de pesos y pidieron apoyo al gobierno local "
    "para reconstruir sus negocios antes de la temporada navideña. La alcaldesa visitó el lugar por la mañana "
    "y prometió un fondo de emergencia para los afectados, además de una revisión de las instalaciones "
    "eléctricas de todos los mercados públicos. Peritos de la fiscalía investigan si un cortocircuito causó "
    "el siniestro, como sostienen varios locatarios que habían denunciado fallas en el cableado desde hace meses."
)
FIRE_OTHER = (
    "Un incendio en una bodega de productos químicos obligó a desalojar a cerca de 300 vecinos de la colonia "
    "Industrial la noche del viernes, informó la Secretaría de Protección Civil. Las llamas se originaron en el "
    "segundo piso del inmueble y una columna de humo negro fue visible desde varios kilómetros. Los bomberos "
    "tardaron siete horas en sofocar el fuego y dos de ellos fueron atendidos por inhalación de humo. La empresa "
    "propietaria aseguró que cuenta con todos los permisos y que colaborará con las autoridades. Vecinos de la "
    "zona se quejaron de que la bodega almacenaba solventes sin medidas de seguridad y exigieron su clausura "
    "definitiva. La fiscalía abrió una carpeta de investigación para determinar las causas del siniestro."
)
ECONOMY = (
    "El banco central mantuvo su tasa de interés de referencia sin cambios por tercera reunión consecutiva, en "
    "línea con lo que esperaban los analistas. La junta de gobierno señaló que la inflación general ha "
    "comenzado a ceder, aunque los precios de los servicios siguen presionados. El peso se apreció ligeramente "
    "tras el anuncio y la bolsa cerró con una ganancia moderada. Los analistas prevén el primer recorte del año "
    "para el segundo trimestre si la tendencia de los precios se mantiene."
)


def article(aid: str, text: str, title: str = "", source: str | None = None, url: str | None = None,
            date: str | None = None) -> Article:
    title = title or f"Título {aid}"
    return Article(aid, title, text, content_hash(title, text, date, url, source), date, url, source, f"{aid}.json")


def mask_numbers(text: str) -> str:
    return re.sub(r"\d+(?:[.:,]\d+)*", "*NUMBER*", text)


def same_group(texts: list[str], threshold: float = THRESHOLD) -> list[bool]:
    groups = group_texts(texts, threshold)
    return [g == groups[0] for g in groups]


def test_exact_copy_is_one_story() -> None:
    assert same_group([FIRE, FIRE, ECONOMY]) == [True, True, False]


def test_copy_with_another_header_and_footer_is_one_story() -> None:
    wire = ("Ciudad de México (Agencia). " + FIRE + " Síguenos en nuestras redes sociales. Todos los derechos "
            "reservados por la agencia, prohibida su reproducción total o parcial.")
    assert jaccard(shingle_hashes(FIRE), shingle_hashes(wire)) < 1.0
    assert same_group([FIRE, wire]) == [True, True]


def test_copy_with_masked_numbers_is_one_story() -> None:
    masked = mask_numbers(FIRE)
    assert masked != FIRE and "*NUMBER*" in masked
    assert jaccard(shingle_hashes(FIRE), shingle_hashes(masked)) == 1.0  # numbers fold to one token
    assert same_group([FIRE, masked]) == [True, True]


def test_accents_and_case_do_not_separate_copies() -> None:
    plain = FIRE.upper().replace("Ó", "O").replace("Í", "I").replace("É", "E").replace("Á", "A")
    assert same_group([FIRE, plain]) == [True, True]


def test_same_topic_different_story_is_not_grouped() -> None:
    similarity = jaccard(shingle_hashes(FIRE), shingle_hashes(FIRE_OTHER))
    assert 0.0 < similarity < 0.1  # they share phrases ("informó la Secretaría de Protección Civil")
    assert same_group([FIRE, FIRE_OTHER, ECONOMY]) == [True, False, False]


def test_grouping_is_transitive() -> None:
    """A~B and B~C put A and C in one story even when A and C alone are below the threshold."""
    w = FIRE.split()
    third = len(w) // 6
    a, b, c = (" ".join(w[start : start + 4 * third]) for start in (0, third, 2 * third))
    ha, hb, hc = (shingle_hashes(t) for t in (a, b, c))
    assert jaccard(ha, hb) >= THRESHOLD and jaccard(hb, hc) >= THRESHOLD > jaccard(ha, hc)
    assert same_group([a, c]) == [True, False]
    assert same_group([a, b, c]) == [True, True, True]
    assert same_group([c, a, b]) == [True, True, True]


def test_threshold_decides() -> None:
    half = FIRE[: len(FIRE) // 2]
    similarity = jaccard(shingle_hashes(FIRE), shingle_hashes(half))
    assert same_group([FIRE, half], similarity - 0.1) == [True, True]
    assert same_group([FIRE, half], similarity + 0.01) == [True, False]


def test_empty_and_short_texts_do_not_fail() -> None:
    assert group_texts([], THRESHOLD) == []
    assert same_group(["Breve.", "Breve.", "Otra cosa."]) == [True, True, False]
    assert len(shingle_hashes("")) == 0


def test_copies_from_other_outlets_all_stay_and_name_one_story() -> None:
    stories = find_stories([
        article("a", FIRE, source="Diario Uno", date="2024-03-01"),
        article("b", "Agencia. " + FIRE, source="Diario Dos", date="2024-03-02"),
        article("c", ECONOMY, source="Diario Uno"),
    ], THRESHOLD)
    assert stories.superseded == {}
    assert stories.story == {"a": "b", "b": "b", "c": "c"}  # the newest member represents it
    assert {story: sorted(members) for story, members in stories.members().items()} == {"b": ["a", "b"]}


@pytest.mark.parametrize("older, newer", [
    (dict(source="El Diario", date="2024-03-01"), dict(source="El Diario", date="2024-03-02")),
    (dict(url="https://www.diario.example/a", date="2024-03-01"), dict(url="https://diario.example/b", date="2024-03-05")),
    (dict(title="Arde el mercado", source="Uno", date="2024-03-01"), dict(title="Arde el mercado", source="Dos", date="2024-03-04")),
])
def test_an_updated_version_supersedes_the_older_one(older: dict, newer: dict) -> None:
    updated = FIRE + " Actualización: la fiscalía confirmó que el cortocircuito ocurrió en un puesto de jugos."
    stories = find_stories([article("new", updated, **newer), article("old", FIRE, **older)], THRESHOLD)
    assert stories.superseded == {"old": "new"}
    assert stories.story == {"new": "new"}


def test_without_dates_the_later_article_of_the_build_is_the_newer_version() -> None:
    stories = find_stories([article("first", FIRE, source="El Diario"), article("second", FIRE, source="El Diario")],
                           THRESHOLD)
    assert stories.superseded == {"first": "second"}


def test_versions_and_other_outlets_together() -> None:
    """Two versions from one outlet and a copy elsewhere: the older version goes, the copy stays."""
    stories = find_stories([
        article("v1", FIRE, source="El Diario", date="2024-03-01"),
        article("v2", FIRE + " Más datos al cierre.", source="El Diario", date="2024-03-02"),
        article("copy", "Agencia. " + FIRE, source="Otro Medio", date="2024-03-01"),
    ], THRESHOLD)
    assert stories.superseded == {"v1": "v2"}
    assert stories.story == {"v2": "v2", "copy": "v2"}


def test_one_outlets_texts_sharing_only_part_of_their_text_both_stay() -> None:
    """Grouped as one story (over the threshold) but not versions (under SUPERSEDE_JACCARD): the
    older text has much of its own, and a superseded text would not be searched at all."""
    own = " ".join(f"El tribunal escuchó al testigo número {n} sobre la obra {n} del puerto."
                   for n in ("uno", "dos", "tres", "cuatro"))
    first, second = FIRE + " " + own, FIRE
    similarity = jaccard(shingle_hashes(first), shingle_hashes(second))
    assert THRESHOLD <= similarity < duplicates.SUPERSEDE_JACCARD
    stories = find_stories([article("old", first, source="El Diario", date="2024-03-01"),
                            article("new", second, source="El Diario", date="2024-03-02")], THRESHOLD)
    assert stories.superseded == {}
    assert stories.story == {"old": "new", "new": "new"}


def test_outlet_names() -> None:
    assert outlet_name("El País", "https://elpais.com/x") == "El País"
    assert outlet_name(None, "https://www.bbc.com/mundo/x") == "bbc.com"
    assert outlet_name("  ", None) is None
    assert duplicates.host("not a url") is None


def test_the_labelled_pairs_file_has_its_documented_shape() -> None:
    """eval/duplicate_pairs.jsonl (eval/README.md), checked without the corpus."""
    import json
    from pathlib import Path

    path = Path(__file__).resolve().parent.parent / "eval" / "duplicate_pairs.jsonl"
    pairs = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    assert len(pairs) >= 50
    kinds = {"exact_copy", "version", "contaminated", "follow_up", "same_topic", "same_outlet", "easy"}
    for p in pairs:
        assert {"a", "b", "file", "duplicate", "kind", "split", "note"} <= set(p) <= {*p, "file_b"}
        assert p["kind"] in kinds and p["split"] in {"tune", "holdout"} and p["note"].strip()
        assert p["duplicate"] is (p["kind"] in {"exact_copy", "version"})
    for split in ("tune", "holdout"):
        labels = {p["duplicate"] for p in pairs if p["split"] == split}
        assert labels == {True, False}
    assert len({(p["a"], p["b"], p["file"], p.get("file_b")) for p in pairs}) == len(pairs)


def test_groups_are_the_connected_copies_of_all_pairs() -> None:
    """Grouping by LSH buckets gives what checking every pair would (pairs far above the
    threshold are always candidates): the connected parts of the copy graph, numbered by their
    first text, with a chain grouped through its middle link."""
    sentences = FIRE.split(". ")
    chain = [". ".join(sentences[:5]), ". ".join(sentences[1:6]), ". ".join(sentences[2:])]  # A~B, B~C, not A~C
    texts = [ECONOMY, *chain, FIRE_OTHER, FIRE_OTHER + " Fin.", ECONOMY.replace("tercera", "cuarta"), "Breve."]
    hashes = [shingle_hashes(t) for t in texts]
    parent = list(range(len(texts)))  # all pairs, by hand

    def root(i: int) -> int:
        return i if parent[i] == i else root(parent[i])

    for i in range(len(texts)):
        for j in range(i + 1, len(texts)):
            if jaccard(hashes[i], hashes[j]) >= THRESHOLD and root(i) != root(j):
                parent[max(root(i), root(j))] = min(root(i), root(j))
    expected = [root(i) for i in range(len(texts))]
    assert group_texts(texts, THRESHOLD) == expected
    assert expected[1] == expected[2] == expected[3] and jaccard(hashes[1], hashes[3]) < THRESHOLD
    assert expected[0] == expected[6] and expected[4] == expected[5] and len(set(expected)) == 4
