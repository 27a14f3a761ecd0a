"""python -m index fetch against a local news site: what is written, what is asked, what is left alone.

The site (tests/support/news_server.py) serves an RSS 2.0 feed, an Atom feed, a broken feed, a
sitemap, article pages (with and without dates, a paywall-like stub, a 404, a slow one, a huge
one, a redirect) and a robots.txt that disallows /privado/. All text is made up for these tests.
"""
from __future__ import annotations

import itertools
import json
import os
from pathlib import Path

import pytest

from index.fetch import run_fetch
from index.fetch_state import STATE_NAME
from index.ingest import load_articles
from index.settings import Settings
from tests.support.news_server import NewsServer, Route, article_html, atom, made_up_article, rss, sitemap

UA = "article-qa-test/1.0 (pruebas)"
RSS_TYPE, ATOM_TYPE, XML_TYPE = "application/rss+xml", "application/atom+xml", "application/xml"
STUB = ["Este contenido es exclusivo para suscriptores.", "Suscríbete para seguir leyendo."]


def page(number: int, **kwargs) -> Route:
    title, paragraphs = made_up_article(number)
    return Route(article_html(title, paragraphs, **kwargs))


def build_site(server: NewsServer) -> None:
    """Articles 1-2 in the RSS feed (plus a stub, a 404 and a disallowed page), 3 in the Atom
    feed (plus a redirect to 4), 5 and 6 in the sitemap (5 with article:published_time, 6 huge)."""
    url = server.url
    routes = server.routes
    routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /privado/\n", "text/plain")
    routes["/noticias/1"] = page(1, canonical=url("/noticias/1?utm_source=rss&utm_medium=feed"))
    routes["/noticias/2"] = page(2)
    routes["/noticias/stub"] = Route(article_html("Exclusiva", STUB))
    routes["/privado/7"] = page(7)
    routes["/noticias/3"] = page(3, site_name=None)
    routes["/antigua/4"] = Route(status=301, location=url("/noticias/4"))
    routes["/noticias/4"] = page(4)
    routes["/2024/02/29/noticias/5"] = page(5, published="2024-02-28")
    routes["/noticias/6"] = Route(b"<p>" + b"texto " * 2000 + b"</p>", repeat=20)
    routes["/rss.xml"] = Route(rss("El Diario Inventado - Portada", [
        {"link": url("/noticias/1"), "title": "Uno", "date": "2024-03-01", "description": "primera"},
        {"link": url("/noticias/2"), "title": "Dos", "date": "2024-03-02"},
        {"link": url("/noticias/stub"), "title": "Exclusiva", "date": "2024-03-02"},
        {"link": url("/noticias/404"), "title": "Borrada", "date": "2024-03-02"},
        {"link": url("/privado/7"), "title": "Privada", "date": "2024-03-02"},
    ]), RSS_TYPE, etag='"rss-1"')
    routes["/atom"] = Route(atom("Gaceta de Pruebas", [
        {"link": url("/noticias/3"), "title": "Tres", "date": "2024-03-03"},
        {"link": url("/antigua/4"), "title": "Cuatro", "date": "2024-03-04"},
    ]), "text/html; charset=utf-8", last_modified="Mon, 04 Mar 2024 08:00:00 GMT")  # a feed served as HTML
    routes["/roto.xml"] = Route(b'<?xml version="1.0"?><rss version="2.0"><channel><title>Roto<item><<<&&',
                                RSS_TYPE)
    routes["/mapa"] = Route(sitemap([(url("/2024/02/29/noticias/5"), "2024-02-29"), (url("/noticias/6"), None)]),
                            XML_TYPE, etag='"map-1"')


def settings_for(tmp_path: Path, server: NewsServer, sources: list[str], **overrides) -> Settings:
    sources_file = tmp_path / "sources.txt"
    sources_file.write_text("# fuentes de prueba\n\n" + "\n".join(server.url(s) for s in sources) + "\n",
                            encoding="utf-8")
    values = {"sources_file": sources_file, "articles_dir": tmp_path / "articles", "fetch_user_agent": UA,
              "fetch_delay_seconds": 0.0, "fetch_timeout_seconds": 2.0, "fetch_max_page_bytes": 50_000}
    return Settings(_env_file=None, **{**values, **overrides})


def articles(folder: Path) -> dict[str, dict]:
    """The written articles by their path on the site."""
    found = {}
    for path in folder.glob("[!.]*.json"):
        record = json.loads(path.read_text(encoding="utf-8"))
        found[record["url"].split(":", 2)[2].split("/", 1)[1]] = record
    return found


def mtimes(folder: Path) -> dict[str, int]:
    return {p.name: os.stat(p).st_mtime_ns for p in folder.iterdir()}


@pytest.fixture
def site():
    with NewsServer() as server:
        build_site(server)
        yield server


ALL = ["/rss.xml", "/atom", "/roto.xml", "/mapa", "/noticias/desaparecida"]


def test_first_run_writes_each_article_once_with_its_fields(tmp_path: Path, site: NewsServer) -> None:
    report = run_fetch(settings_for(tmp_path, site, ALL))
    written = articles(tmp_path / "articles")
    assert sorted(written) == ["2024/02/29/noticias/5", "noticias/1", "noticias/2", "noticias/3", "noticias/4"]
    one = written["noticias/1"]
    assert set(one) == {"id", "title", "text", "date", "url", "source", "fetched_at"}
    title, paragraphs = made_up_article(1)
    assert one["title"] == title and one["text"] == "\n".join(paragraphs)
    assert one["url"] == site.url("/noticias/1")  # the canonical URL without its tracking parameters
    assert one["date"] == "2024-03-01" and one["source"] == "El Diario Inventado"  # og:site_name, not the feed's title
    assert one["fetched_at"].endswith("Z")
    assert (tmp_path / "articles" / f"{one['id']}.json").is_file()
    assert written["noticias/3"]["source"] == "Gaceta de Pruebas"  # no site name on the page: the feed's title
    assert written["noticias/3"]["date"] == "2024-03-03"
    assert written["noticias/4"]["url"] == site.url("/noticias/4")  # followed the 301
    five = written["2024/02/29/noticias/5"]
    assert five["date"] == "2024-02-28"  # article:published_time, not the date in the URL
    assert five["source"] == "El Diario Inventado"  # og:site_name: a sitemap has no title
    by_url = {r.url: r for r in report.results}
    assert by_url[site.url("/roto.xml")].error.startswith("broken feed")
    assert by_url[site.url("/noticias/desaparecida")].error == "HTTP 404"
    rss_result = by_url[site.url("/rss.xml")]
    assert (rss_result.new, sum(rss_result.failures.values())) == (2, 3)
    assert set(rss_result.failures) == {"no article text", "HTTP 404", "disallowed by robots.txt; not requested"}
    assert by_url[site.url("/mapa")].failures == {"larger than the 50,000-byte limit; reading stopped": 1}
    assert report.exit_code() == 0


def test_polite_requests_robots_and_user_agent(tmp_path: Path, site: NewsServer) -> None:
    run_fetch(settings_for(tmp_path, site, ALL))
    assert not site.seen("/privado/7"), "a page robots.txt disallows was requested"
    assert len(site.seen("/robots.txt")) == 1  # once per host and run
    assert {r.headers.get("User-Agent") for r in site.requests} == {UA}


def test_build_reads_the_articles_and_not_the_state(tmp_path: Path, site: NewsServer) -> None:
    run_fetch(settings_for(tmp_path, site, ALL))
    folder = tmp_path / "articles"
    assert (folder / STATE_NAME).is_file()
    ingested = load_articles(folder)
    assert not ingested.skipped
    assert sorted(a.id for a in ingested.articles) == sorted(r["id"] for r in articles(folder).values())
    assert all(a.url and a.source and a.text for a in ingested.articles)


def test_second_run_asks_conditionally_and_writes_nothing(tmp_path: Path, site: NewsServer) -> None:
    settings = settings_for(tmp_path, site, ALL)
    run_fetch(settings)
    folder = tmp_path / "articles"
    before, ids = mtimes(folder), {k: v["id"] for k, v in articles(folder).items()}
    first_requests = len(site.requests)
    report = run_fetch(settings)
    assert {k: v["id"] for k, v in articles(folder).items()} == ids  # ids are stable
    assert {k: v for k, v in mtimes(folder).items() if k.endswith(".json") and k != STATE_NAME} == \
        {k: v for k, v in before.items() if k.endswith(".json") and k != STATE_NAME}
    assert site.seen("/rss.xml")[-1].headers.get("If-None-Match") == '"rss-1"'
    assert site.seen("/atom")[-1].headers.get("If-Modified-Since") == "Mon, 04 Mar 2024 08:00:00 GMT"
    assert site.seen("/mapa")[-1].headers.get("If-None-Match") == '"map-1"'  # the huge page is a lasting failure
    second = [r.path for r in site.requests[first_requests:]]
    assert second == ["/robots.txt", *ALL]  # each source once, no article page
    by_url = {r.url: r for r in report.results}
    assert all(by_url[site.url(p)].not_modified for p in ("/rss.xml", "/atom", "/mapa"))
    assert sum(r.new + r.changed for r in report.results) == 0


def test_changed_article_is_rewritten_and_dropped_one_kept(tmp_path: Path, site: NewsServer) -> None:
    settings = settings_for(tmp_path, site, ["/rss.xml"])
    run_fetch(settings)
    folder = tmp_path / "articles"
    old = articles(folder)
    title, paragraphs = made_up_article(1)
    update = "Actualización: el pleno aprobó la propuesta por unanimidad."
    site.routes["/noticias/1"] = Route(article_html(title, [*paragraphs, update]))
    site.routes["/rss.xml"] = Route(rss("El Diario Inventado - Portada", [
        {"link": site.url("/noticias/1"), "title": "Uno", "date": "2024-03-01", "description": "actualizada"},
    ]), RSS_TYPE, etag='"rss-2"')
    report = run_fetch(settings)
    new = articles(folder)
    assert new["noticias/1"]["id"] == old["noticias/1"]["id"]
    assert new["noticias/1"]["text"] == old["noticias/1"]["text"] + "\nActualización: el pleno aprobó la propuesta " \
        "por unanimidad."
    assert new["noticias/2"] == old["noticias/2"]  # gone from the feed, kept on disk
    assert (report.results[0].changed, report.results[0].new) == (1, 0)
    assert not list(folder.glob(".*.tmp"))


def test_cap_leaves_the_rest_for_the_next_run(tmp_path: Path) -> None:
    with NewsServer() as server:
        items = []
        for n in range(10, 15):
            server.routes[f"/n/{n}"] = page(n)
            items.append({"link": server.url(f"/n/{n}"), "title": f"N{n}", "date": "2024-03-05"})
        server.routes["/rss.xml"] = Route(rss("Cap", items), RSS_TYPE, etag='"cap"')
        settings = settings_for(tmp_path, server, ["/rss.xml"], fetch_max_new_articles=2)
        counts = []
        for _ in range(4):
            report = run_fetch(settings)
            counts.append((report.results[0].new, report.results[0].left))
        assert counts == [(2, 3), (2, 1), (1, 0), (0, 0)]
        assert len(list((tmp_path / "articles").glob("[!.]*.json"))) == 5
        assert [r.headers.get("If-None-Match") for r in server.seen("/rss.xml")] == [None, None, None, '"cap"']
        assert all(len(server.seen(f"/n/{n}")) == 1 for n in range(10, 15))  # none fetched twice


def test_delay_between_requests_to_one_host(tmp_path: Path) -> None:
    with NewsServer() as server:
        for n in (20, 21, 22):
            server.routes[f"/n/{n}"] = page(n)
        server.routes["/rss.xml"] = Route(rss("Pausa", [{"link": server.url(f"/n/{n}"), "title": str(n)}
                                                        for n in (20, 21, 22)]), RSS_TYPE)
        run_fetch(settings_for(tmp_path, server, ["/rss.xml"], fetch_delay_seconds=0.2))
        arrivals = [r.at for r in server.requests]
        assert len(arrivals) == 5  # robots.txt, the feed, three pages
        gaps = [b - a for a, b in itertools.pairwise(arrivals)]
        assert min(gaps) >= 0.2, gaps


def test_timeout_and_a_failing_source_do_not_stop_the_others(tmp_path: Path) -> None:
    with NewsServer() as server:
        server.routes["/lenta"] = Route(article_html("Lenta", made_up_article(30)[1]), delay=1.0)
        server.routes["/n/31"] = page(31)
        server.routes["/rss.xml"] = Route(rss("Lenta", [{"link": server.url("/lenta"), "title": "Lenta"},
                                                        {"link": server.url("/n/31"), "title": "31"}]), RSS_TYPE)
        settings = settings_for(tmp_path, server, ["/no-existe.xml", "/rss.xml"], fetch_timeout_seconds=0.3)
        report = run_fetch(settings)
        broken, feed = report.results
        assert broken.error == "HTTP 404"
        assert feed.new == 1 and feed.failures == {"timed out after 0.3 s": 1}
        assert report.exit_code() == 0
        run_fetch(settings)  # a timeout is worth another try next run; the feed is read in full again
        assert len(server.seen("/lenta")) == 2 and len(server.seen("/n/31")) == 1


def test_every_source_failing_is_exit_1(tmp_path: Path) -> None:
    with NewsServer() as server:
        report = run_fetch(settings_for(tmp_path, server, ["/a.xml", "/b.xml"]))
        assert [r.error for r in report.results] == ["HTTP 404", "HTTP 404"] and report.exit_code() == 1


def test_robots_error_means_nothing_is_fetched_from_the_host(tmp_path: Path, caplog) -> None:
    with NewsServer() as server:
        server.routes["/robots.txt"] = Route(b"error", "text/plain", status=503)
        server.routes["/rss.xml"] = Route(rss("X", []), RSS_TYPE)
        report = run_fetch(settings_for(tmp_path, server, ["/rss.xml"]))
        assert server.paths() == ["/robots.txt"]
        assert report.results[0].error.startswith("robots.txt unavailable (HTTP 503)")
        assert "nothing is fetched from this host" in caplog.text


def test_single_page_source_and_its_conditional_get(tmp_path: Path) -> None:
    with NewsServer() as server:
        title, paragraphs = made_up_article(40)
        server.routes["/n/40"] = Route(article_html(title, paragraphs), last_modified="Tue, 05 Mar 2024 10:00:00 GMT")
        settings = settings_for(tmp_path, server, ["/n/40"])
        first, second = run_fetch(settings), run_fetch(settings)
        assert (first.results[0].kind, first.results[0].new) == ("page", 1)
        assert second.results[0].not_modified and second.results[0].unchanged == 1
        assert server.seen("/n/40")[-1].headers.get("If-Modified-Since") == "Tue, 05 Mar 2024 10:00:00 GMT"


def test_an_article_in_two_listings_is_one_file_and_one_request(tmp_path: Path) -> None:
    with NewsServer() as server:
        server.routes["/n/90"] = page(90)
        server.routes["/n/91"] = page(91)
        link = server.url("/n/90")
        feed_a = [{"link": link + "?utm_source=rss#arriba", "title": "Noventa", "date": "2024-03-09"}]
        feed_b = [{"link": link, "title": "Noventa (otra sección)", "date": "2024-03-09"}]
        server.routes["/a.xml"] = Route(rss("Portada", feed_a), RSS_TYPE)
        server.routes["/b.atom"] = Route(atom("Local", feed_b), ATOM_TYPE)
        server.routes["/mapa"] = Route(sitemap([(link, "2024-03-09")]), XML_TYPE)
        settings = settings_for(tmp_path, server, ["/a.xml", "/b.atom", "/mapa"])
        first = run_fetch(settings)
        assert [(r.new, r.unchanged) for r in first.results] == [(1, 0), (0, 1), (0, 1)]
        assert [p for p in server.paths() if p.startswith("/n/")] == ["/n/90"]  # no tracking parameters asked
        # The listings change (no validators: every run reads them), each still naming /n/90 its own way.
        feed_a.append({"link": server.url("/n/91"), "title": "Noventa y uno", "date": "2024-03-10"})
        server.routes["/a.xml"] = Route(rss("Portada", feed_a), RSS_TYPE)
        second = run_fetch(settings)
        assert [(r.new, r.unchanged) for r in second.results] == [(1, 1), (0, 1), (0, 1)]
        assert len(server.seen("/n/90")) == 1 and len(list((tmp_path / "articles").glob("[!.]*.json"))) == 2
