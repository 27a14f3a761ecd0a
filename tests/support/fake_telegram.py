"""A fake Telegram Bot API server on 127.0.0.1 for end-to-end tests of the bot.

Fake the transport, not our code: the real ``Application`` talks HTTP to this server as it
would to api.telegram.org. The server answers like Telegram (``{"ok": true, "result": ...}``
with realistic ``Message`` objects, and Telegram's 400 errors for HTML it cannot parse, text
over 4096 UTF-16 units, empty text, bad callback data), records every call, lets tests
inject user updates (messages, group mentions, replies, button presses, edits, stickers,
photos, locations; ``burst`` makes several arrive in one getUpdates batch) and injects
faults: ``fail_next`` (429 with retry_after, 500, 502, ...), ``delay_next`` (a slow reply,
to trip the client's timeout) and ``go_offline``/``come_back`` (connections refused on the
same port, open keep-alive connections cut). ``start(port)`` comes up on a port chosen
beforehand, so a bot can be pointed at the API before it exists (a late start).

Stdlib only (``http.server`` in a thread): aiohttp is not installed. Test coroutines must
use the async ``wait_for`` so the bot, on the same event loop, keeps running.
"""
from __future__ import annotations

import asyncio
import contextlib
import html
import itertools
import json
import re
import socket
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Iterator

TOKEN = "123456789:AAFakeTokenForTests_abcdefghijklmnop"
BOT_ID = 123456789
BOT_USERNAME = "articleqa_test_bot"

JSON_PARAMS = {
    "reply_markup", "commands", "allowed_updates", "entities", "link_preview_options",
    "reply_parameters", "scope", "caption_entities",
}
INT_PARAMS = {"message_id", "offset", "limit", "timeout", "message_thread_id", "reply_to_message_id", "cache_time"}
BOOL_PARAMS = {"drop_pending_updates", "disable_notification", "show_alert", "protect_content"}

ALLOWED_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "a", "code", "pre",
    "tg-spoiler", "span", "blockquote",
}
_TAG = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)((?:\s+[A-Za-z-]+(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s>\"']+))?)*)\s*>"
)
_ATTR = re.compile(r"([A-Za-z-]+)(?:\s*=\s*(\"[^\"]*\"|'[^']*'|[^\s>\"']+))?")
_ENTITY = re.compile(r"&(lt|gt|amp|quot);")
ATTRIBUTES = {"a": {"href"}, "span": {"class"}, "code": {"class"}, "blockquote": {"expandable"}}


class TelegramError(Exception):
    """An error reply: status code, description and optional parameters (retry_after)."""

    def __init__(self, status: int, description: str, parameters: dict | None = None):
        super().__init__(description)
        self.status, self.description, self.parameters = status, description, parameters


def _bad(detail: str) -> "TelegramError":
    return TelegramError(400, f"Bad Request: can't parse entities: {detail}")


def utf16_len(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def _unescape(text: str, where: int) -> str:
    out, pos = [], 0
    for m in re.finditer(r"&[^;\s<>&]*;?", text):
        if not _ENTITY.fullmatch(m.group()):
            raise TelegramError(
                400,
                f"Bad Request: can't parse entities: Unsupported HTML entity at byte offset {where + m.start()}"
                if m.group().endswith(";") else
                f"Bad Request: can't parse entities: Character '&' is reserved at byte offset {where + m.start()}",
            )
        out.append(text[pos:m.start()])
        out.append(html.unescape(m.group()))
        pos = m.end()
    out.append(text[pos:])
    return "".join(out)


def parse_html(text: str) -> str:
    """Validate Telegram HTML strictly and return the visible text (raises TelegramError 400)."""
    visible: list[str] = []
    stack: list[str] = []
    pos = 0
    while pos < len(text):
        lt = text.find("<", pos)
        chunk = text[pos:] if lt < 0 else text[pos:lt]
        if ">" in chunk:
            raise _bad(f"Character '>' is reserved at byte offset {pos + chunk.index('>')}")
        visible.append(_unescape(chunk, pos))
        if lt < 0:
            break
        m = _TAG.match(text, lt)
        if not m:
            raise _bad(f"Unsupported start tag at byte offset {lt}")
        closing, name, attrs = m.group(1) == "/", m.group(2).lower(), m.group(3)
        if name not in ALLOWED_TAGS:
            raise _bad(f'Unsupported start tag "{name}" at byte offset {lt}')
        if closing:
            if attrs.strip():
                raise _bad(f"Unexpected end tag at byte offset {lt}")
            if not stack or stack[-1] != name:
                expected = stack[-1] if stack else ""
                raise _bad(f'Unmatched end tag at byte offset {lt}, expected "</{expected}>", found "</{name}>"')
            stack.pop()
        else:
            found = {}
            for a in _ATTR.finditer(attrs):
                value = a.group(2) or ""
                if value[:1] in "\"'":
                    value = value[1:-1]
                found[a.group(1).lower()] = _unescape(value, lt)
            allowed = ATTRIBUTES.get(name, set())
            if set(found) - allowed:
                raise _bad(f'Unsupported attribute in tag "{name}" at byte offset {lt}')
            if name == "a" and not found.get("href"):
                raise _bad(f"Can't find href in a tag at byte offset {lt}")
            if name == "span" and found.get("class") != "tg-spoiler":
                raise _bad(f'Tag "span" must have class "tg-spoiler" at byte offset {lt}')
            stack.append(name)
        pos = m.end()
    if stack:
        raise _bad(f'Can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(visible)


@dataclass
class Call:
    """One request the bot made: method, decoded params, and what the server answered."""

    method: str
    params: dict[str, Any]
    status: int = 200
    response: Any = None
    at: float = field(default_factory=time.monotonic)
    delayed: float = 0.0  # seconds the reply was held back by ``delay_next``

    @property
    def ok(self) -> bool:
        return self.status == 200


@dataclass
class Fault:
    status: int
    description: str
    parameters: dict | None = None


class FakeTelegram:
    """The server plus the state Telegram would keep: chats, messages, updates, commands."""

    def __init__(self, token: str = TOKEN, bot_id: int = BOT_ID, username: str = BOT_USERNAME):
        self.token, self.bot_id, self.username = token, bot_id, username
        self.bot_user = {"id": bot_id, "is_bot": True, "first_name": "ArticleQA", "username": username,
                         "can_join_groups": True, "can_read_all_group_messages": False,
                         "supports_inline_queries": False}
        self.calls: list[Call] = []
        self.commands: dict[str, list[dict]] = {}
        self.messages: dict[tuple[int, int], dict] = {}  # (chat_id, message_id) → message
        self.chats: dict[int, dict] = {}
        self._updates: list[dict] = []
        self._update_ids = itertools.count(1)
        self._message_ids = itertools.count(1000)
        self._query_ids = itertools.count(1)
        self._open_queries: set[str] = set()
        self._faults: dict[str, list[Fault]] = {}
        self._delays: dict[str, list[float]] = {}
        self.delays_started: dict[str, int] = {}  # method (lower case) → delayed calls begun
        self._cond = threading.Condition()  # an RLock inside: ``burst`` may nest add_update
        self._closing = False
        self._offline = False
        self._port = 0
        self._connections: set[socket.socket] = set()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle

    @property
    def url(self) -> str:
        assert self._port, "server not started"
        return f"http://127.0.0.1:{self._port}"

    def _listen(self, port: int) -> None:
        fake = self

        class Handler(_Handler):
            server_state = fake

        self._server = _Server(("127.0.0.1", port), Handler)  # SO_REUSEADDR: the same port again
        self._port = self._server.server_address[1]
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def _unlisten(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()

    def start(self, port: int = 0) -> "FakeTelegram":
        """Listen on ``port`` (0: any free one; ``url`` tells which)."""
        self._listen(port)
        return self

    def stop(self) -> None:
        with self._cond:
            self._closing = True
            self._cond.notify_all()
        self._unlisten()

    def go_offline(self) -> None:
        """Like the Bot API vanishing from the network: stop listening (connecting to the
        port is refused) and cut every open connection, including a long poll in progress.
        Updates injected meanwhile are kept for ``come_back``."""
        with self._cond:
            self._offline = True
            self._cond.notify_all()  # wake long polls: their connection is about to go
        self._unlisten()
        with self._cond:
            connections = list(self._connections)
        for conn in connections:
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)

    def come_back(self) -> None:
        """Listen again on the same port (``url`` does not change)."""
        with self._cond:
            self._offline = False
        self._listen(self._port)

    def __enter__(self) -> "FakeTelegram":
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ fault injection

    def fail_next(self, method: str, times: int = 1, status: int = 429, retry_after: int = 1,
                  description: str | None = None) -> None:
        """Make the next ``times`` calls of ``method`` fail like Telegram would."""
        if description is None:
            description = {429: f"Too Many Requests: retry after {retry_after}",
                           500: "Internal Server Error", 502: "Bad Gateway",
                           403: "Forbidden: bot was blocked by the user"}.get(status, "Bad Request")
        parameters = {"retry_after": retry_after} if status == 429 else None
        with self._cond:
            queue = self._faults.setdefault(method.lower(), [])
            queue.extend(Fault(status, description, parameters) for _ in range(times))

    def delay_next(self, method: str, seconds: float, times: int = 1) -> None:
        """Hold back the reply to the next ``times`` calls of ``method`` by ``seconds`` (the
        call is then processed as usual: a slow Telegram, not a lost request). A client
        with a shorter timeout gives up first; ``delays_started`` counts delays begun."""
        with self._cond:
            self._delays.setdefault(method.lower(), []).extend([seconds] * times)

    @contextlib.contextmanager
    def burst(self) -> Iterator[None]:
        """Updates added inside the block become visible at once, so the bot's next
        getUpdates receives them together (they are then handled concurrently)."""
        with self._cond:
            yield

    # ------------------------------------------------------------------ injecting updates

    def user(self, user_id: int = 1001, first_name: str = "Ana") -> dict:
        return {"id": user_id, "is_bot": False, "first_name": first_name, "language_code": "es"}

    def private_chat(self, user_id: int = 1001, first_name: str = "Ana") -> dict:
        chat = {"id": user_id, "type": "private", "first_name": first_name}
        self.chats[user_id] = chat
        return chat

    def group_chat(self, chat_id: int = -1001234567890, title: str = "Grupo de prueba") -> dict:
        chat = {"id": chat_id, "type": "supergroup", "title": title}
        self.chats[chat_id] = chat
        return chat

    def add_update(self, payload: dict) -> int:
        with self._cond:
            update_id = next(self._update_ids)
            self._updates.append({"update_id": update_id, **payload})
            self._cond.notify_all()
            return update_id

    def _user_message(self, user_id: int, chat: dict | None, reply_to: dict | None, **content: Any) -> dict:
        chat = chat or self.private_chat(user_id)
        message = {"message_id": next(self._message_ids), "from": self.user(user_id), "chat": chat,
                   "date": int(time.time()), **content}
        if reply_to is not None:
            message["reply_to_message"] = {k: v for k, v in reply_to.items() if k != "reply_to_message"}
        return message

    def send_text(self, text: str, user_id: int = 1001, chat: dict | None = None, reply_to: dict | None = None) -> dict:
        """A user writes ``text`` (entities for /commands and @mentions computed like Telegram)."""
        message = self._text_message(text, user_id, chat, reply_to)
        self.add_update({"message": message})
        return message

    def text_update(self, text: str, user_id: int = 1001) -> dict:
        """The update Telegram would post to a webhook when a user writes ``text`` in a private
        chat: numbered like the queued ones, but not queued for getUpdates."""
        with self._cond:
            update_id = next(self._update_ids)
        return {"update_id": update_id, "message": self._text_message(text, user_id, None, None)}

    def _text_message(self, text: str, user_id: int, chat: dict | None, reply_to: dict | None) -> dict:
        message = self._user_message(user_id, chat, reply_to, text=text)
        entities = text_entities(text)
        if entities:
            message["entities"] = entities
        return message

    def edit_text(self, message: dict, text: str) -> dict:
        edited = {**message, "text": text, "edit_date": int(time.time())}
        self.add_update({"edited_message": edited})
        return edited

    def send_sticker(self, user_id: int = 1001, chat: dict | None = None, reply_to: dict | None = None) -> dict:
        sticker = {"file_id": "CAACAgIAAxkBAAEB", "file_unique_id": "AgADs", "type": "regular",
                   "width": 512, "height": 512, "is_animated": False, "is_video": False, "emoji": "😀"}
        message = self._user_message(user_id, chat, reply_to, sticker=sticker)
        self.add_update({"message": message})
        return message

    def send_photo(self, user_id: int = 1001, chat: dict | None = None, caption: str | None = None,
                   reply_to: dict | None = None) -> dict:
        photo = [{"file_id": "AgACAgQAAxkBAAIB", "file_unique_id": "AQADs", "width": 90, "height": 90,
                  "file_size": 1200}]
        extra: dict[str, Any] = {"photo": photo}
        if caption:
            extra["caption"] = caption
            if text_entities(caption):
                extra["caption_entities"] = text_entities(caption)
        message = self._user_message(user_id, chat, reply_to, **extra)
        self.add_update({"message": message})
        return message

    def send_location(self, user_id: int = 1001, chat: dict | None = None) -> dict:
        message = self._user_message(user_id, chat, None, location={"latitude": 40.4168, "longitude": -3.7038})
        self.add_update({"message": message})
        return message

    def send_voice(self, user_id: int = 1001, chat: dict | None = None) -> dict:
        voice = {"file_id": "AwACAgQAAxkBAAIC", "file_unique_id": "AgADv", "duration": 3, "mime_type": "audio/ogg"}
        message = self._user_message(user_id, chat, None, voice=voice)
        self.add_update({"message": message})
        return message

    def press(self, message: dict, data: str, user_id: int = 1001) -> str:
        """A user presses the button with ``data`` under the bot's ``message``; returns the query id."""
        with self._cond:
            query_id = str(next(self._query_ids) + 4_000_000_000)
            self._open_queries.add(query_id)
            current = self.messages.get((message["chat"]["id"], message["message_id"]), message)
        self.add_update({"callback_query": {"id": query_id, "from": self.user(user_id), "message": current,
                                            "chat_instance": "-42", "data": data}})
        return query_id

    # ------------------------------------------------------------------ inspection

    def calls_of(self, method: str, ok_only: bool = True) -> list[Call]:
        with self._cond:
            return [c for c in self.calls if c.method.lower() == method.lower() and (c.ok or not ok_only)]

    def bot_messages(self, chat_id: int | None = None) -> list[dict]:
        """Messages the bot sent (current versions, after edits), oldest first."""
        with self._cond:
            found = [m for (cid, _), m in self.messages.items() if chat_id is None or cid == chat_id]
        return sorted(found, key=lambda m: m["message_id"])

    async def wait_for(self, method: str, n: int = 1, timeout: float = 5.0,
                       where: Callable[[Call], bool] | None = None, ok_only: bool = True) -> list[Call]:
        """Wait (without blocking the event loop) until ``n`` matching calls were made."""
        deadline = time.monotonic() + timeout
        while True:
            found = [c for c in self.calls_of(method, ok_only) if where is None or where(c)]
            if len(found) >= n:
                return found
            if time.monotonic() > deadline:
                seen = [(c.method, c.status, str(c.params.get("text", ""))[:60]) for c in self.calls]
                raise AssertionError(f"expected {n} {method} call(s), got {len(found)}; calls: {seen}")
            await asyncio.sleep(0.01)

    wait_for_calls = wait_for

    async def wait_until(self, predicate: Callable[[], bool], timeout: float = 5.0, what: str = "condition") -> None:
        """Poll ``predicate`` (without blocking the event loop) until it holds."""
        deadline = time.monotonic() + timeout
        while not predicate():
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            await asyncio.sleep(0.01)

    def failed_calls(self) -> list[Call]:
        """Every call the server answered with an error (faults injected on purpose included)."""
        with self._cond:
            return [c for c in self.calls if not c.ok]

    async def wait_for_message(self, chat_id: int, contains: str = "", timeout: float = 5.0) -> Call:
        """The first successful sendMessage to ``chat_id`` whose text contains ``contains``."""
        calls = await self.wait_for(
            "sendMessage", 1, timeout,
            where=lambda c: c.params.get("chat_id") == chat_id and contains in str(c.params.get("text", "")))
        return calls[0]

    # ------------------------------------------------------------------ the API

    def handle(self, method: str, params: dict[str, Any]) -> tuple[int, dict]:
        call = Call(method, params)
        with self._cond:
            faults = self._faults.get(method.lower())
            fault = faults.pop(0) if faults else None
            delays = self._delays.get(method.lower())
            call.delayed = delays.pop(0) if delays else 0.0
            if call.delayed:
                self.delays_started[method.lower()] = self.delays_started.get(method.lower(), 0) + 1
                self._cond.wait_for(lambda: self._closing, timeout=call.delayed)  # releases the lock
        try:
            if fault is not None:
                raise TelegramError(fault.status, fault.description, fault.parameters)
            api = getattr(self, f"api_{method.lower()}", None)
            if api is None:
                raise TelegramError(404, "Not Found")
            if method.lower() == "getupdates":
                result = api(params)  # blocks: not recorded until it returns
            else:
                with self._cond:
                    result = api(params)
            status, body = 200, {"ok": True, "result": result}
        except TelegramError as exc:
            status = exc.status
            body = {"ok": False, "error_code": exc.status, "description": exc.description}
            if exc.parameters:
                body["parameters"] = exc.parameters
        call.status, call.response = status, body
        with self._cond:
            self.calls.append(call)
            self._cond.notify_all()
        return status, body

    def api_getme(self, params: dict) -> dict:
        return self.bot_user

    def api_deletewebhook(self, params: dict) -> bool:
        if params.get("drop_pending_updates"):
            self._updates.clear()
        return True

    def api_setwebhook(self, params: dict) -> bool:
        return True

    def api_getwebhookinfo(self, params: dict) -> dict:
        return {"url": "", "has_custom_certificate": False, "pending_update_count": len(self._updates)}

    def api_getupdates(self, params: dict) -> list[dict]:
        offset = int(params.get("offset") or 0)
        timeout = float(params.get("timeout") or 0)
        limit = int(params.get("limit") or 100)
        deadline = time.monotonic() + timeout
        with self._cond:
            if offset:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
            while not self._updates and not self._closing and not self._offline:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                self._cond.wait(left)
            return list(self._updates[:limit])

    def _chat(self, chat_id: Any) -> dict:
        try:
            chat_id = int(chat_id)
        except (TypeError, ValueError):
            raise TelegramError(400, "Bad Request: chat not found")
        return self.chats.get(chat_id) or {"id": chat_id, "type": "private" if chat_id > 0 else "supergroup",
                                           **({"first_name": "Usuario"} if chat_id > 0 else {"title": "Grupo"})}

    def _visible(self, text: Any, parse_mode: Any) -> str:
        if not isinstance(text, str) or not text:
            raise TelegramError(400, "Bad Request: message text is empty")
        visible = parse_html(text) if str(parse_mode or "").upper() == "HTML" else text
        if not visible.strip():
            raise TelegramError(400, "Bad Request: message text is empty")
        if utf16_len(visible) > 4096:
            raise TelegramError(400, "Bad Request: message is too long")
        return visible

    @staticmethod
    def _check_markup(markup: Any) -> None:
        if markup is None:
            return
        rows = markup.get("inline_keyboard") if isinstance(markup, dict) else None
        if not isinstance(rows, list):
            raise TelegramError(400, "Bad Request: can't parse reply keyboard markup JSON object")
        for row in rows:
            for button in row:
                if not button.get("text"):
                    raise TelegramError(400, "Bad Request: text buttons are unallowed in the inline keyboard")
                data = button.get("callback_data")
                if data is not None and not 1 <= len(data.encode("utf-8")) <= 64:
                    raise TelegramError(400, "Bad Request: BUTTON_DATA_INVALID")

    def api_sendmessage(self, params: dict) -> dict:
        chat = self._chat(params.get("chat_id"))
        visible = self._visible(params.get("text"), params.get("parse_mode"))
        self._check_markup(params.get("reply_markup"))
        message = {"message_id": next(self._message_ids), "from": self.bot_user, "chat": chat,
                   "date": int(time.time()), "text": visible}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        self.messages[(chat["id"], message["message_id"])] = message
        return message

    def api_editmessagetext(self, params: dict) -> dict:
        chat = self._chat(params.get("chat_id"))
        key = (chat["id"], int(params.get("message_id") or 0))
        if key not in self.messages:
            raise TelegramError(400, "Bad Request: message to edit not found")
        visible = self._visible(params.get("text"), params.get("parse_mode"))
        self._check_markup(params.get("reply_markup"))
        old = self.messages[key]
        if old.get("text") == visible and old.get("reply_markup") == params.get("reply_markup"):
            raise TelegramError(400, "Bad Request: message is not modified: specified new message content "
                                     "and reply markup are exactly the same as a current content and reply "
                                     "markup of the message")
        new = {**old, "text": visible, "edit_date": int(time.time())}
        new.pop("reply_markup", None)
        if params.get("reply_markup"):
            new["reply_markup"] = params["reply_markup"]
        self.messages[key] = new
        return new

    def api_answercallbackquery(self, params: dict) -> bool:
        query_id = str(params.get("callback_query_id"))
        if query_id not in self._open_queries:
            raise TelegramError(
                400, "Bad Request: query is too old and response timeout expired or query ID is invalid")
        self._open_queries.discard(query_id)
        text = params.get("text")
        if text is not None and len(text) > 200:
            raise TelegramError(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def api_sendchataction(self, params: dict) -> bool:
        self._chat(params.get("chat_id"))
        if params.get("action") not in {"typing", "upload_photo", "record_video", "upload_video", "record_voice",
                                         "upload_voice", "upload_document", "choose_sticker", "find_location",
                                         "record_video_note", "upload_video_note"}:
            raise TelegramError(400, "Bad Request: wrong parameter action in request")
        return True

    def api_setmycommands(self, params: dict) -> bool:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > 100:
            raise TelegramError(400, "Bad Request: can't parse commands JSON object")
        for command in commands:
            if not re.fullmatch(r"[a-z0-9_]{1,32}", command.get("command", "")):
                raise TelegramError(400, "Bad Request: BOT_COMMAND_INVALID")
            if not 1 <= len(command.get("description", "")) <= 256:
                raise TelegramError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
        self.commands[json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True)] = commands
        return True

    def api_getmycommands(self, params: dict) -> list[dict]:
        return self.commands.get(json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True), [])

    def api_deletemycommands(self, params: dict) -> bool:
        self.commands.pop(json.dumps(params.get("scope") or {"type": "default"}, sort_keys=True), None)
        return True

    def api_close(self, params: dict) -> bool:
        return True

    def api_logout(self, params: dict) -> bool:
        return True


def text_entities(text: str) -> list[dict]:
    """bot_command and mention entities as Telegram computes them (offsets in UTF-16 units)."""
    entities = []
    for pattern, kind in ((r"(?<![\w/])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?", "bot_command"),
                          (r"(?<![\w@])@[A-Za-z0-9_]{5,32}", "mention")):
        for m in re.finditer(pattern, text):
            entities.append({"type": kind, "offset": utf16_len(text[:m.start()]), "length": utf16_len(m.group())})
    return sorted(entities, key=lambda e: e["offset"])


def _decode(params: dict[str, str]) -> dict[str, Any]:
    """Form values are strings; Telegram decodes JSON, int and bool parameters by name."""
    out: dict[str, Any] = {}
    for key, value in params.items():
        if key in JSON_PARAMS:
            try:
                out[key] = json.loads(value)
            except ValueError:
                raise TelegramError(400, f"Bad Request: can't parse {key} JSON object")
        elif key in INT_PARAMS or key == "chat_id":
            out[key] = int(value) if re.fullmatch(r"-?\d+", value) else value
        elif key in BOOL_PARAMS:
            out[key] = value.lower() == "true"
        else:
            out[key] = value
    return out


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        """Connections cut by ``go_offline`` (or dropped by a client that timed out) are
        expected: stay quiet about them; anything else is printed as usual."""
        import sys

        if isinstance(sys.exc_info()[1], OSError):
            return
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    """Routes ``/bot<token>/<method>`` to the FakeTelegram; keep-alive like the real API."""

    protocol_version = "HTTP/1.1"
    server_state: FakeTelegram

    def log_message(self, format: str, *args: Any) -> None:  # quiet: and never log the token
        return

    def setup(self) -> None:
        super().setup()
        # headers and body go out in separate writes: without this, Nagle + delayed ACK
        # add ~40 ms to every call
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        with self.server_state._cond:
            self.server_state._connections.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        finally:
            with self.server_state._cond:
                self.server_state._connections.discard(self.connection)

    def _reply(self, status: int, body: dict) -> None:
        data = json.dumps(body).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout) or go_offline cut the connection
            pass

    def _handle(self) -> None:
        fake = self.server_state
        parsed = urllib.parse.urlsplit(self.path)
        m = re.fullmatch(r"/bot([^/]+)/([A-Za-z]+)", parsed.path)
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length) if length else b""
        if not m:
            self._reply(404, {"ok": False, "error_code": 404, "description": "Not Found"})
            return
        if m.group(1) != fake.token:
            self._reply(401, {"ok": False, "error_code": 401, "description": "Unauthorized"})
            return
        try:
            ctype = (self.headers.get("Content-Type") or "").split(";")[0].strip()
            if ctype == "application/json":
                params = json.loads(raw or b"{}")
            else:
                form = urllib.parse.parse_qs(raw.decode("utf-8"), keep_blank_values=True)
                form.update(urllib.parse.parse_qs(parsed.query, keep_blank_values=True))
                params = _decode({k: v[-1] for k, v in form.items()})
        except TelegramError as exc:
            self._reply(exc.status, {"ok": False, "error_code": exc.status, "description": exc.description})
            return
        status, body = fake.handle(m.group(2), params)
        self._reply(status, body)

    do_GET = _handle
    do_POST = _handle
