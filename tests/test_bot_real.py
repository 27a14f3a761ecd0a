"""End to end with the REAL engine: the PTB Application long polling the fake Bot API server
(127.0.0.1) and answering from the bundled sample index built with the real default model.

tests/test_bot_e2e.py proves the Telegram side with a fake engine; this file proves the
wiring with the real one: the seed question and its follow-up, the highlighted passage, a
hot reload after an incremental rebuild while users keep asking, a failed rebuild that
leaves the old index in service, and group etiquette.

The only real build is the session's ``sample_index`` (shared with test_integration.py);
tests that rebuild work on a private copy of it (index files + articles) in tmp_path.
"""
from __future__ import annotations

import asyncio
import functools
import itertools
import os
import re
import shutil
import time
from pathlib import Path

import pytest

from bot.wording import SORRY
from index import store
from index.build import build_index
from index.engine import Engine
from index.errors import NothingToIndex
from index.settings import Settings
from tests.support import bot as shared
from tests.support.bot import ANA, StartBot, buttons, sent_to
from tests.support.encoder import SAMPLE
from tests.support.fake_telegram import BOT_USERNAME, FakeTelegram

pytestmark = pytest.mark.slow

SEED_QUESTION = "¿Qué acusa EE. UU.?"
FOLLOW_UP = "¿Y qué recibe a cambio?"
ACCUSATION = "artillería, misiles"
SEED_TITLE = "El presidente ruso, Vladímir Putin"
WAIT = 30.0  # seconds; the real model on two shared cores can be slow under load

NEW_ARTICLE_FILE = "festival-zumarraga-opalo.txt"
NEW_ARTICLE_ID = "festival-zumarraga-opalo"
NEW_TITLE = "El festival de cometas Zumárraga-Ópalo reúne a miles de personas en Teruel"
NEW_ARTICLE = f"""{NEW_TITLE}
El primer festival internacional de cometas Zumárraga-Ópalo se celebró el sábado en las afueras de Teruel y \
reunió a unas 4.000 personas llegadas de once países. Los organizadores, la asociación vecinal Viento Alto, \
contaron 312 cometas en el aire al mismo tiempo, un récord para Aragón.
El premio principal del festival, una cometa de cristal azul, fue para la ingeniera jubilada Remedios \
Ortigosa, de 71 años, que voló un dragón de seda de 40 metros de largo. La segunda plaza fue para un grupo \
de estudiantes de Cuenca.
El Ayuntamiento de Teruel anunció que el festival Zumárraga-Ópalo se repetirá el próximo año y que ampliará \
la zona de vuelo junto al río Guadalaviar.
"""
NEW_QUESTION = "¿Quién ganó el premio principal del festival Zumárraga-Ópalo?"
NEW_ANSWER = "Remedios Ortigosa"


# --------------------------------------------------------------------------- fixtures


@pytest.fixture
def bot_defaults() -> dict[str, object]:
    """No rate limit: the tests here ask many questions (start_bot(engine) also makes the bot's
    index_dir the real engine's own)."""
    return {"rate_limit_per_minute": 0}


@pytest.fixture(scope="module")
def base_copy(sample_index: Settings, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A private copy of the session's sample build (index files and articles), made once."""
    base = tmp_path_factory.mktemp("real-bot-base")
    shutil.copytree(sample_index.index_dir, base / "index", symlinks=True)
    shutil.copytree(SAMPLE, base / "articles")
    return base


@pytest.fixture
def private(base_copy: Path, tmp_path: Path, real_encoder) -> tuple[Settings, Engine]:  # noqa: ANN001
    """Settings and a real Engine over this test's own copy: rebuilding it touches nothing shared."""
    shutil.copytree(base_copy / "index", tmp_path / "index", symlinks=True)
    shutil.copytree(base_copy / "articles", tmp_path / "articles")
    settings = Settings(_env_file=None, index_dir=tmp_path / "index", articles_dir=tmp_path / "articles")
    return settings, Engine.open(settings, real_encoder)


# --------------------------------------------------------------------------- helpers


# The shared helpers, waiting as long as the real model may need.
ask = functools.partial(shared.ask, timeout=WAIT)
settle = functools.partial(shared.settle, timeout=WAIT)


async def wait_until_serving(engine: Engine, build_dir: Path, timeout: float = WAIT) -> None:
    """Wait until the bot's periodic reload made ``engine`` serve ``build_dir``."""
    deadline = time.monotonic() + timeout
    while Path(engine.info().path) != Path(build_dir):
        assert time.monotonic() < deadline, f"still serving {engine.info().path}, not {build_dir}"
        await asyncio.sleep(0.05)


# --------------------------------------------------------------------------- answering


async def test_seed_question_answer_source_buttons_and_typing(
    fake: FakeTelegram, start_bot: StartBot, sample_engine: Engine
) -> None:
    await start_bot(sample_engine)
    call = await ask(fake, SEED_QUESTION)
    text = call.params["text"]
    assert call.ok and call.params["parse_mode"] == "HTML"  # the fake server validated the HTML
    answer, _, sources = text.partition("\n\n")
    assert ACCUSATION in answer
    assert f"<b>{SEED_TITLE}" in sources  # the source line of the seed article
    assert set(buttons(call)) == {"Ver pasaje", "Más pasajes", "👍", "👎"}
    typing = [c for c in fake.calls_of("sendChatAction") if c.params["chat_id"] == ANA]
    assert typing and typing[0].params["action"] == "typing"
    assert fake.calls.index(typing[0]) < fake.calls.index(call)
    assert all(c.ok for c in fake.calls_of("sendMessage", ok_only=False))


async def test_a_fact_the_seed_story_does_not_give_gets_the_not_in_article_reply(
    fake: FakeTelegram, start_bot: StartBot, sample_engine: Engine
) -> None:
    """The seed story speaks of missiles but gives no number: the bot says so, naming the article,
    and shows the closest sentence apart, never as the answer."""
    await start_bot(sample_engine)
    call = await ask(fake, "¿Cuántos misiles ha enviado Corea del Norte a Rusia?")
    text = call.params["text"]
    assert call.ok and text.startswith(f"El artículo «{SEED_TITLE}")
    assert "habla de esto, pero no dice cuántos misiles ha enviado Corea del Norte a Rusia." in text
    assert "Lo más cercano que dice:" in text and ACCUSATION in text and "No lo encuentro" not in text
    assert "Ver pasaje" in buttons(call)


async def test_follow_up_continues_the_conversation(
    fake: FakeTelegram, start_bot: StartBot, sample_engine: Engine
) -> None:
    await start_bot(sample_engine)
    await ask(fake, SEED_QUESTION)
    follow = await ask(fake, FOLLOW_UP)
    answer = follow.params["text"].partition("\n\n")[0]
    assert "tecnologías militares clave" in answer
    assert f"<b>{SEED_TITLE}" in follow.params["text"]


async def test_a_bare_why_is_answered_from_the_story_and_keeps_the_thread(
    fake: FakeTelegram, start_bot: StartBot, sample_engine: Engine
) -> None:
    """The chat's history through the real bot: "¿Por qué?" as a first message is asked for its
    subject; after the seed question it is answered from the seed story, and it does not cut
    the thread the next follow-up leans on."""
    await start_bot(sample_engine)
    first = await ask(fake, "¿Por qué?")
    assert first.params["text"].startswith("¿Sobre qué?") and "Lo más parecido" not in first.params["text"]
    await ask(fake, SEED_QUESTION)
    why = await ask(fake, "¿Por qué?")
    assert "para prolongar el conflicto en Ucrania" in why.params["text"].partition("\n\n")[0]
    assert f"<b>{SEED_TITLE}" in why.params["text"]
    follow = await ask(fake, FOLLOW_UP)
    assert "tecnologías militares clave" in follow.params["text"].partition("\n\n")[0]


async def test_what_the_story_is_about_gets_its_lead_and_a_follow_up_stays_in_it(
    fake: FakeTelegram, start_bot: StartBot, sample_engine: Engine
) -> None:
    """"¿De qué trata la noticia de Putin?" names no fact: the reply is the story's lead, with its
    source; "¿Qué más dice?" reads on; the story is the thread the next follow-up leans on."""
    await start_bot(sample_engine)
    call = await ask(fake, "hola, ¿de qué trata la noticia de Putin?")
    answer, _, sources = call.params["text"].partition("\n\n")
    assert call.ok and answer.startswith("El presidente ruso, Vladímir Putin, se prepara para una visita histórica")
    assert f"<b>{SEED_TITLE}" in sources and "Ver pasaje" in buttons(call)
    more = await ask(fake, "¿Qué más dice?")
    assert more.params["text"].startswith("El núcleo de las conversaciones entre Putin y Kim Jong-un")
    assert f"<b>{SEED_TITLE}" in more.params["text"]
    follow = await ask(fake, "¿Y qué acusa EE. UU.?")
    assert ACCUSATION in follow.params["text"].partition("\n\n")[0]


async def test_a_claim_gets_the_verdict_of_the_story_that_checks_it(
    fake: FakeTelegram, start_bot: StartBot, sample_engine: Engine
) -> None:
    """"¿Es verdad que…?" of a rumour a sample story debunks: the reply is the story's verdict, not
    the sentence that repeats the rumour, with the story as its source."""
    await start_bot(sample_engine)
    call = await ask(fake, "es verdad q la vacuna del covid deja esteriles a las mujeres?")
    answer, _, sources = call.params["text"].partition("\n\n")
    assert call.ok and answer == "Es falso que la vacuna del coronavirus esterilice a las mujeres"
    assert "<b>Es falso que la vacuna" in sources


async def test_an_answer_says_what_its_relative_date_stands_for(
    fake: FakeTelegram, start_bot: StartBot, sample_engine: Engine
) -> None:
    """The sample story of Friday 26 March 2021 says "publica este viernes": the reply dates it,
    beside the article's words."""
    await start_bot(sample_engine)
    call = await ask(fake, "¿Cuándo publica el BOE el patrimonio de Irene Montero?")
    answer, _, sources = call.params["text"].partition("\n\n")
    assert call.ok and "publica este viernes [26 de marzo de 2021] estos datos" in answer
    assert "26 de marzo de 2021" in sources


async def test_the_news_of_a_day_is_that_days_list(
    fake: FakeTelegram, start_bot: StartBot, sample_engine: Engine
) -> None:
    """"noticias del 26 de marzo de 2021" is not a question: the reply lists the sample's one
    story of that day, as /ultimas does."""
    await start_bot(sample_engine)
    call = await ask(fake, "noticias del 26 de marzo de 2021")
    text = call.params["text"]
    assert call.ok and text.startswith("Noticias «del 26 de marzo de 2021» (1), página 1 de 1:")
    assert "El escandaloso incremento del patrimonio de Irene Montero" in text


async def test_view_passage_highlights_the_answer(
    fake: FakeTelegram, start_bot: StartBot, sample_engine: Engine
) -> None:
    await start_bot(sample_engine)
    call = await ask(fake, SEED_QUESTION)
    message = fake.bot_messages(ANA)[-1]
    query = fake.press(message, buttons(call)["Ver pasaje"])
    await fake.wait_for("answerCallbackQuery", 1, timeout=WAIT,
                        where=lambda c: c.params["callback_query_id"] == query)
    view = (await fake.wait_for("sendMessage", 2, timeout=WAIT, where=lambda c: c.params["chat_id"] == ANA))[-1]
    assert view.ok and view.params["parse_mode"] == "HTML" and not buttons(view)
    assert view.params["text"].startswith(f"📰 <b>{SEED_TITLE}")
    assert re.search(r"<b>[^<]*artillería, misiles[^<]*</b>", view.params["text"]), view.params["text"]


# --------------------------------------------------------------------------- hot reload


async def test_hot_reload_after_incremental_rebuild_drops_no_update(
    fake: FakeTelegram, start_bot: StartBot, private: tuple[Settings, Engine], real_encoder  # noqa: ANN001
) -> None:
    settings, engine = private
    old_build, old_articles = Path(engine.info().path), engine.info().articles
    app = await start_bot(engine, reload_interval_seconds=0.5)

    before = await ask(fake, NEW_QUESTION)
    assert NEW_ANSWER not in before.params["text"]  # not known yet

    (settings.articles_dir / NEW_ARTICLE_FILE).write_text(NEW_ARTICLE, encoding="utf-8")
    users = itertools.count(20_000)
    asked: list[int] = []

    async def keep_asking(stop: asyncio.Event) -> None:
        """A question every 30 ms from a new user, until told to stop (at least 5)."""
        while not stop.is_set() or len(asked) < 5:
            user = next(users)
            asked.append(user)
            fake.send_text(SEED_QUESTION if len(asked) % 2 else NEW_QUESTION, user_id=user)
            await asyncio.sleep(0.03)

    stop = asyncio.Event()
    asking = asyncio.create_task(keep_asking(stop))
    await asyncio.sleep(0.1)
    at_build_start = len(asked)
    report = await asyncio.to_thread(build_index, settings, encoder=real_encoder)  # the loop keeps serving
    at_build_end = len(asked)
    await wait_until_serving(engine, report.build_dir)  # switched by the periodic reload, bot not restarted
    await asyncio.sleep(0.2)  # and a few more questions right after the switch
    stop.set()
    await asking

    assert report.added == [NEW_ARTICLE_ID] and not report.full and len(report.unchanged) == old_articles
    assert report.embedded < 20  # only the new article was embedded
    assert at_build_end > at_build_start and report.build_dir != old_build  # questions arrived mid-build

    await fake.wait_for("sendMessage", len(asked), timeout=WAIT, where=lambda c: c.params["chat_id"] in asked)
    await settle(fake)
    for user in asked:  # every question answered exactly once, none with an apology
        [reply] = sent_to(fake, user)
        assert reply.params["text"] != SORRY and "\n\n" in reply.params["text"]

    after = await ask(fake, NEW_QUESTION)
    text = after.params["text"]
    assert NEW_ANSWER in text.partition("\n\n")[0]
    assert f"<b>{NEW_TITLE}</b>" in text
    assert len(fake.calls_of("getMe")) == 1 and app.running  # same application all along
    assert f"{old_articles + 1} artículos" in (await ask(fake, "/start", contains="Hola")).params["text"]


async def test_failed_rebuild_keeps_serving_the_old_index(
    fake: FakeTelegram, start_bot: StartBot, private: tuple[Settings, Engine], real_encoder,  # noqa: ANN001
    tmp_path: Path,
) -> None:
    settings, engine = private
    old_build = Path(engine.info().path)
    await start_bot(engine, reload_interval_seconds=0.5)
    assert ACCUSATION in (await ask(fake, SEED_QUESTION)).params["text"]

    # 1. the build itself fails: nothing to index
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(NothingToIndex):
        await asyncio.to_thread(build_index, settings, articles=empty, encoder=real_encoder)
    assert store.current_build(settings.index_dir) == old_build
    await asyncio.sleep(1.2)  # two reload periods
    assert Path(engine.info().path) == old_build
    assert ACCUSATION in (await ask(fake, SEED_QUESTION)).params["text"]

    # 2. a build that finished but cannot be loaded (a vector file damaged after the switch)
    broken = old_build.parent / "99999999T999999999999-broken"
    shutil.copytree(old_build, broken)
    with open(broken / store.VECTORS, "r+b") as handle:
        handle.truncate(os.path.getsize(broken / store.VECTORS) // 2)
    store.switch_current(settings.index_dir, broken)
    await asyncio.sleep(1.2)
    assert Path(engine.info().path) == old_build
    call = await ask(fake, SEED_QUESTION)
    assert ACCUSATION in call.params["text"] and f"<b>{SEED_TITLE}" in call.params["text"]
    assert all(c.ok for c in fake.calls_of("sendMessage", ok_only=False))


# --------------------------------------------------------------------------- groups


async def test_group_answers_mentions_only(fake: FakeTelegram, start_bot: StartBot, sample_engine: Engine) -> None:
    await start_bot(sample_engine)
    group = fake.group_chat()
    fake.send_text(SEED_QUESTION, chat=group, user_id=2002)  # chatter between people: ignored
    await settle(fake)
    assert sent_to(fake, group["id"]) == []

    mention = fake.send_text(f"@{BOT_USERNAME} {SEED_QUESTION}", chat=group, user_id=2002)
    [answer] = await fake.wait_for("sendMessage", 1, timeout=WAIT, where=lambda c: c.params["chat_id"] == group["id"])
    assert ACCUSATION in answer.params["text"] and f"<b>{SEED_TITLE}" in answer.params["text"]
    assert answer.params["reply_parameters"]["message_id"] == mention["message_id"]
    await settle(fake)
    assert len(sent_to(fake, group["id"])) == 1
