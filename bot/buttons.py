"""The inline-button protocol: which buttons exist, what their callback data says, and how
that data is read back.

Why one module: a button is written when an answer is rendered and read when, maybe much
later, it is pressed; the two ends must agree on the kinds and their arguments. Callback data
is ``kind:part:part`` within Telegram's 64 bytes:

- ``p:<answer>:<i>``   show the i-th source passage of a stored answer (``Ver pasaje``)
- ``m:<answer>:<n>``   post the further passages from offset n (``Más pasajes``)
- ``v:<answer>:up|down`` vote on the answer (👍 / 👎)
- ``f:<page>``         turn the /fuentes message to that page (◀ / ▶)
- ``u:<page>:<topic>`` turn the /ultimas message to that page (the topic clipped to fit)

Buttons are plain data (``Button``); the transports turn them into inline keyboards or
numbered choices, and ``Conversation.press`` acts on a decoded ``Press``.
"""
from __future__ import annotations

from dataclasses import dataclass

from . import wording

__all__ = [
    "CALLBACK_LIMIT", "PASSAGE", "MORE", "VOTE", "SOURCES", "LATEST", "UP", "DOWN", "VOTES", "Button", "Keyboard",
    "Press", "callback", "parse_callback", "decode", "answer_keyboard", "more_keyboard", "sources_keyboard",
    "latest_keyboard", "fit_topic",
]

CALLBACK_LIMIT = 64  # bytes, Telegram's limit for callback_data

PASSAGE, MORE, VOTE, SOURCES, LATEST = "p", "m", "v", "f", "u"
UP, DOWN = "up", "down"
VOTES = (UP, DOWN)
_ON_ANSWER = (PASSAGE, MORE, VOTE)  # kinds whose first part names a stored answer


@dataclass(frozen=True)
class Button:
    """One inline button: its label and the callback data (<= 64 bytes) it sends back."""

    text: str
    data: str


Keyboard = tuple[tuple[Button, ...], ...]


@dataclass(frozen=True)
class Press:
    """A decoded button press. ``answer_id`` names the stored answer (empty for SOURCES, the
    topic for LATEST);
    ``arg`` is the kind's argument as sent, still to be checked by whoever acts on it, because
    callback data comes back from the client and may be stale or forged."""

    kind: str
    answer_id: str
    arg: str

    @property
    def number(self) -> int | None:
        """``arg`` as an integer (a source index or an offset), None if it is not one."""
        try:
            return int(self.arg)
        except ValueError:
            return None


# --------------------------------------------------------------------------- encode / decode


def callback(kind: str, *parts: object) -> str:
    """Encode callback data as ``kind:part:part``; raises if Telegram would reject it."""
    data = ":".join([kind, *(str(p) for p in parts)])
    if len(data.encode("utf-8")) > CALLBACK_LIMIT:
        raise ValueError(f"callback data longer than {CALLBACK_LIMIT} bytes: {data!r}")
    return data


def parse_callback(data: str) -> tuple[str, list[str]]:
    """Inverse of ``callback``; junk gives an empty kind."""
    kind, *parts = (data or "").split(":")
    return kind, parts


def decode(data: str) -> Press | None:
    """The press that ``data`` encodes, or None when it has no known shape (ignored silently)."""
    kind, parts = parse_callback(data)
    if kind == SOURCES and parts:
        return Press(kind, "", parts[0])
    if kind == LATEST and parts:
        return Press(kind, ":".join(parts[1:]), parts[0])  # answer_id holds the topic here
    if kind in _ON_ANSWER and len(parts) == 2:
        return Press(kind, parts[0], parts[1])
    return None


# --------------------------------------------------------------------------- keyboards


def answer_keyboard(answer_id: str, sources: int, more: bool) -> Keyboard:
    """Ver pasaje per source, Más pasajes if any remain, and the two votes."""
    rows: list[tuple[Button, ...]] = []
    if sources:
        rows.append(tuple(Button(_passage_label(i, sources), callback(PASSAGE, answer_id, i)) for i in range(sources)))
    if more:
        rows.append((Button(wording.MORE_PASSAGES, callback(MORE, answer_id, 0)),))
    rows.append((
        Button(wording.VOTE_UP, callback(VOTE, answer_id, UP)),
        Button(wording.VOTE_DOWN, callback(VOTE, answer_id, DOWN)),
    ))
    return tuple(rows)


def _passage_label(i: int, sources: int) -> str:
    """'Ver pasaje' under a single source; numbered like the source lines when there are more."""
    return wording.SHOW_PASSAGE if sources == 1 else wording.SHOW_PASSAGE_N.format(number=i + 1)


def more_keyboard(answer_id: str, offset: int) -> Keyboard:
    """The Más pasajes button for the next page, from passage ``offset`` of the extras."""
    return ((Button(wording.MORE_PASSAGES, callback(MORE, answer_id, offset)),),)


def sources_keyboard(page: int, pages: int) -> Keyboard:
    """◀ / ▶ for /fuentes; nothing when there is one page."""
    row = []
    if page > 1:
        row.append(Button(wording.PAGE_BACK, callback(SOURCES, page - 1)))
    if page < pages:
        row.append(Button(wording.PAGE_NEXT, callback(SOURCES, page + 1)))
    return (tuple(row),) if row else ()


_LATEST_ROOM = CALLBACK_LIMIT - len("u:999999:")


def fit_topic(topic: str) -> str:
    """The /ultimas topic cut (at a word when it can) to what a page button can carry, so every
    page of one listing searches the same words."""
    topic = " ".join(topic.split())
    if len(topic.encode("utf-8")) <= _LATEST_ROOM:
        return topic
    cut = topic.encode("utf-8")[:_LATEST_ROOM].decode("utf-8", "ignore")
    return cut.rsplit(" ", 1)[0] if " " in cut else cut


def latest_keyboard(page: int, pages: int, topic: str) -> Keyboard:
    """◀ / ▶ for /ultimas (carrying its topic); nothing when there is one page."""
    row = []
    if page > 1:
        row.append(Button(wording.PAGE_BACK, callback(LATEST, page - 1, topic)))
    if page < pages:
        row.append(Button(wording.PAGE_NEXT, callback(LATEST, page + 1, topic)))
    return (tuple(row),) if row else ()
