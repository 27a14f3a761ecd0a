"""HTTP the way a news site would want a robot to behave: robots.txt, a pause per host, limits.

Every request (robots.txt included) goes through one ``httpx.Client`` with the configured
User-Agent and timeout. Requests are made one at a time; two requests to one host (scheme, name
and port: the scope of a robots.txt) are at least ``fetch_delay_seconds`` apart, measured from
the end of one to the start of the next (longer when the site's robots.txt asks for a
Crawl-delay). Redirects are followed by hand so each hop is checked against robots.txt and
waits its turn. Bodies are streamed and reading stops past ``fetch_max_page_bytes``; a total
deadline of the timeout per request also stops a server that trickles bytes forever.

Failures are ``FetchFailed`` with a reason for the operator, marked transient (timeouts,
connection errors, HTTP 5xx and 429: worth trying next run) or not (HTTP 4xx, too large,
disallowed).
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Callable
from urllib.parse import urljoin
from urllib.robotparser import RobotFileParser

import httpx

from .settings import Settings
from .web_urls import is_web_url, origin

log = logging.getLogger(__name__)

MAX_REDIRECTS = 5
REDIRECTS = {301, 302, 303, 307, 308}
ROBOTS_ABSENT = {404, 410}  # no robots.txt: everything is allowed (RFC 9309 §2.3.1.3)


class FetchFailed(Exception):
    """A request that gave no usable body, with the reason an operator can act on."""

    def __init__(self, reason: str, transient: bool = False) -> None:
        super().__init__(reason)
        self.reason, self.transient = reason, transient


@dataclass(frozen=True)
class Fetched:
    """A response worth reading: 200 with its body, or 304 (not modified) without one."""

    url: str  # the final URL, after redirects
    status: int
    body: bytes
    content_type: str  # the media type, lower case, without parameters
    etag: str | None
    last_modified: str | None
    charset: str | None = None  # the Content-Type's charset, which outranks what the body says


class PoliteClient:
    """One HTTP client for a whole fetch run; use it as a context manager."""

    def __init__(self, settings: Settings, sleep: Callable[[float], None] = time.sleep) -> None:
        self.user_agent = settings.fetch_user_agent
        self.delay = settings.fetch_delay_seconds
        self.timeout = settings.fetch_timeout_seconds
        self.max_bytes = settings.fetch_max_page_bytes
        self._sleep = sleep
        self._client = httpx.Client(headers={"User-Agent": self.user_agent},
                                    timeout=httpx.Timeout(self.timeout), follow_redirects=False)
        self._last_request: dict[str, float] = {}  # origin -> when its last request ended
        self._robots: dict[str, RobotFileParser | FetchFailed] = {}

    def __enter__(self) -> "PoliteClient":
        return self

    def __exit__(self, *exc: object) -> None:
        self._client.close()

    def get(self, url: str, etag: str | None = None, last_modified: str | None = None) -> Fetched:
        """GET a URL politely, conditionally when validators are given; 304 comes back as a Fetched."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if last_modified:
            headers["If-Modified-Since"] = last_modified
        for _ in range(MAX_REDIRECTS + 1):
            self._check_robots(url)
            fetched = self._request(url, headers)
            if isinstance(fetched, Fetched):
                return fetched
            url = fetched  # a redirect: the next hop is checked and paced like any request
        raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")

    def _request(self, url: str, headers: dict[str, str]) -> Fetched | str:
        """One request: a Fetched, or the URL a redirect points to."""
        host = origin(url)
        self._wait_for(host)
        try:
            with self._client.stream("GET", url, headers=headers) as response:
                status = response.status_code
                if status in REDIRECTS:
                    return self._redirect_target(url, response)
                if status == 304:
                    return self._fetched(response, b"")
                if status >= 400:
                    raise FetchFailed(f"HTTP {status}", transient=status >= 500 or status == 429)
                return self._fetched(response, self._read(response))
        except httpx.TimeoutException:
            raise FetchFailed(f"timed out after {self.timeout:g} s", transient=True) from None
        except httpx.HTTPError as err:  # connection refused, DNS, protocol errors
            raise FetchFailed(f"cannot connect: {type(err).__name__}: {err}", transient=True) from None
        finally:
            self._last_request[host] = time.monotonic()

    def _wait_for(self, host: str) -> None:
        """Sleep until this host's pause since its last request has passed."""
        last = self._last_request.get(host)
        if last is not None:
            wait = last + self._host_delay(host) - time.monotonic()
            if wait > 0:
                self._sleep(wait)

    def _host_delay(self, host: str) -> float:
        robots = self._robots.get(host)
        crawl_delay = robots.crawl_delay(self.user_agent) if isinstance(robots, RobotFileParser) else None
        return max(self.delay, float(crawl_delay or 0))

    @staticmethod
    def _redirect_target(url: str, response: httpx.Response) -> str:
        location = response.headers.get("location")
        target = urljoin(url, location) if location else ""
        if not is_web_url(target):
            raise FetchFailed(f"HTTP {response.status_code} redirect to an unusable location {location!r}")
        return target

    def _fetched(self, response: httpx.Response, body: bytes) -> Fetched:
        media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return Fetched(url=str(response.url), status=response.status_code, body=body, content_type=media,
                       etag=response.headers.get("etag"), last_modified=response.headers.get("last-modified"),
                       charset=response.charset_encoding)

    def _read(self, response: httpx.Response) -> bytes:
        """The body, up to the size limit and within the deadline; past either, not read further."""
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > self.max_bytes:
            raise FetchFailed(f"{int(declared):,} bytes announced, over the {self.max_bytes:,}-byte limit; not read")
        deadline, size, chunks = time.monotonic() + self.timeout, 0, []
        for chunk in response.iter_bytes():
            size += len(chunk)
            if size > self.max_bytes:
                raise FetchFailed(f"larger than the {self.max_bytes:,}-byte limit; reading stopped")
            if time.monotonic() > deadline:
                raise FetchFailed(f"still sending after {self.timeout:g} s; reading stopped", transient=True)
            chunks.append(chunk)
        return b"".join(chunks)

    def _check_robots(self, url: str) -> None:
        host = origin(url)
        if host not in self._robots:
            self._robots[host] = self._load_robots(host)
        robots = self._robots[host]
        if isinstance(robots, FetchFailed):
            raise robots
        if not robots.can_fetch(self.user_agent, url):
            raise FetchFailed("disallowed by robots.txt; not requested")

    def _load_robots(self, host: str) -> RobotFileParser | FetchFailed:
        """The host's robots.txt, fetched once per run. Absent (404/410): everything is allowed;
        any other failure: nothing is fetched from the host this run, to be safe."""
        parser = RobotFileParser(f"{host}/robots.txt")
        url = f"{host}/robots.txt"
        try:
            for _ in range(MAX_REDIRECTS + 1):
                fetched = self._request(url, {})
                if isinstance(fetched, Fetched):
                    break
                url = fetched
            else:
                raise FetchFailed(f"more than {MAX_REDIRECTS} redirects")
        except FetchFailed as err:
            if err.reason in {f"HTTP {code}" for code in ROBOTS_ABSENT}:
                parser.parse([])
                return parser
            log.warning("robots.txt of %s unavailable (%s): nothing is fetched from this host this run",
                        host, err.reason)
            return FetchFailed(f"robots.txt unavailable ({err.reason}); host skipped this run", transient=True)
        parser.parse(fetched.body.decode("utf-8", errors="replace").splitlines())
        return parser
