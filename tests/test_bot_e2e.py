"""End to end: the real PTB Application, long polling a fake Bot API server on 127.0.0.1.

Each test starts its own server and application, injects user updates and asserts on the
Bot API calls the bot made (the server rejects HTML or lengths Telegram would reject).
"""
from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path

import pytest

from bot.app import CONVERSATION, build_application, running
from bot.conversation import Conversation
from bot.render import Reply
from bot.settings import BotSettings
from bot.wording import NOT_ALLOWED, ONLY_TEXT, RATE_LIMITED, SORRY
from tests.support.bot import ADMIN, ANA, SENTINEL_USER, StartBot, ask, buttons, sent_to, settle, texts
from tests.support.fake_engine import NASTY_TITLE, FakeEngine
from tests.support.fake_telegram import BOT_ID, BOT_USERNAME, TOKEN, FakeTelegram

QUESTION = "¿Qué limita la ley de vivienda?"


@pytest.fixture
def bot_defaults() -> dict[str, object]:
    """Every bot here has an admin (the engine is the shared fixture's deterministic fake;
    tests/test_bot_real.py uses the real one)."""
    return {"admin_ids": frozenset({ADMIN})}


# ---------------------------------------------------------------- answering


async def test_answer_with_source_line_buttons_and_typing(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot()
    call = await ask(fake, QUESTION)
    text = call.params["text"]
    assert call.params["parse_mode"] == "HTML"
    assert text.startswith("La norma limita la subida del alquiler al tres por ciento durante 2024.")
    assert "<b>El Gobierno aprueba la ley de vivienda</b>" in text
    assert "El Diario · 5 de marzo de 2024" in text
    assert '<a href="https://example.com/vivienda?a=1&amp;b=2">Abrir artículo</a>' in text
    assert list(buttons(call)) == ["Ver pasaje", "Más pasajes", "👍", "👎"]
    assert json.loads(json.dumps(call.params["link_preview_options"])) == {"is_disabled": True}
    typing = fake.calls_of("sendChatAction")
    assert typing and typing[0].params == {"chat_id": ANA, "action": "typing"}
    assert fake.calls.index(typing[0]) < fake.calls.index(call)
    assert "reply_parameters" not in call.params  # no quoting in private chats


async def test_buttons_more_view_and_vote(fake: FakeTelegram, start_bot: StartBot, tmp_path: Path) -> None:
    await start_bot()
    answer = await ask(fake, QUESTION)
    message = fake.bot_messages(ANA)[-1]
    data = buttons(answer)

    query = fake.press(message, data["Más pasajes"])
    await fake.wait_for("answerCallbackQuery", 1, where=lambda c: c.params["callback_query_id"] == query)
    more = await fake.wait_for_message(ANA, "Más pasajes")
    assert "Consejo de Ministros" in more.params["text"]

    query = fake.press(message, data["Ver pasaje"])
    await fake.wait_for("answerCallbackQuery", 1, where=lambda c: c.params["callback_query_id"] == query)
    view = await fake.wait_for_message(ANA, "<b>La norma limita")
    assert "El Gobierno aprueba la ley de vivienda" in view.params["text"]

    query = fake.press(message, data["👍"])
    [ack] = await fake.wait_for("answerCallbackQuery", 1, where=lambda c: c.params["callback_query_id"] == query)
    assert ack.params["text"] == "¡Gracias por tu opinión!"
    lines = [json.loads(line) for line in (tmp_path / "feedback.jsonl").read_text().splitlines()]
    assert [line["event"] for line in lines] == ["question", "vote"]
    assert lines[1] == {**lines[1], "vote": "up", "qid": lines[0]["qid"]}
    assert str(ANA) not in (tmp_path / "feedback.jsonl").read_text()


async def test_expired_button_is_acknowledged(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot()
    await ask(fake, QUESTION)
    query = fake.press(fake.bot_messages(ANA)[-1], "p:zzzz:0")
    [ack] = await fake.wait_for("answerCallbackQuery", 1, where=lambda c: c.params["callback_query_id"] == query)
    assert "ya no está disponible" in ack.params["text"]


async def test_follow_up_passes_history(fake: FakeTelegram, start_bot: StartBot, engine: FakeEngine) -> None:
    await start_bot()
    await ask(fake, QUESTION)
    await ask(fake, "¿y cuándo?")
    [turn] = engine.asks[1].history
    assert turn.question == QUESTION and turn.article_ids == ("a1",)
    await ask(fake, "/nuevo", contains="empezamos de cero")
    await ask(fake, "¿y cuándo?")
    assert engine.asks[2].history == ()


async def test_sources_pagination_edits_the_message(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot()
    call = await ask(fake, "/fuentes abc", contains="Artículos indexados")
    assert "página 1 de 2" in call.params["text"] and list(buttons(call)) == ["▶"]
    message = fake.bot_messages(ANA)[-1]
    fake.press(message, buttons(call)["▶"])
    [edit] = await fake.wait_for("editMessageText")
    assert "página 2 de 2" in edit.params["text"] and list(buttons(edit)) == ["◀"]
    assert edit.params["message_id"] == message["message_id"]
    fake.press(fake.bot_messages(ANA)[-1], "f:1")
    await fake.wait_for("editMessageText", 2)
    await fake.wait_for("answerCallbackQuery", 2)


async def test_start_search_and_usage(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot()
    start = await ask(fake, "/start", contains="Hola")
    assert "14 artículos" in start.params["text"]
    usage = await ask(fake, "/buscar", contains="Dime qué buscar")
    assert usage
    found = await ask(fake, "/buscar inflación", contains="Pasajes para")
    assert "La inflación &lt;subió&gt; al 3,4 % &amp; los precios" in found.params["text"]


async def test_commands_registered_in_spanish(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot()
    calls = await fake.wait_for("setMyCommands", 2)
    public = next(c for c in calls if "scope" not in c.params)
    names = {c["command"]: c["description"] for c in public.params["commands"]}
    assert set(names) == {"start", "ayuda", "buscar", "fuentes", "ultimas", "nuevo"}
    assert names["fuentes"] == "Artículos que conozco"
    admin = next(c for c in calls if "scope" in c.params)
    assert admin.params["scope"] == {"type": "chat", "chat_id": ADMIN}
    assert {"estado", "recargar"} <= {c["command"] for c in admin.params["commands"]}


async def test_admin_only_commands(fake: FakeTelegram, start_bot: StartBot, engine: FakeEngine) -> None:
    await start_bot()
    await ask(fake, "/estado", contains="solo para administradores")
    status = await ask(fake, "/estado", user_id=ADMIN, contains="Estado")
    assert "Artículos: 14" in status.params["text"] and "Latencia p50" in status.params["text"]
    engine.reload_result = True
    await ask(fake, "/recargar", user_id=ADMIN, contains="Índice recargado")
    assert engine.reloads == 1


async def test_periodic_reload_runs_in_background_and_stops(fake: FakeTelegram, engine: FakeEngine) -> None:
    settings = BotSettings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=TOKEN, telegram_api_url=fake.url, feedback_log=None,
        reload_interval_seconds=0.05,
    )
    app = build_application(settings, engine)
    async with running(app, timeout=1):
        task = app.bot_data["reload_task"]
        for _ in range(200):
            if engine.reloads >= 2:
                break
            await asyncio.sleep(0.01)
        assert engine.reloads >= 2 and not task.done()
    assert task.cancelled()
    reloads = engine.reloads
    await asyncio.sleep(0.15)
    assert engine.reloads == reloads


# ---------------------------------------------------------------- who gets answers


async def test_allowlist_refuses_once_then_silence(fake: FakeTelegram, start_bot: StartBot, engine: FakeEngine) -> None:
    await start_bot(allowed_ids=frozenset({ANA, SENTINEL_USER}))
    for _ in range(3):
        fake.send_text(QUESTION, user_id=555)
    fake.send_sticker(user_id=555)
    await ask(fake, QUESTION)
    await settle(fake)
    assert texts(sent_to(fake, 555)) == [NOT_ALLOWED]
    assert [a.question for a in engine.asks] == [QUESTION]


async def test_rate_limit_notice_once(fake: FakeTelegram, start_bot: StartBot, engine: FakeEngine) -> None:
    await start_bot(rate_limit_per_minute=3)
    for i in range(8):
        fake.send_text(f"{QUESTION} {i}")
    await fake.wait_for("sendMessage", 4, where=lambda c: c.params["chat_id"] == ANA)
    await settle(fake)
    sent = texts(sent_to(fake, ANA))
    assert sent.count(RATE_LIMITED) == 1
    assert len(sent) == 4 and len(engine.asks) == 3


async def test_group_answers_only_mentions_replies_and_commands(
    fake: FakeTelegram, start_bot: StartBot, engine: FakeEngine
) -> None:
    await start_bot()
    group = fake.group_chat()
    gid = group["id"]
    fake.send_text(QUESTION, chat=group)  # chatter: ignored
    fake.send_text("/fuentes@otro_bot", chat=group)  # another bot's command: ignored
    fake.send_sticker(chat=group)  # ignored
    await settle(fake)
    assert sent_to(fake, gid) == [] and engine.asks == []

    mention = fake.send_text(f"@{BOT_USERNAME} {QUESTION}", chat=group)
    [answer] = await fake.wait_for("sendMessage", 1, where=lambda c: c.params["chat_id"] == gid)
    assert answer.params["text"].startswith("La norma limita")
    assert engine.asks[0].question == QUESTION  # the mention is not part of the question
    assert answer.params["reply_parameters"]["message_id"] == mention["message_id"]

    bot_message = fake.bot_messages(gid)[-1]
    fake.send_text("¿y cuándo?", chat=group, user_id=2002, reply_to=bot_message)
    await fake.wait_for("sendMessage", 2, where=lambda c: c.params["chat_id"] == gid)
    assert engine.asks[1].history  # the group's conversation continues

    fake.send_text("/fuentes", chat=group)
    await fake.wait_for("sendMessage", 3, where=lambda c: c.params["chat_id"] == gid)
    fake.send_sticker(chat=group, reply_to=bot_message)
    await fake.wait_for_message(gid, ONLY_TEXT)


# ---------------------------------------------------------------- hostile or odd input


async def test_nasty_title_is_rendered_safely(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot()
    call = await ask(fake, "¿Qué pasó con la inflación y la electricidad?")
    message = fake.bot_messages(ANA)[-1]
    assert NASTY_TITLE in message["text"]  # Telegram shows the title exactly as written
    assert "Economía & Co <SA>" in message["text"]
    fake.press(message, buttons(call)["Ver pasaje"])
    view = await fake.wait_for_message(ANA, "<b>La inflación &lt;subió&gt;")
    assert view.ok
    await ask(fake, "/fuentes", contains="Artículos indexados")
    assert all(c.ok for c in fake.calls_of("sendMessage", ok_only=False))


async def test_non_text_messages_get_a_short_reply(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot()
    fake.send_sticker()
    fake.send_photo()
    fake.send_location()
    fake.send_voice()
    await fake.wait_for("sendMessage", 4, where=lambda c: c.params["chat_id"] == ANA)
    assert texts(sent_to(fake, ANA)) == [ONLY_TEXT] * 4


async def test_edited_messages_are_ignored(fake: FakeTelegram, start_bot: StartBot, engine: FakeEngine) -> None:
    await start_bot()
    original = fake.send_text(QUESTION)
    await fake.wait_for_message(ANA, "La norma limita")
    fake.edit_text(original, "¿Quién ganó la Liga?")
    await settle(fake)
    assert len(sent_to(fake, ANA)) == 1 and len(engine.asks) == 1
    polls = fake.calls_of("getUpdates")
    assert polls and "edited_message" not in polls[-1].params["allowed_updates"]


@pytest.mark.parametrize(
    "text",
    [
        "😀",
        "x" * 4500,
        "ley de vivienda " * 300,
        "<b>ley</b> de vivienda & <i>alquiler</i> *negrita* _cursiva_ `code` [link](http://x)",
        "\u200b\u200d¿Qué\u202e limita\u2066 la ley de\x00 vivienda?\x07",
        "\u200f\u200e",
    ],
)
async def test_bad_input_never_breaks(fake: FakeTelegram, start_bot: StartBot, text: str) -> None:
    await start_bot()
    fake.send_text(text)
    await fake.wait_for("sendMessage", 1, where=lambda c: c.params["chat_id"] == ANA)
    await settle(fake)
    calls = fake.calls_of("sendMessage", ok_only=False)
    assert calls and all(c.ok for c in calls)
    assert SORRY not in texts(calls)


# ---------------------------------------------------------------- failures


@pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")  # PTB's own RetryAfter
async def test_flood_control_is_retried(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot()
    fake.fail_next("sendMessage", status=429, retry_after=1)
    call = await ask(fake, QUESTION)
    attempts = fake.calls_of("sendMessage", ok_only=False)
    assert [c.status for c in attempts] == [429, 200]
    assert call.params["text"].startswith("La norma limita")


async def test_engine_error_apologises_and_token_never_logged(
    fake: FakeTelegram, start_bot: StartBot, engine: FakeEngine,
    caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    engine.fail_with = RuntimeError(f"boom while calling {fake.url}/bot{TOKEN}/sendMessage")
    await start_bot()
    fake.fail_next("sendChatAction", status=500)
    apology = await ask(fake, QUESTION, contains=SORRY)
    assert apology.params["text"] == SORRY
    logging.getLogger("httpx").warning("GET %s/bot%s/getMe", fake.url, TOKEN)
    out, err = capfd.readouterr()
    assert TOKEN not in caplog.text and TOKEN not in out and TOKEN not in err
    assert all(TOKEN not in r.getMessage() for r in caplog.records)
    assert "[TOKEN]" in caplog.text
    assert "RuntimeError" in caplog.text  # the traceback is logged
    assert logging.getLogger("httpx").getEffectiveLevel() >= logging.WARNING


async def test_server_error_on_send_is_survived(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot(api_retries=1, api_retry_delay_seconds=0.05)
    fake.fail_next("sendMessage", times=2, status=500)  # the first try and its one retry
    fake.send_text(QUESTION)
    await fake.wait_for_message(ANA, SORRY)  # the answer was given up on; the apology went through
    call = await ask(fake, QUESTION)  # and the bot keeps working
    assert call.params["text"].startswith("La norma limita")


async def test_conversation_is_exposed_for_embedding(fake: FakeTelegram, start_bot: StartBot) -> None:
    app = await start_bot()
    assert app.bot_data[CONVERSATION].settings.telegram_api_url == fake.url
    assert app.bot.id == BOT_ID


async def test_rejected_html_is_resent_as_plain_text(fake: FakeTelegram, engine: FakeEngine) -> None:
    """The last line of defence: if Telegram ever refuses our HTML, the user still gets the words."""
    settings = BotSettings(  # type: ignore[call-arg]
        _env_file=None, telegram_bot_token=TOKEN, telegram_api_url=fake.url, feedback_log=None,
        reload_interval_seconds=0,
    )

    class Broken(Conversation):
        async def question(self, sender, text, busy=None):  # noqa: ANN001, ANN201
            return [Reply("<b>sin cerrar & roto")]

    app = build_application(settings, engine, conversation=Broken(engine, settings))
    async with running(app, timeout=1):
        fake.send_text(QUESTION)
        await fake.wait_for_message(ANA, "sin cerrar & roto")
    attempts = fake.calls_of("sendMessage", ok_only=False)
    assert [c.status for c in attempts] == [400, 200]
    assert "parse_mode" not in attempts[1].params


async def test_not_in_article_names_the_article_and_shows_its_closest_sentence_apart(
        fake: FakeTelegram, start_bot: StartBot, engine: FakeEngine) -> None:
    """The story is found but gives no number: the reply says so, never shows the sentence as the answer."""
    await start_bot()
    call = await ask(fake, "¿Cuántos grandes tenedores hay con la ley de vivienda?")
    text = call.params["text"]
    assert text.startswith("El artículo «El Gobierno aprueba la ley de vivienda» habla de esto, pero no dice "
                           "cuántos grandes tenedores hay con la ley de vivienda.")
    assert "Lo más cercano que dice:" in text and "<i>«Los propietarios con más de diez pisos" in text
    assert "No lo encuentro" not in text and "El Diario" in text  # its source line
    assert "Ver pasaje" in buttons(call)
    await ask(fake, "¿y cuándo?")  # the story stays the thread a follow-up leans on
    assert engine.asks[-1].history[-1].article_ids == ("a1",)
