"""/ultimas [tema] in the real bot against the fake Bot API server, its page buttons, /ayuda,
and how a partial date is shown."""
from __future__ import annotations

from bot import buttons as bot_buttons
from bot.render import TEXT, format_date, latest_text
from index.latest import page_of
from index.records import ArticleInfo
from tests.support.bot import ANA, StartBot, ask, buttons
from tests.support.fake_engine import FakeEngine
from tests.support.fake_telegram import FakeTelegram


async def test_latest_pages_through_the_newest_articles(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot()
    call = await ask(fake, "/ultimas", contains="Últimos artículos")
    text = call.params["text"]
    assert "Últimos artículos (14), página 1 de 2" in text and list(buttons(call)) == ["▶"]
    assert text.index("El Real Madrid gana la Liga") < text.index("El Gobierno aprueba la ley de vivienda")
    assert "4 de mayo de 2024" in text and "Deportes Hoy" in text
    message = fake.bot_messages(ANA)[-1]
    fake.press(message, buttons(call)["▶"])
    [edit] = await fake.wait_for("editMessageText")
    assert "página 2 de 2" in edit.params["text"] and list(buttons(edit)) == ["◀"]
    assert "Lluvias torrenciales en Valencia" in edit.params["text"]  # undated: last


async def test_latest_about_a_topic(fake: FakeTelegram, start_bot: StartBot, engine: FakeEngine) -> None:
    await start_bot()
    call = await ask(fake, "/ultimas relleno", contains="Últimos artículos sobre")
    text = call.params["text"]
    assert "«relleno» (10), página 1 de 1" in text and not buttons(call)
    assert text.index("número 10") < text.index("número 9") and "Real Madrid" not in text
    assert engine.latests[-1] == "relleno"
    none = await ask(fake, "/ultimas marcianos", contains="No encuentro artículos sobre")
    assert "«marcianos»" in none.params["text"]


async def test_asking_for_the_news_gets_the_newest_stories(
    fake: FakeTelegram, start_bot: StartBot, engine: FakeEngine
) -> None:
    """"¿Qué hay de nuevo?" names no subject: the reply is /ultimas's list, not a sentence that
    happens to say "nuevo", and it is not a turn the next follow-up leans on."""
    await start_bot()
    asked = len(engine.asks)
    call = await ask(fake, "hola, ¿qué hay de nuevo?", contains="Últimos artículos")
    assert "Últimos artículos (14), página 1 de 2" in call.params["text"] and list(buttons(call)) == ["▶"]
    assert engine.latests[-1] == "" and len(engine.asks) == asked


async def test_asking_for_the_news_of_a_day_lists_that_day(
    fake: FakeTelegram, start_bot: StartBot, engine: FakeEngine
) -> None:
    """"noticias de ayer" is /ultimas ayer: the engine lists the stories of that day (the fake
    engine is handed the time expression), and no question reaches the answer path."""
    await start_bot()
    asked = len(engine.asks)
    await ask(fake, "noticias de ayer, porfa", contains="artículos")
    assert engine.latests[-1] == "ayer" and len(engine.asks) == asked


async def test_help_lists_latest(fake: FakeTelegram, start_bot: StartBot) -> None:
    await start_bot()
    call = await ask(fake, "/ayuda", contains="/ultimas")
    assert "lo último sobre" in call.params["text"]


def test_page_buttons_carry_a_topic_that_fits() -> None:
    long_topic = "las vacunas contra la covid en los países de la Unión Europea y de América Latina " * 2
    topic = bot_buttons.fit_topic(long_topic)
    assert long_topic.startswith(topic) and not topic.endswith(" ")
    [row] = bot_buttons.latest_keyboard(2, 3, topic)
    for button in row:
        assert len(button.data.encode("utf-8")) <= bot_buttons.CALLBACK_LIMIT
        press = bot_buttons.decode(button.data)
        assert press is not None and press.kind == bot_buttons.LATEST and press.answer_id == topic
    assert bot_buttons.decode("u:2:a:b").answer_id == "a:b"


def test_partial_dates_are_shown_as_such() -> None:
    assert format_date("2017-05") == "mayo de 2017"
    assert format_date("2017-05-02") == "2 de mayo de 2017"
    assert format_date("2017-05-02T10:00:00") == "2 de mayo de 2017"
    assert format_date("2017") == "2017" and format_date("2017-13") == "2017-13" and format_date(None) == ""


def test_an_empty_listing() -> None:
    assert latest_text(page_of("", [], 0, 1, 10), TEXT) == "Todavía no hay artículos en el índice."


def test_a_list_of_a_day_says_which_day_and_an_empty_one_says_so() -> None:
    infos = [ArticleInfo("a", "Arde el mercado", "2021-03-09", None, "Diario Uno")]
    day = latest_text(page_of("", infos, 1, 1, 10, dates="ayer"), TEXT)
    assert day.startswith("Noticias «ayer» (1), página 1 de 1:")
    about = latest_text(page_of("mercado", infos, 1, 1, 10, dates="ayer"), TEXT)
    assert about.startswith("Noticias sobre «mercado», «ayer» (1), página 1 de 1:")
    assert latest_text(page_of("", [], 0, 1, 10, dates="ayer"), TEXT) == (
        "No tengo noticias con esa fecha («ayer»). Las más recientes: /ultimas")
