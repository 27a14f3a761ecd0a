"""The transport-independent conversation: history, limits, allowlist, commands, buttons."""
from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

from bot import smalltalk
from bot.commands import parse_command
from bot.conversation import Conversation, Sender
from bot.feedback import FeedbackLog
from bot.render import TEXT
from bot.settings import BotSettings
from bot.state import Allowlist, AnswerStore, History, RateLimiter, StoredAnswer
from bot.wording import ADMIN_ONLY, EXPIRED, NOT_A_QUESTION, NOT_ALLOWED, ONLY_TEXT, RATE_LIMITED
from index.records import Answer, Turn
from tests.support.fake_engine import FakeEngine

ANNA = Sender(chat_id=1, user_id=1)
QUESTION = "¿Qué limita la ley de vivienda?"


class Clock:
    """Manual time for expiry tests."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def make_settings(tmp_path: Path | None = None, **overrides) -> BotSettings:
    values = dict(feedback_log=(tmp_path / "feedback.jsonl") if tmp_path else None, allowed_ids=frozenset(),
                  admin_ids=frozenset({99}), rate_limit_per_minute=20, history_turns=4,
                  history_ttl_seconds=1800)
    values.update(overrides)
    return BotSettings(_env_file=None, **values)  # type: ignore[arg-type]


def conversation(tmp_path: Path | None = None, clock: Clock | None = None, engine: FakeEngine | None = None,
                 **overrides) -> Conversation:
    settings = make_settings(tmp_path, **overrides)
    kwargs = {"clock": clock} if clock else {}
    return Conversation(engine or FakeEngine(), settings, **kwargs)


# ---------------------------------------------------------------- state primitives


def test_history_is_bounded_per_chat() -> None:
    history = History(turns=3, ttl=100)
    for i in range(10):
        history.add(1, Turn(f"q{i}"))
    history.add(2, Turn("other"))
    assert [t.question for t in history.get(1)] == ["q7", "q8", "q9"]
    assert [t.question for t in history.get(2)] == ["other"]
    history.clear(1)
    assert history.get(1) == ()


def test_history_expires_after_ttl() -> None:
    clock = Clock()
    history = History(turns=4, ttl=60, clock=clock)
    history.add(1, Turn("old"))
    clock.now += 30
    history.add(1, Turn("new"))
    clock.now += 31
    assert [t.question for t in history.get(1)] == ["new"]
    clock.now += 60
    assert history.get(1) == ()


def test_history_zero_turns_keeps_nothing() -> None:
    history = History(turns=0, ttl=60)
    history.add(1, Turn("q"))
    assert history.get(1) == ()


def test_history_forgets_least_recent_chats_beyond_cap() -> None:
    history = History(turns=2, ttl=60, max_chats=3)
    for chat in range(5):
        history.add(chat, Turn("q"))
    assert history.get(0) == () and history.get(1) == ()
    assert history.get(4)


def test_rate_limiter_sliding_window() -> None:
    clock = Clock()
    limiter = RateLimiter(3, window=60, clock=clock)
    assert [limiter.check("u") for _ in range(5)] == ["allow", "allow", "allow", "notify", "silent"]
    assert limiter.check("v") == "allow"  # per key
    clock.now += 59
    assert limiter.check("u") == "silent"
    clock.now += 1.5
    assert limiter.check("u") == "allow"  # the window freed
    assert limiter.check("u") == "allow"
    assert limiter.check("u") == "allow"
    assert limiter.check("u") == "notify"  # a new notice after it had freed


def test_rate_limit_zero_means_unlimited() -> None:
    limiter = RateLimiter(0)
    assert all(limiter.check("u") == "allow" for _ in range(100))


def test_allowlist() -> None:
    everyone = Allowlist(frozenset())
    assert everyone.check(5, 5) == "allow"
    only = Allowlist(frozenset({1, -100}))
    assert only.check(1, 1) == "allow"
    assert only.check(7, -100) == "allow"  # any member of an allowed group
    assert only.check(7, 7) == "notify"
    assert only.check(7, 7) == "silent"
    assert only.check(7, -5) == "silent"


def test_answer_store_is_bounded_and_ids_are_short() -> None:
    store = AnswerStore(per_chat=2)
    item = StoredAnswer(Answer("q", False, ""), (), (), "qid")
    keys = [store.put(1, item) for _ in range(3)]
    assert store.get(1, keys[0]) is None and store.get(1, keys[2]) is item
    assert store.get(2, keys[2]) is None  # per chat
    assert all(len(k) <= 6 for k in keys)


def test_parse_command() -> None:
    assert parse_command("/Fuentes@MiBot 2", "mibot") == ("fuentes", "2")
    assert parse_command("/fuentes@OtroBot", "mibot") is None
    assert parse_command("/buscar  la vivienda ") == ("buscar", "la vivienda")
    assert parse_command("hola /start") is None
    assert parse_command("/") is None


# ---------------------------------------------------------------- conversation


async def test_question_gets_answer_sources_and_buttons() -> None:
    conv = conversation()
    [reply] = await conv.question(ANNA, QUESTION)
    assert reply.text.startswith("La norma limita la subida del alquiler")
    assert "<b>El Gobierno aprueba la ley de vivienda</b>" in reply.text
    labels = [b.text for row in reply.buttons for b in row]
    assert labels == ["Ver pasaje", "Más pasajes", "👍", "👎"]


async def test_follow_up_passes_history_and_nuevo_forgets_it() -> None:
    engine = FakeEngine()
    conv = conversation(engine=engine)
    await conv.question(ANNA, QUESTION)
    await conv.question(ANNA, "¿y cuándo?")
    first, second = engine.asks
    assert first.history == ()
    [turn] = second.history
    assert turn.question == QUESTION
    assert turn.answer.startswith("La norma limita")
    assert turn.article_ids == ("a1",)
    await conv.command(ANNA, "nuevo")
    await conv.question(ANNA, QUESTION)
    assert engine.asks[-1].history == ()


async def test_thanks_and_greetings_get_a_friendly_reply_and_are_not_turns() -> None:
    """"gracias" searched the articles ("Muchas gracias a todas las mamás…") and then became
    the story the next follow-up leaned on."""
    engine = FakeEngine()
    conv = conversation(engine=engine)
    await conv.question(ANNA, QUESTION)
    [thanks] = await conv.question(ANNA, "¡Muchas gracias!")
    [hello] = await conv.question(ANNA, "holaaa")
    assert thanks.text == smalltalk.THANKS and hello.text == smalltalk.GREETING
    await conv.question(ANNA, "¿y cuándo?")
    assert [a.question for a in engine.asks] == [QUESTION, "¿y cuándo?"]
    assert [t.question for t in engine.asks[-1].history] == [QUESTION]


async def test_history_is_per_chat_and_bounded_by_setting() -> None:
    engine = FakeEngine()
    conv = conversation(engine=engine, history_turns=2)
    for i in range(4):
        await conv.question(ANNA, f"ley de vivienda {i}")
    await conv.question(Sender(2, 2), "ley de vivienda")
    assert [t.question for t in engine.asks[-2].history] == ["ley de vivienda 1", "ley de vivienda 2"]
    assert engine.asks[-1].history == ()


async def test_history_expires_in_conversation() -> None:
    clock = Clock()
    engine = FakeEngine()
    conv = conversation(engine=engine, clock=clock, history_ttl_seconds=60)
    await conv.question(ANNA, QUESTION)
    clock.now += 61
    await conv.question(ANNA, "¿y cuándo?")
    assert engine.asks[-1].history == ()


async def test_burst_of_20_from_one_user_under_gather() -> None:
    engine = FakeEngine()
    conv = conversation(engine=engine, rate_limit_per_minute=5)
    results = await asyncio.gather(*(conv.question(ANNA, f"{QUESTION} {i}") for i in range(20)))
    texts = [r[0].text if r else None for r in results]
    assert len(engine.asks) == 5
    assert texts.count(RATE_LIMITED) == 1
    assert texts.count(None) == 14
    other = await conv.question(Sender(2, 2), QUESTION)  # other users are not affected
    assert other and other[0].text != RATE_LIMITED


async def test_allowlist_refuses_once_then_silence_even_concurrently() -> None:
    engine = FakeEngine()
    conv = conversation(engine=engine, allowed_ids=frozenset({1}))
    stranger = Sender(5, 5)
    results = await asyncio.gather(*(conv.question(stranger, QUESTION) for _ in range(10)))
    assert [r[0].text for r in results if r] == [NOT_ALLOWED]
    assert await conv.non_text(stranger) == []
    assert (await conv.press(stranger, "f:2")).edit is None
    assert engine.asks == []
    assert (await conv.question(ANNA, QUESTION))[0].text.startswith("La norma")


async def test_bad_inputs_get_a_polite_reply() -> None:
    engine = FakeEngine()
    conv = conversation(engine=engine)
    for text in ["", "   ", "😀", "\u200b\u200f", "???", "\x00\x07"]:
        assert (await conv.question(ANNA, text))[0].text == NOT_A_QUESTION
    assert engine.asks == []
    await conv.question(ANNA, "vivienda " * 1000)
    assert len(engine.asks[-1].question) <= 500
    await conv.question(ANNA, "<b>ley</b> & *vivienda* _ `x` \u202e\x1b[31m")
    assert "\x1b" not in engine.asks[-1].question and "\u202e" not in engine.asks[-1].question
    assert (await conv.non_text(ANNA))[0].text == ONLY_TEXT


async def test_refusal_offers_closest_titles() -> None:
    [reply] = await conversation().question(ANNA, "¿Quién ganó la Champions en Marte?")
    assert reply.text.startswith("No lo encuentro en los artículos.")
    assert "El Real Madrid gana la Liga" in reply.text


async def test_buttons_more_view_and_vote(tmp_path: Path) -> None:
    conv = conversation(tmp_path)
    [reply] = await conv.question(ANNA, QUESTION)
    data = {b.text: b.data for row in reply.buttons for b in row}
    more = await conv.press(ANNA, data["Más pasajes"])
    assert "Más pasajes" in more.replies[0].text and "Consejo de Ministros" in more.replies[0].text
    view = await conv.press(ANNA, data["Ver pasaje"])
    assert "<b>La norma limita" in view.replies[0].text
    assert (await conv.press(ANNA, data["👍"])).notice == "¡Gracias por tu opinión!"
    assert (await conv.press(ANNA, data["👎"])).notice == "Ya tengo tu voto, gracias."
    assert (await conv.press(Sender(1, 2), data["👎"])).notice == "¡Gracias por tu opinión!"  # another group member
    assert (await conv.press(Sender(3, 3), data["👍"])).notice == EXPIRED  # other chat: unknown id
    assert (await conv.press(ANNA, "junk")) .notice is None
    assert (await conv.press(ANNA, "p:zz:0")).notice == EXPIRED

    lines = [json.loads(line) for line in (tmp_path / "feedback.jsonl").read_text().splitlines()]
    question, vote_up, vote_down = lines
    assert question["event"] == "question" and question["question"] == QUESTION
    assert question["answered"] is True and question["article_ids"][0] == "a1"
    assert {"chunk_ids", "scores", "latency_ms", "ts", "qid"} <= set(question)
    assert vote_up == {**vote_up, "event": "vote", "qid": question["qid"], "vote": "up"}
    assert vote_down["vote"] == "down"
    raw = (tmp_path / "feedback.jsonl").read_text()
    assert "user" not in raw and "chat" not in raw


async def test_old_answers_expire_from_the_store() -> None:
    conv = conversation(answers_per_chat=2)
    first = await conv.question(ANNA, QUESTION)
    for _ in range(2):
        await conv.question(ANNA, QUESTION)
    data = first[0].buttons[0][0].data
    assert (await conv.press(ANNA, data)).notice == EXPIRED


async def test_more_passages_paginates() -> None:
    conv = conversation()
    [reply] = await conv.question(ANNA, "precios inflación electricidad alimentos banco riesgos vivienda liga")
    more = next(b.data for row in reply.buttons for b in row if b.text == "Más pasajes")
    seen = 0
    while more:
        result = await conv.press(ANNA, more)
        seen += 1
        buttons = [b for r in result.replies for row in r.buttons for b in row]
        more = buttons[0].data if buttons else None
    assert seen >= 1


async def test_fuentes_paginates_and_tolerates_junk() -> None:
    conv = conversation()
    [page1] = await conv.command(ANNA, "fuentes", "abc")
    assert "página 1 de 2" in page1.text
    assert [b.text for row in page1.buttons for b in row] == ["▶"]
    result = await conv.press(ANNA, page1.buttons[0][0].data)
    assert result.edit is not None and "página 2 de 2" in result.edit.text
    assert "página 2 de 2" in (await conv.command(ANNA, "fuentes", "99"))[0].text
    assert "página 1 de 2" in (await conv.command(ANNA, "fuentes", "-3"))[0].text


async def test_start_help_and_search() -> None:
    engine = FakeEngine()
    conv = conversation(engine=engine)
    start = (await conv.command(ANNA, "start"))[0].text
    assert "14 artículos" in start and "del 1 de enero de 2023 al 4 de mayo de 2024" in start
    assert "/buscar" in (await conv.command(ANNA, "ayuda"))[0].text
    assert "/estado" not in (await conv.command(ANNA, "ayuda"))[0].text
    assert "/buscar precio" in (await conv.command(ANNA, "buscar", "  "))[0].text
    found = (await conv.command(ANNA, "buscar", "inflación"))[0].text
    assert "Pasajes para «inflación»" in found and "La inflación &lt;subió&gt;" in found
    assert engine.searches == ["inflación"]
    assert "No conozco el comando /xyz" in (await conv.command(ANNA, "xyz"))[0].text


async def test_admin_commands() -> None:
    engine = FakeEngine(reload_result=True)
    conv = conversation(engine=engine)
    assert (await conv.command(ANNA, "estado"))[0].text == ADMIN_ONLY
    assert (await conv.command(ANNA, "recargar"))[0].text == ADMIN_ONLY
    admin = Sender(99, 99)
    await conv.question(admin, QUESTION)
    status = (await conv.command(admin, "estado"))[0].text
    for word in ("Artículos: 14", "Fragmentos", "Índice creado", "Modelo: fake-model", "Preguntas: 1",
                 "En marcha", "Latencia p50"):
        assert word in status
    assert "recargado" in (await conv.command(admin, "recargar"))[0].text
    engine.reload_result = False
    assert "al día" in (await conv.command(admin, "recargar"))[0].text
    assert engine.reloads == 2


async def test_reload_failure_is_reported_not_raised() -> None:
    engine = FakeEngine()
    engine.reload_if_changed = lambda: (_ for _ in ()).throw(RuntimeError("disk"))  # type: ignore[method-assign]
    conv = conversation(engine=engine)
    text = (await conv.command(Sender(99, 99), "recargar"))[0].text
    assert "No he podido recargar" in text


async def test_feedback_log_never_contains_ids(tmp_path: Path) -> None:
    log = FeedbackLog(tmp_path / "f.jsonl")
    conv = Conversation(FakeEngine(), make_settings(), feedback=log)
    await conv.question(Sender(123456, 654321), QUESTION)
    raw = (tmp_path / "f.jsonl").read_text()
    assert "123456" not in raw and "654321" not in raw


async def test_console_conversation_uses_plain_text() -> None:
    conv = Conversation(FakeEngine(), make_settings(), TEXT, local=True)
    [reply] = await conv.question(ANNA, "inflación electricidad")
    assert "&lt;" not in reply.text and "&amp;" not in reply.text
    assert "📰 Precios <b>sin</b> control" in reply.text  # the title as written, not bold


@pytest.mark.parametrize("command", ["estado", "recargar"])
async def test_console_operator_is_admin(command: str) -> None:
    conv = Conversation(FakeEngine(), make_settings(), TEXT, local=True)
    assert (await conv.command(ANNA, command))[0].text != ADMIN_ONLY


async def test_message_posting_buttons_share_the_rate_limit() -> None:
    conv = conversation(rate_limit_per_minute=2)
    [reply] = await conv.question(ANNA, QUESTION)
    data = {b.text: b.data for row in reply.buttons for b in row}
    assert (await conv.press(ANNA, data["Ver pasaje"])).replies
    assert (await conv.press(ANNA, data["Más pasajes"])).notice == RATE_LIMITED
    assert (await conv.press(ANNA, data["👍"])).notice == "¡Gracias por tu opinión!"  # votes stay free
