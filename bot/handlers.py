"""Thin Telegram handlers: decide whether a message is for the bot, then delegate.

All state lives in ``bot.conversation`` and all wording in ``bot.wording``; this module only
translates Telegram updates into ``Sender`` + text, shows "typing…" while the engine works,
and sends the replies back as HTML with inline keyboards.

Edited messages are ignored on purpose: they are not requested from Telegram
(``ALLOWED_UPDATES``) and no handler matches them if one arrives anyway. Answering an edit
would post a second answer far below the first one, which reads as noise in a chat.
"""
from __future__ import annotations

import asyncio
import logging
import re
from typing import Sequence

from telegram import (
    Bot,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    LinkPreviewOptions,
    Message,
    MessageEntity,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ChatType, ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters

from . import render
from .buttons import Keyboard
from .commands import parse_command
from .conversation import Conversation, Sender
from .render import Reply
from .wording import ADMIN_COMMANDS, COMMANDS, EXPIRED

log = logging.getLogger(__name__)

ALLOWED_UPDATES = ["message", "callback_query"]
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)
TYPING_EVERY = 4.5  # seconds; Telegram shows a chat action for about 5 s

NON_TEXT = (
    filters.ATTACHMENT | filters.LOCATION | filters.VENUE | filters.CONTACT | filters.POLL | filters.Dice.ALL
)


# --------------------------------------------------------------------------- helpers


def keyboard(rows: Keyboard) -> InlineKeyboardMarkup | None:
    """Plain-data buttons → Telegram's inline keyboard."""
    if not rows:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, callback_data=b.data) for b in row] for row in rows]
    )


def sender_of(update: Update) -> Sender:
    chat = update.effective_chat
    user = update.effective_user
    return Sender(chat.id if chat else 0, user.id if user else None)


def _is_private(message: Message) -> bool:
    return message.chat.type == ChatType.PRIVATE


def _replies_to_bot(message: Message, bot: Bot) -> bool:
    parent = message.reply_to_message
    return bool(parent and parent.from_user and parent.from_user.id == bot.id)


def _mentions_bot(message: Message, bot: Bot) -> bool:
    username = (bot.username or "").lower()
    for entities in (
        message.parse_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]),
        message.parse_caption_entities([MessageEntity.MENTION, MessageEntity.TEXT_MENTION]),
    ):
        for entity, value in entities.items():
            if entity.type == MessageEntity.MENTION and value[1:].lower() == username:
                return True
            if entity.type == MessageEntity.TEXT_MENTION and entity.user and entity.user.id == bot.id:
                return True
    return False


def addressed_text(message: Message, bot: Bot) -> str | None:
    """The question in ``message`` if it is for the bot, else None.

    Private chats: every message. Groups: only when the bot is @mentioned or the message
    replies to one of the bot's messages; the mention itself is removed from the question.
    """
    text = message.text or ""
    if _is_private(message):
        return text
    if not (_mentions_bot(message, bot) or _replies_to_bot(message, bot)):
        return None
    if bot.username:
        text = re.sub(rf"@{re.escape(bot.username)}\b", " ", text, flags=re.IGNORECASE)
    return text.strip()


async def send_replies(
    bot: Bot, chat_id: int, replies: Sequence[Reply], *, quote: int | None = None, thread_id: int | None = None
) -> None:
    """Send each reply as HTML; if Telegram still rejects the markup, resend it as plain text."""
    for reply in replies:
        markup = keyboard(reply.buttons)
        params = ReplyParameters(quote, allow_sending_without_reply=True) if quote else None
        try:
            await bot.send_message(
                chat_id, reply.text, parse_mode=ParseMode.HTML, reply_markup=markup,
                link_preview_options=NO_PREVIEW, reply_parameters=params, message_thread_id=thread_id,
            )
        except BadRequest as exc:
            if "entit" not in str(exc).lower() and "parse" not in str(exc).lower():
                raise
            log.warning("Telegram rejected the HTML (%s); sending plain text instead", exc)
            plain = render.split_message(render.html_to_plain(reply.text), as_html=False, max_parts=1)
            await bot.send_message(
                chat_id, plain[0] if plain else "…", reply_markup=markup,
                link_preview_options=NO_PREVIEW, reply_parameters=params, message_thread_id=thread_id,
            )


class Typing:
    """Shows "typing…" from the first ``start()`` until the block ends, repeating every few
    seconds; failures only get logged. The last action is awaited on exit so it cannot
    arrive after the answer."""

    def __init__(self, bot: Bot, chat_id: int, thread_id: int | None = None):
        self.bot, self.chat_id, self.thread_id = bot, chat_id, thread_id
        self._loop_task: asyncio.Task | None = None
        self._current: asyncio.Task | None = None

    async def start(self) -> None:
        if self._loop_task is None:
            self._loop_task = asyncio.create_task(self._loop())

    async def _send(self) -> None:
        try:
            await self.bot.send_chat_action(self.chat_id, ChatAction.TYPING, message_thread_id=self.thread_id)
        except TelegramError as exc:
            log.debug("chat action failed: %s", exc)

    async def _loop(self) -> None:
        while True:
            self._current = asyncio.ensure_future(self._send())
            await asyncio.shield(self._current)
            await asyncio.sleep(TYPING_EVERY)

    async def __aenter__(self) -> "Typing":
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._loop_task is None:
            return
        self._loop_task.cancel()
        await asyncio.gather(self._loop_task, return_exceptions=True)
        if self._current is not None and not self._current.done():
            await asyncio.wait([self._current], timeout=2)


def _thread_of(message: Message) -> int | None:
    return message.message_thread_id if message.is_topic_message else None


# --------------------------------------------------------------------------- handlers


class TelegramHandlers:
    """The update handlers of one bot, bound to its ``Conversation``."""

    def __init__(self, conversation: Conversation):
        self.conversation = conversation

    def register(self, app: Application) -> None:
        new = filters.UpdateType.MESSAGE
        app.add_handler(CommandHandler(list(COMMANDS) + list(ADMIN_COMMANDS) + ["help"], self.on_command, filters=new))
        app.add_handler(MessageHandler(new & filters.COMMAND, self.on_unknown_command))
        app.add_handler(MessageHandler(new & filters.TEXT & ~filters.COMMAND, self.on_text))
        app.add_handler(MessageHandler(new & NON_TEXT, self.on_non_text))
        app.add_handler(CallbackQueryHandler(self.on_button))

    async def _reply(self, message: Message, replies: Sequence[Reply], bot: Bot) -> None:
        quote = None if _is_private(message) else message.message_id
        await send_replies(bot, message.chat_id, replies, quote=quote, thread_id=_thread_of(message))

    async def on_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A plain text message: a question, if it is addressed to the bot."""
        message = update.message
        if message is None:
            return
        text = addressed_text(message, context.bot)
        if text is None:
            return
        async with Typing(context.bot, message.chat_id, _thread_of(message)) as typing:
            replies = await self.conversation.question(sender_of(update), text, busy=typing.start)
        await self._reply(message, replies, context.bot)

    async def on_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A registered command (/start, /ayuda, /buscar, /fuentes, /nuevo, /estado, /recargar)."""
        message = update.message
        if message is None or not message.text:
            return
        parsed = parse_command(message.text, context.bot.username)
        if parsed is None:
            return
        async with Typing(context.bot, message.chat_id, _thread_of(message)) as typing:
            replies = await self.conversation.command(sender_of(update), *parsed, busy=typing.start)
        await self._reply(message, replies, context.bot)

    async def on_unknown_command(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An unknown /command: answered in private, and in groups only if it names this bot."""
        message = update.message
        if message is None or not message.text:
            return
        head = message.text.split()[0]
        if not _is_private(message) and "@" not in head:
            return  # probably meant for another bot in the group
        parsed = parse_command(message.text, context.bot.username)
        if parsed is None:
            return
        replies = await self.conversation.command(sender_of(update), *parsed)
        await self._reply(message, replies, context.bot)

    async def on_non_text(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Stickers, photos, voice notes, locations...: a short 'only text' reply."""
        message = update.message
        if message is None:
            return
        if not _is_private(message) and not (
            _replies_to_bot(message, context.bot) or _mentions_bot(message, context.bot)
        ):
            return
        replies = await self.conversation.non_text(sender_of(update))
        await self._reply(message, replies, context.bot)

    async def on_button(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """An inline button: acknowledge it (answerCallbackQuery), then send or edit."""
        query = update.callback_query
        if query is None:
            return
        message = query.message
        if message is None or not message.is_accessible:
            await query.answer(EXPIRED)
            return
        sender = Sender(message.chat.id, query.from_user.id if query.from_user else None)
        result = await self.conversation.press(sender, query.data or "")
        await query.answer(result.notice)
        if result.edit is not None:
            try:
                await query.edit_message_text(
                    result.edit.text, parse_mode=ParseMode.HTML,
                    reply_markup=keyboard(result.edit.buttons), link_preview_options=NO_PREVIEW,
                )
            except BadRequest as exc:
                if "not modified" not in str(exc).lower():
                    raise
        if result.replies:
            thread = message.message_thread_id if isinstance(message, Message) and message.is_topic_message else None
            await send_replies(context.bot, message.chat.id, result.replies, thread_id=thread)
