"""The fetcher's pieces: the sources file, canonical URLs and ids, kinds, sitemaps, state, robots."""
from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from index.article_files import write_article
from index.article_page import NoArticle, extract_article
from index.fetch import run_fetch
from index.fetch_state import STATE_NAME, FetchState
from index.listings import kind_of
from index.settings import Settings
from index.sources import NoSources, read_sources
from index.web_urls import article_id, canonical_url
from tests.support.news_server import NewsServer, Route, article_html, atom, made_up_article, rss, sitemap


def test_sources_file_comments_blanks_bad_lines_and_repeats(tmp_path: Path, caplog) -> None:
    path = tmp_path / "sources.txt"
    path.write_text("\ufeff# mis fuentes\n\nhttps://diario.example/rss  # portada\n  http://b.example/mapa.xml\n"
                    "ftp://c.example/x\nwww.sin-esquema.example\nhttps://diario.example/rss\n"
                    "https://d.example/n#ancla\n", encoding="utf-8")
    sources = read_sources(path)
    assert [(s.url, s.line) for s in sources] == [("https://diario.example/rss", 3), ("http://b.example/mapa.xml", 4),
                                                  ("https://d.example/n#ancla", 8)]
    assert caplog.text.count("not an http(s) URL") == 2


@pytest.mark.parametrize("content", [None, "", "# nada\n\n", "mailto:a@b.example\n"])
def test_sources_file_missing_or_without_urls(tmp_path: Path, content: str | None) -> None:
    path = tmp_path / "sources.txt"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    with pytest.raises(NoSources):
        read_sources(path)


def test_canonical_url_and_id() -> None:
    plain = "https://diario.example/2024/03/lluvias?id=7"
    variants = ["HTTPS://Diario.Example:443/2024/03/lluvias?utm_source=rss&id=7&utm_campaign=x#comentarios",
                "https://diario.example/2024/03/lluvias?fbclid=abc&id=7", plain]
    assert {canonical_url(v) for v in variants} == {plain}
    assert article_id(plain) == article_id(canonical_url(variants[0])) and len(article_id(plain)) == 16
    assert article_id(plain) != article_id("https://diario.example/2024/03/lluvias?id=8")


@pytest.mark.parametrize(("body", "content_type", "kind"), [
    (rss("R", []), "application/rss+xml", "feed"),
    (rss("R", []), "text/html", "feed"),  # the root element wins over a wrong content type
    (atom("A", []), "application/octet-stream", "feed"),
    (sitemap([]), "text/xml", "sitemap"),
    (b'<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9"/>', "", "sitemapindex"),
    (article_html("T", ["p"]), "text/html", "page"),
    (b"<!doctype html><html><body><p>x</p></body></html>", "", "page"),
    (b"%PDF-1.4 binary", "application/pdf", None),
    (b"", "", None),
])
def test_kind_from_the_body_then_the_content_type(body: bytes, content_type: str, kind: str | None) -> None:
    assert kind_of(body, content_type) == kind


def test_extract_article_fields_and_stub() -> None:
    title, paragraphs = made_up_article(60)
    html = article_html(title, paragraphs, published="2023-12-01", canonical="/n/60?utm_medium=x")
    fields = extract_article(html, "http://x.example/antigua/60")
    assert fields["url"] == "http://x.example/n/60" and fields["id"] == article_id("http://x.example/n/60")
    assert (fields["title"], fields["date"], fields["source"]) == (title, "2023-12-01", "El Diario Inventado")
    no_site = extract_article(article_html(title, paragraphs, site_name=None), "http://y.example/2022/05/17/n")
    assert no_site["date"] == "2022-05-17" and no_site["source"]  # the date in the URL; a site name or the host
    with pytest.raises(NoArticle, match="no article text"):
        extract_article(article_html("Exclusiva", ["Solo para suscriptores."]), "http://x.example/s")


def test_write_article_new_unchanged_changed(tmp_path: Path) -> None:
    fields = {"id": "abc", "title": "T", "text": "x" * 400, "date": None, "url": "http://x.example/", "source": "X"}
    assert write_article(tmp_path, fields) == "new"
    stamp = (tmp_path / "abc.json").stat().st_mtime_ns
    assert write_article(tmp_path, dict(fields)) == "unchanged"
    assert (tmp_path / "abc.json").stat().st_mtime_ns == stamp
    assert write_article(tmp_path, {**fields, "text": "y" * 400}) == "changed"
    assert json.loads((tmp_path / "abc.json").read_text(encoding="utf-8"))["text"] == "y" * 400
    assert sorted(p.name for p in tmp_path.iterdir()) == ["abc.json"]  # no temporary file left


def test_unreadable_state_starts_afresh_without_rewriting(tmp_path: Path, caplog) -> None:
    (tmp_path / STATE_NAME).write_text("{no es json", encoding="utf-8")
    state = FetchState.load(tmp_path)
    assert state.entries == {} and "unreadable" in caplog.text
    state.settle("http://x.example/n", "http://x.example/rss", "sig", "new", "abc")
    state.save()
    assert FetchState.load(tmp_path).entry("http://x.example/n")["id"] == "abc"


def _settings(tmp_path: Path, server: NewsServer, *paths: str, **extra) -> Settings:
    (tmp_path / "sources.txt").write_text("\n".join(server.url(p) for p in paths), encoding="utf-8")
    return Settings(_env_file=None, sources_file=tmp_path / "sources.txt", articles_dir=tmp_path / "articles",
                    fetch_delay_seconds=0.0, **extra)


def test_sitemap_index_with_a_gzipped_sitemap_and_news_dates(tmp_path: Path) -> None:
    with NewsServer() as server:
        for n in (70, 71):
            title, paragraphs = made_up_article(n)
            server.routes[f"/n/{n}"] = Route(article_html(title, paragraphs))
        child = (f'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9" '
                 f'xmlns:news="http://www.google.com/schemas/sitemap-news/0.9">'
                 f'<url><loc>{server.url("/n/70")}</loc><news:news><news:publication_date>2024-05-06T10:00:00+02:00'
                 f'</news:publication_date><news:title>Setenta</news:title></news:news></url></urlset>').encode()
        server.routes["/mapa-1.xml.gz"] = Route(gzip.compress(child), "application/gzip", etag='"g1"')
        server.routes["/mapa-2.xml"] = Route(sitemap([(server.url("/n/71"), "2024-05-07")]), "text/xml")
        server.routes["/indice.xml"] = Route(
            ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
             f'<sitemap><loc>{server.url("/mapa-1.xml.gz")}</loc></sitemap>'
             f'<sitemap><loc>{server.url("/mapa-2.xml")}</loc></sitemap></sitemapindex>').encode(), "text/xml",
            etag='"i1"')
        settings = _settings(tmp_path, server, "/indice.xml")
        first = run_fetch(settings).results[0]
        assert (first.kind, first.new) == ("sitemapindex", 2)
        dates = sorted(json.loads(p.read_text())["date"] or "" for p in (tmp_path / "articles").glob("[!.]*.json"))
        assert "2024-05-06" in dates
        second = run_fetch(settings).results[0]
        assert (second.new, second.unchanged) == (0, 1)  # the gzipped sitemap answered 304
        assert server.seen("/mapa-1.xml.gz")[-1].headers.get("If-None-Match") == '"g1"'
        assert server.seen("/indice.xml")[-1].headers.get("If-None-Match") is None  # an index is always read


def test_no_robots_txt_allows_everything_and_redirect_loops_stop(tmp_path: Path) -> None:
    with NewsServer() as server:
        server.routes["/a"] = Route(status=302, location="/b")
        server.routes["/b"] = Route(status=302, location="/a")
        title, paragraphs = made_up_article(80)
        server.routes["/n/80"] = Route(article_html(title, paragraphs))
        report = run_fetch(_settings(tmp_path, server, "/a", "/n/80"))
        assert report.results[0].error == "more than 5 redirects"
        assert report.results[1].new == 1 and server.paths()[0] == "/robots.txt"


def test_announced_size_over_the_limit_is_not_read(tmp_path: Path) -> None:
    with NewsServer() as server:
        server.routes["/grande"] = Route(b"x" * 20_000)
        report = run_fetch(_settings(tmp_path, server, "/grande", fetch_max_page_bytes=10_000))
        assert report.results[0].error == "20,000 bytes announced, over the 10,000-byte limit; not read"


def test_latin1_page_and_feed_by_their_http_charset(tmp_path: Path) -> None:
    """Older Spanish sites still send ISO-8859-1 and say so only in the Content-Type header."""
    with NewsServer() as server:
        title, paragraphs = made_up_article(95)
        paragraphs[0] = "Año tras año, la señora Muñoz pidió más atención al camión de la basura. " + paragraphs[0]
        html = article_html(title, paragraphs).decode("utf-8").replace('<meta charset="utf-8">', "")
        server.routes["/n/95"] = Route(html.encode("latin-1"), "text/html; charset=ISO-8859-1")
        feed = rss("Crónicas del Año", [{"link": server.url("/n/95"), "title": "Señales"}]).decode("utf-8")
        feed = feed.replace(' encoding="utf-8"', "")
        server.routes["/rss.xml"] = Route(feed.encode("latin-1"), "application/rss+xml; charset=ISO-8859-1")
        run_fetch(_settings(tmp_path, server, "/rss.xml"))
        (record,) = [json.loads(p.read_text(encoding="utf-8")) for p in (tmp_path / "articles").glob("[!.]*.json")]
        assert record["text"].startswith("Año tras año, la señora Muñoz") and record["source"] == "El Diario Inventado"
        state = json.loads((tmp_path / "articles" / STATE_NAME).read_text(encoding="utf-8"))
        assert state["sources"][server.url("/rss.xml")]["name"] == "Crónicas del Año"
