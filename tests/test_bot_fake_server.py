"""The fake Bot API server itself answers like Telegram (so the e2e tests can trust it)."""
from __future__ import annotations

import pytest
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup
from telegram.error import BadRequest, InvalidToken, NetworkError, RetryAfter

from tests.support.fake_telegram import BOT_USERNAME, TOKEN, FakeTelegram, text_entities


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own RetryAfter
async def test_bot_api_round_trip_and_telegram_errors(fake: FakeTelegram) -> None:
    async with Bot(TOKEN, base_url=f"{fake.url}/bot") as bot:
        assert bot.username == BOT_USERNAME
        message = await bot.send_message(1001, "<b>hola</b> &amp; 😀", parse_mode="HTML")
        assert message.text == "hola & 😀" and message.from_user.id == bot.id
        with pytest.raises(BadRequest, match="(?i)can't parse entities"):
            await bot.send_message(1001, "<b>sin cerrar", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)too long"):
            await bot.send_message(1001, "😀" * 2049)  # 4098 UTF-16 units
        await bot.send_message(1001, "😀" * 2048)  # exactly 4096: fine
        with pytest.raises(BadRequest, match="(?i)empty"):
            await bot.send_message(1001, "<b> </b>", parse_mode="HTML")
        with pytest.raises(BadRequest, match="(?i)button_data_invalid"):
            await bot.send_message(1001, "x", reply_markup=InlineKeyboardMarkup(
                [[InlineKeyboardButton("b", callback_data="x" * 65)]]))
        await bot.edit_message_text("nuevo", chat_id=1001, message_id=message.message_id)
        with pytest.raises(BadRequest, match="(?i)not modified"):
            await bot.edit_message_text("nuevo", chat_id=1001, message_id=message.message_id)

        fake.fail_next("sendMessage", status=429, retry_after=3)
        with pytest.raises(RetryAfter):
            await bot.send_message(1001, "x")
        fake.fail_next("sendMessage", status=500)
        with pytest.raises(NetworkError):
            await bot.send_message(1001, "x")
        await bot.send_message(1001, "x")  # faults are used up

        fake.send_text("/start", user_id=5)
        updates = await bot.get_updates(timeout=1)
        assert updates[0].message.text == "/start" and updates[0].message.entities[0].type == "bot_command"
        assert await bot.get_updates(offset=updates[-1].update_id + 1, timeout=0) == ()

    with pytest.raises(InvalidToken):
        await Bot("1:wrong", base_url=f"{fake.url}/bot").initialize()


def test_entities_use_utf16_offsets() -> None:
    assert text_entities("😀 @alguien_bot /ayuda") == [
        {"type": "mention", "offset": 3, "length": 12},
        {"type": "bot_command", "offset": 16, "length": 6},
    ]
