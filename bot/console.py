"""The same conversation in a terminal: one chat, each line a message, no Telegram.

Useful without a token, for demos and for reproducible transcripts: with stdin not a TTY it
reads every line, echoes it after '> ', prints the replies and exits at EOF; nothing in the
output depends on time or chance. Buttons are listed as ``[1] Más pasajes``; typing ``#1``
presses one.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TextIO

from . import render, wording
from .buttons import Button
from .cleaning import clean_text
from .conversation import Conversation, Sender
from .feedback import FeedbackLog
from .qa_engine import QAEngine
from .render import Reply
from .settings import BotSettings

log = logging.getLogger(__name__)

CONSOLE = Sender(chat_id=0, user_id=0)


def _show(replies: list[Reply], out: TextIO) -> list[Button]:
    """Print replies, numbering their buttons for '#N'; returns the buttons in that order."""
    buttons: list[Button] = []
    for reply in replies:
        out.write(reply.text.rstrip() + "\n")
        labels = []
        for row in reply.buttons:
            for button in row:
                buttons.append(button)
                labels.append(f"[{len(buttons)}] {button.text}")
        if labels:
            out.write("  ".join(labels) + "\n")
        out.write("\n")
    return buttons


async def _turn(conversation: Conversation, line: str, buttons: list[Button]) -> list[Reply]:
    """One input line → the replies; '#N' presses the N-th button shown by the last turn."""
    stripped = line.strip()
    if stripped.startswith("#") and stripped[1:].isdigit() and buttons:
        index = int(stripped[1:]) - 1
        if not 0 <= index < len(buttons):
            return [Reply(wording.NO_SUCH_BUTTON.format(label=stripped))]
        result = await conversation.press(CONSOLE, buttons[index].data)
        replies = list(result.replies)
        if result.edit is not None:
            replies.insert(0, result.edit)
        if result.notice:
            replies.insert(0, Reply(result.notice))
        return replies
    return await conversation.handle_text(CONSOLE, line)


async def console_loop(conversation: Conversation, stdin: TextIO, stdout: TextIO, interactive: bool) -> None:
    buttons: list[Button] = []
    if interactive:
        stdout.write(wording.BANNER + "\n\n")
    while True:
        if interactive:
            stdout.write("> ")
            stdout.flush()
        line = stdin.readline()
        if not line:
            break
        line = line.rstrip("\n")
        if not line.strip():
            continue
        if not interactive:
            stdout.write(f"> {clean_text(line)}\n")
        try:
            replies = await _turn(conversation, line, buttons)
        except Exception:
            log.exception("error while answering %r", line[:80])
            replies = [Reply(wording.SORRY)]
        shown = _show(replies, stdout)
        if shown:  # a reply without buttons (a vote's thanks) keeps the previous ones pressable
            buttons = shown
        stdout.flush()


def run_console(
    engine: QAEngine,
    settings: BotSettings,
    stdin: TextIO,
    stdout: TextIO,
    *,
    interactive: bool | None = None,
    feedback: FeedbackLog | None = None,
) -> int:
    """Run the terminal chat until EOF; returns the exit code (0)."""
    if interactive is None:
        interactive = bool(getattr(stdin, "isatty", lambda: False)())
    conversation = Conversation(engine, settings, render.TEXT, feedback=feedback, local=True)
    try:
        asyncio.run(console_loop(conversation, stdin, stdout, interactive))
    except KeyboardInterrupt:
        stdout.write("\n")
    return 0
