"""A local news site for the fetch tests and scripts/bench_fetch.py: feeds, sitemaps, pages, robots.txt.

``NewsServer`` serves whatever routes a test sets, on 127.0.0.1 at a free port, from a thread,
and records every request (path, headers, arrival time) so a test can assert what the fetcher
did: which paths it asked for, with which headers, how far apart. Routes can answer 304 to a
matching ETag or Last-Modified, redirect, wait before answering, or send a huge body. The
builders make the documents (an article page, RSS 2.0, Atom, a sitemap) from made-up Spanish
text; ``made_up_article`` writes as many distinct articles as a benchmark needs.
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import format_datetime
from html import escape
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "text/html; charset=utf-8"
    status: int = 200
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0  # seconds before answering (a slow page)
    location: str | None = None  # for redirects
    repeat: int = 1  # the body is sent this many times (a huge page without a Content-Length)


@dataclass
class Seen:
    path: str
    headers: dict[str, str]
    at: float  # time.monotonic() at arrival


@dataclass
class NewsServer:
    routes: dict[str, Route] = field(default_factory=dict)
    requests: list[Seen] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> "NewsServer":
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}"

    def url(self, path: str) -> str:
        return self.base + path

    def seen(self, path: str) -> list[Seen]:
        with self._lock:
            return [r for r in self.requests if r.path == path]

    def paths(self) -> list[str]:
        with self._lock:
            return [r.path for r in self.requests]

    def record(self, seen: Seen) -> None:
        with self._lock:
            self.requests.append(seen)


def _handler(server: NewsServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms delayed-ACK stall

        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def handle(self) -> None:
            try:
                super().handle()
            except (BrokenPipeError, ConnectionResetError):
                pass  # a client closing a kept-alive connection is no error

        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            server.record(Seen(self.path, dict(self.headers.items()), time.monotonic()))
            route = server.routes.get(self.path) or server.routes.get(urlsplit(self.path).path)
            try:
                self._answer(route)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (a timeout, a size limit): that is the point of the route

        def _answer(self, route: Route | None) -> None:
            if route is None:
                return self._send(404, b"<html><body>No existe</body></html>", "text/html; charset=utf-8")
            if route.delay:
                time.sleep(route.delay)
            validators = {"ETag": route.etag, "Last-Modified": route.last_modified}
            if (route.etag and self.headers.get("If-None-Match") == route.etag) or (
                    route.last_modified and self.headers.get("If-Modified-Since") == route.last_modified):
                return self._send(304, b"", None, validators)
            if route.location:
                return self._send(route.status, b"", None, {"Location": route.location})
            if route.repeat > 1:
                return self._stream(route)
            return self._send(route.status, route.body, route.content_type, validators)

        def _send(self, status: int, body: bytes, content_type: str | None,
                  headers: dict[str, str | None] | None = None) -> None:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for name, value in (headers or {}).items():
                if value:
                    self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _stream(self, route: Route) -> None:
            self.send_response(200)
            self.send_header("Content-Type", route.content_type)
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            for _ in range(route.repeat):
                self.wfile.write(route.body)

    return Handler


# Documents ------------------------------------------------------------------------------

def http_date(day: str) -> str:
    return format_datetime(datetime.fromisoformat(day).replace(tzinfo=timezone.utc), usegmt=True)


def article_html(title: str, paragraphs: list[str], published: str | None = None, canonical: str | None = None,
                 site_name: str | None = "El Diario Inventado") -> bytes:
    head = [f"<title>{escape(title)}{' | ' + escape(site_name) if site_name else ''}</title>"]
    if site_name:
        head.append(f'<meta property="og:site_name" content="{escape(site_name)}">')
    if published:
        head.append(f'<meta property="article:published_time" content="{published}T09:30:00+01:00">')
    if canonical:
        head.append(f'<link rel="canonical" href="{escape(canonical)}">')
    body = "".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    return (f'<!DOCTYPE html><html lang="es"><head><meta charset="utf-8">{"".join(head)}</head><body>'
            f'<nav><a href="/">Portada</a> <a href="/deportes">Deportes</a></nav>'
            f'<article><h1>{escape(title)}</h1>{body}</article>'
            f'<footer><p>Aviso legal. Política de privacidad.</p></footer></body></html>').encode("utf-8")


def rss(title: str, items: list[dict]) -> bytes:
    """RSS 2.0; items: link, title, optional date (YYYY-MM-DD) and description."""
    parts = []
    for item in items:
        date = f"<pubDate>{http_date(item['date'])}</pubDate>" if item.get("date") else ""
        parts.append(f"<item><title>{escape(item['title'])}</title><link>{escape(item['link'])}</link>{date}"
                     f"<description>{escape(item.get('description', ''))}</description></item>")
    return (f'<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>{escape(title)}</title>'
            f'<link>http://example.invalid/</link><description>Noticias</description>{"".join(parts)}'
            f'</channel></rss>').encode("utf-8")


def atom(title: str, entries: list[dict]) -> bytes:
    """Atom 1.0; entries: link, title, date (YYYY-MM-DD), optional updated (YYYY-MM-DD)."""
    parts = []
    for entry in entries:
        updated = entry.get("updated", entry["date"])
        link, summary = escape(entry["link"]), escape(entry.get("summary", ""))
        parts.append(f'<entry><title>{escape(entry["title"])}</title><link rel="alternate" href="{link}"/>'
                     f'<id>{link}</id><published>{entry["date"]}T08:00:00Z</published>'
                     f'<updated>{updated}T08:00:00Z</updated><summary>{summary}</summary></entry>')
    return (f'<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
            f'<title>{escape(title)}</title><id>urn:feed</id><updated>2024-01-01T00:00:00Z</updated>'
            f'{"".join(parts)}</feed>').encode("utf-8")


def sitemap(urls: list[tuple[str, str | None]]) -> bytes:
    """A urlset; urls: (loc, lastmod or None)."""
    parts = "".join(f"<url><loc>{escape(loc)}</loc>" + (f"<lastmod>{mod}</lastmod>" if mod else "") + "</url>"
                    for loc, mod in urls)
    return (f'<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f'{parts}</urlset>').encode("utf-8")


# Made-up Spanish news text (written for these tests; no real article) -------------------

_PLACES = ["Valdeluz", "Sierra Alta", "Puerto Claro", "Villanueva del Río", "Montenegral", "Arenales"]
_WHO = ["el ayuntamiento", "la consejería de Medio Ambiente", "la asociación de vecinos", "el club deportivo",
        "la cooperativa agrícola", "el instituto de secundaria"]
_WHAT = ["un plan para renovar el alumbrado público", "la reapertura de la biblioteca municipal",
         "una campaña de recogida de alimentos", "la ampliación del carril bici", "un festival de música joven",
         "la limpieza del cauce del arroyo"]


def made_up_article(number: int) -> tuple[str, list[str]]:
    """A distinct title and four paragraphs (about 900 characters) for article ``number``."""
    rng = random.Random(number)
    place, who, what = rng.choice(_PLACES), rng.choice(_WHO), rng.choice(_WHAT)
    amount, people, day = rng.randint(2, 90) * 1000, rng.randint(12, 480), rng.randint(1, 28)
    title = f"{who.capitalize()} de {place} presenta {what} (noticia {number})"
    return title, [
        f"{who.capitalize()} de {place} presentó el día {day} {what}, con un presupuesto de {amount} euros "
        f"según el documento registrado con el número {number}.",
        f"Unas {people} personas asistieron a la presentación, celebrada en el salón de actos, donde los "
        f"responsables explicaron el calendario de las obras y las fases previstas para los próximos meses.",
        f"Los vecinos de {place} pidieron que los trabajos no coincidan con las fiestas locales y que se "
        f"informe con antelación de los cortes de tráfico en las calles afectadas por la intervención.",
        f"La propuesta {number} se votará en el próximo pleno; la oposición ha anunciado que presentará "
        f"enmiendas para reforzar la partida destinada al mantenimiento una vez terminadas las obras.",
    ]
