#!/usr/bin/env python
"""Fetch benchmark: a local news site with N made-up articles, fetched twice by ``python -m index fetch``.

    python scripts/bench_fetch.py [--articles 200] [--delay 0] [--json OUT]

The site (tests/support/news_server.py, one host on 127.0.0.1) lists the articles in two RSS
feeds, an Atom feed and a sitemap that overlap (an article in two listings, some links with
utm_* parameters), every page naming its canonical URL. The command runs twice into a
temporary folder, as cron would. Reported: articles written, files after each run,
duplicates (two files with the same url or the same text), lost (served but not written),
new in run 2 (must be 0), files rewritten by run 2, requests and seconds per run.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))

from bench_common import machine  # noqa: E402

from tests.support.news_server import NewsServer, Route, article_html, atom, made_up_article, rss, sitemap  # noqa: E402


def build_site(server: NewsServer, count: int) -> list[str]:
    """Serve ``count`` articles in overlapping listings; return their canonical URLs."""
    urls = []
    for n in range(count):
        title, paragraphs = made_up_article(n)
        day = f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}"
        server.routes[f"/n/{n}"] = Route(article_html(title, paragraphs, published=day,
                                                      canonical=server.url(f"/n/{n}")))
        urls.append(server.url(f"/n/{n}"))

    def item(n: int, tracking: bool = False) -> dict:
        link = server.url(f"/n/{n}") + ("?utm_source=rss&utm_medium=feed" if tracking else "")
        return {"link": link, "title": made_up_article(n)[0], "date": f"2024-{1 + n % 12:02d}-{1 + n % 28:02d}"}

    quarter = count // 4
    server.routes["/robots.txt"] = Route(b"User-agent: *\nDisallow: /privado/\n", "text/plain")
    server.routes["/portada.xml"] = Route(rss("Portada", [item(n) for n in range(0, 2 * quarter)]),
                                          "application/rss+xml", etag='"portada"')
    server.routes["/ultima.xml"] = Route(rss("Última hora", [item(n, True) for n in range(quarter, 3 * quarter)]),
                                         "application/rss+xml", last_modified="Mon, 01 Jan 2024 00:00:00 GMT")
    server.routes["/local.atom"] = Route(atom("Local", [item(n) for n in range(2 * quarter, count)]),
                                         "application/atom+xml", etag='"local"')
    server.routes["/sitemap.xml"] = Route(sitemap([(url, "2024-06-01") for url in urls[3 * quarter - 10:]]),
                                          "application/xml", etag='"mapa"')
    return urls


def fetch(sources: Path, folder: Path, delay: float) -> tuple[float, str, int]:
    env = {**os.environ, "ARTICLE_QA_FETCH_DELAY_SECONDS": str(delay), "ARTICLE_QA_FETCH_MAX_NEW_ARTICLES": "100000",
           "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "index", "fetch", "--sources", str(sources), "--articles",
                           str(folder)], capture_output=True, text=True, env=env, cwd=folder.parent, check=False)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"fetch failed (exit {proc.returncode}):\n{proc.stderr}")
    return seconds, proc.stdout.strip(), proc.returncode


def files(folder: Path) -> dict[str, dict]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(folder.glob("[!.]*.json"))}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--articles", type=int, default=200, help="articles the site serves")
    parser.add_argument("--delay", type=float, default=0.0, help="ARTICLE_QA_FETCH_DELAY_SECONDS for the runs")
    parser.add_argument("--json", type=Path, help="also write the result here")
    args = parser.parse_args()
    with NewsServer() as server, tempfile.TemporaryDirectory() as tmp:
        served = build_site(server, args.articles)
        folder, sources = Path(tmp) / "articles", Path(tmp) / "sources.txt"
        sources.write_text("\n".join(server.url(p) for p in ("/portada.xml", "/ultima.xml", "/local.atom",
                                                              "/sitemap.xml")) + "\n", encoding="utf-8")
        seconds1, summary1, _ = fetch(sources, folder, args.delay)
        requests1, after1 = len(server.requests), files(folder)
        mtimes1 = {p.name: p.stat().st_mtime_ns for p in folder.glob("[!.]*.json")}
        seconds2, summary2, _ = fetch(sources, folder, args.delay)
        requests2, after2 = len(server.requests) - requests1, files(folder)
        rewritten = sum(p.stat().st_mtime_ns != mtimes1.get(p.name) for p in folder.glob("[!.]*.json"))
    urls = [record["url"] for record in after2.values()]
    texts = [record["text"] for record in after2.values()]
    result = {
        "machine": machine(["httpx", "feedparser", "trafilatura", "lxml"]),
        "served": len(served), "delay_seconds": args.delay,
        "written": len(after1), "files_after_run_1": len(after1), "files_after_run_2": len(after2),
        "duplicates": (len(urls) - len(set(urls))) + (len(texts) - len(set(texts))),
        "lost": len(set(served) - set(urls)),
        "new_in_run_2": int(re.search(r"new (\d+)", summary2).group(1)),
        "rewritten_by_run_2": rewritten,
        "requests": [requests1, requests2],
        "seconds": [round(seconds1, 2), round(seconds2, 2)],
        "summaries": [summary1, summary2],
    }
    m = result["machine"]
    print(f"machine: {m['nproc']} cores, {m['cpu_model']}, Python {m['versions']['python']}")
    for key in ("served", "delay_seconds", "written", "files_after_run_1", "files_after_run_2", "duplicates", "lost",
                "new_in_run_2", "rewritten_by_run_2", "requests", "seconds"):
        print(f"{key}: {result[key]}")
    for number, summary in enumerate(result["summaries"], start=1):
        print(f"run {number}: {summary}")
    if args.json:
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    ok = result["lost"] == 0 and result["duplicates"] == 0 and result["new_in_run_2"] == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
