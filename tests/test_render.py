"""Rendering: escaping of untrusted article text, 4096-unit splitting, buttons as plain data."""
from __future__ import annotations

import random

import pytest

from bot import buttons, cleaning, render
from bot.conversation import Conversation, Sender
from bot.settings import BotSettings
from index.records import Answer, Hit, Passage
from tests.support.fake_engine import NASTY_TITLE, FakeEngine
from tests.support.fake_telegram import TelegramError, parse_html


def hit(title: str = NASTY_TITLE, text: str = "Uno <dos> & tres.", **kw) -> Hit:
    base = dict(article_id="a", chunk_id="a#0", title=title, text=text, score=1.0,
                url="https://example.com/x?a=1&b=2", source="Medio & <Co>", date="2024-03-05")
    base.update(kw)
    return Hit(**base)


def test_answer_escapes_every_piece_of_article_text() -> None:
    h = hit()
    answer = Answer("q", True, "La <b>inflación</b> & los 📈", (Passage(h, ((0, 4),)),))
    text = render.answer_text(answer, (0,), render.HTML)
    visible = parse_html(text)  # the fake Telegram parser accepts it
    assert NASTY_TITLE in visible
    assert "La <b>inflación</b> & los 📈" in visible
    assert "Medio & <Co>" in visible
    assert "5 de marzo de 2024" in visible
    assert 'href="https://example.com/x?a=1&amp;b=2"' in text
    assert "&#x27;" not in text and "&#39;" not in text


@pytest.mark.parametrize("outcome", ["answered", "not_in_article"])
def test_an_answer_from_other_dates_says_so_first(outcome: str) -> None:
    """"¿Qué pasó ayer…?" answered from another day: the note leads, in italics, escaped."""
    answered = outcome == "answered"
    answer = Answer("q", answered, "La lava llega al mar." if answered else "", (Passage(hit()),),
                    outcome=outcome, closest="" if answered else "La lava llega al mar.", outside_dates="<ayer>")
    text = render.answer_text(answer, (0,), render.HTML)
    visible = parse_html(text)
    assert visible.startswith("No encuentro nada sobre esto con esa fecha («<ayer>»)")
    assert text.startswith("<i>No encuentro") and "&lt;ayer&gt;" in text
    plain = render.answer_text(answer, (0,), render.TEXT)
    assert plain.startswith("No encuentro nada sobre esto con esa fecha («<ayer>»)")
    assert "No encuentro" not in render.answer_text(Answer("q", True, "x", (Passage(hit()),)), (0,), render.HTML)


def test_an_answer_and_a_closest_sentence_show_what_their_relative_dates_stand_for() -> None:
    """"este lunes" of an article of Tuesday 5 March 2024 is 4 March; the article's words stay."""
    answered = Answer("q", True, "Lo anunció este lunes.", (Passage(hit()),))
    assert "Lo anunció este lunes [4 de marzo de 2024]." in parse_html(render.answer_text(answered, (0,), render.HTML))
    missing = Answer("q", False, "", (Passage(hit()),), outcome="not_in_article", closest="Habló ayer.")
    assert "«Habló ayer [4 de marzo de 2024].»" in render.answer_text(missing, (0,), render.TEXT)


def test_highlight_marks_answer_spans_with_escaped_pieces() -> None:
    passage = Passage(hit(text="Antes <x>. La respuesta & más. Después."), ((11, 30),))
    text = render.passage_text(passage, render.HTML)
    assert "<b>La respuesta &amp; más.</b>" in text
    assert "Antes &lt;x&gt;." in text
    parse_html(text)
    plain = render.passage_text(passage, render.TEXT)
    assert "**La respuesta & más.**" in plain


def test_unsafe_urls_are_not_linked() -> None:
    for url in ['javascript:alert(1)', 'https://e.com/"><b>x', "ftp://e.com/a"]:
        line = render.source_line(hit(url=url), render.HTML)
        assert "href" not in line
        parse_html(line)


def test_highlight_tolerates_bad_spans() -> None:
    passage = Passage(hit(text="abcdef"), ((-5, 2), (1, 3), (4, 100), (9, 7)))
    text = render.highlighted(passage, render.HTML)
    assert render.html_to_plain(text) == "abcdef"
    parse_html(text)


def test_refusal_lists_closest_titles_escaped() -> None:
    answer = Answer("q", False, "", closest_titles=(NASTY_TITLE, "Otro"))
    text = render.answer_text(answer, (), render.HTML)
    assert text.startswith("No lo encuentro en los artículos.")
    assert NASTY_TITLE in parse_html(text)


def test_a_question_without_subject_is_asked_for_one_not_given_titles() -> None:
    answer = Answer("¿Por qué?", False, "", needs_subject=True)
    for fmt in (render.HTML, render.TEXT):
        text = render.answer_text(answer, (), fmt)
        assert text.startswith("¿Sobre qué?") and "«¿Qué acusa EE. UU.?»" in text
        assert "No lo encuentro" not in text
    parse_html(render.answer_text(answer, (), render.HTML))


@pytest.mark.parametrize("as_html", [True, False])
def test_split_respects_limit_and_boundaries(as_html: bool) -> None:
    sentence = "Esta es una frase con <b>negrita</b> &amp; un emoji 📈 al final. "
    if not as_html:
        sentence = render.html_to_plain(sentence)
    text = "\n\n".join(sentence * 12 for _ in range(20))
    parts = render.split_message(text, as_html=as_html, max_parts=50)
    assert len(parts) > 1
    for part in parts:
        assert render.utf16_len(part) <= render.TELEGRAM_LIMIT
        if as_html:
            parse_html(part)
    joined = " ".join(render.html_to_plain(p) if as_html else p for p in parts)
    assert joined.split() == render.html_to_plain(text).split()


def test_split_never_cuts_inside_tags_or_entities() -> None:
    rng = random.Random(7)
    link = '<a href="https://x.org/?a=1&amp;b=2">enlace</a>'
    pieces = ["<b>", "</b>", "&amp;", "&lt;", "palabra", " ", ". ", "\n", "😀", link]
    for _ in range(30):
        text, depth = [], 0
        for _ in range(3000):
            p = rng.choice(pieces)
            if p == "<b>":
                if depth:
                    continue
                depth = 1
            elif p == "</b>":
                if not depth:
                    continue
                depth = 0
            text.append(p)
        if depth:
            text.append("</b>")
        source = "".join(text)
        limit = rng.choice([50, 200, 4096])
        parts = render.split_message(source, limit, max_parts=10_000)
        for part in parts:
            assert render.utf16_len(part) <= limit
            parse_html(part)
        assert "".join(render.html_to_plain(p) for p in parts).replace(" ", "").replace("\n", "") == \
            render.html_to_plain(source).replace(" ", "").replace("\n", "")


def test_split_prefers_sentence_boundaries() -> None:
    text = ("Primera frase bastante larga para llenar. " * 60).strip()
    parts = render.split_message(text, 500)
    assert all(p.endswith(".") for p in parts[:-1])


def test_split_max_parts_trims_with_ellipsis() -> None:
    text = "Frase corta. " * 2000
    parts = render.split_message(text, 1000, max_parts=2)
    assert len(parts) == 2
    assert parts[-1].endswith("…")
    assert all(render.utf16_len(p) <= 1000 for p in parts)


def test_emoji_counts_two_utf16_units() -> None:
    text = "😀" * 3000  # 6000 UTF-16 units
    parts = render.split_message(text, as_html=False)
    assert len(parts) == 2
    assert all(render.utf16_len(p) <= 4096 for p in parts)


def test_fake_parser_rejects_what_telegram_rejects() -> None:
    for bad in ["<b>x", "x</b>", "<script>x</script>", "a & b", "1 < 2", "&#x27;", "<b><i>x</b></i>", "<a>x</a>"]:
        with pytest.raises(TelegramError):
            parse_html(bad)
    assert parse_html('<b>a</b> &lt;&amp;&gt;&quot; <a href="https://e.com/?a&amp;b">l</a>') == 'a <&>" l'


def test_clean_question_strips_invisible_and_control_characters() -> None:
    raw = "\u200b\u202e¿Quién\x00 ganó\u200d\tla\u2066 Liga?\x07\ufeff" + "x" * 10
    assert cleaning.clean_question(raw, 500) == "¿Quién ganó la Liga?" + "x" * 10
    assert cleaning.clean_question("palabra " * 200, 500).endswith("palabra")
    assert len(cleaning.clean_question("a" * 5000, 500)) == 500
    assert not cleaning.has_words(cleaning.clean_question("😀", 500))
    assert not cleaning.has_words(cleaning.clean_question("\u200b \u200f", 500))


def test_clean_text_drops_lone_surrogates() -> None:
    assert cleaning.clean_text("a\ud800b") == "a?b"


def test_callback_data_fits_telegram_limit() -> None:
    keyboard = buttons.answer_keyboard("zzzzzz", 3, True)
    for row in keyboard:
        for button in row:
            assert len(button.data.encode()) <= buttons.CALLBACK_LIMIT
    labels = [b.text for row in keyboard for b in row]
    assert labels == ["Ver pasaje 1", "Ver pasaje 2", "Ver pasaje 3", "Más pasajes", "👍", "👎"]
    with pytest.raises(ValueError):
        buttons.callback("p", "x" * 70)
    assert buttons.parse_callback("m:ab:3") == ("m", ["ab", "3"])


def test_sources_keyboard_pages() -> None:
    assert buttons.sources_keyboard(1, 1) == ()
    assert [b.text for b in buttons.sources_keyboard(1, 3)[0]] == ["▶"]
    assert [b.text for b in buttons.sources_keyboard(2, 3)[0]] == ["◀", "▶"]
    assert [b.data for b in buttons.sources_keyboard(3, 3)[0]] == ["f:2"]


def test_format_date() -> None:
    assert render.format_date("2024-12-01T10:00:00Z") == "1 de diciembre de 2024"
    assert render.format_date("ayer") == "ayer"
    assert render.format_date(None) == ""
    # Known to the month only, or to the year only: as much as is known.
    assert render.format_date("2024-03") == "marzo de 2024"
    assert render.format_date("2024") == "2024"


async def test_huge_answer_is_split_with_buttons_on_last_part() -> None:
    long_text = "Una frase larga con <cosas> & más cosas. " * 400
    engine = FakeEngine()
    engine.ask = lambda q, h=(), k=None: Answer(  # type: ignore[method-assign]
        q, True, long_text, (Passage(hit(text=long_text), ((0, 100),)),))
    settings = BotSettings(feedback_log=None, _env_file=None)  # type: ignore[call-arg]
    replies = await Conversation(engine, settings).question(Sender(1, 1), "pregunta larga")
    assert len(replies) > 1
    assert all(not r.buttons for r in replies[:-1]) and replies[-1].buttons
    for reply in replies:
        assert render.utf16_len(reply.text) <= 4096
        parse_html(reply.text)


def test_a_story_read_to_its_end_says_it_says_nothing_more() -> None:
    """"¿Qué más dice?" past the story's last sentence: no reworded question, no empty closest line."""
    answer = Answer("¿Y qué más?", False, "", (Passage(hit()),), outcome="not_in_article")
    visible = parse_html(render.answer_text(answer, (0,), render.HTML))
    assert visible.startswith(f"El artículo «{NASTY_TITLE}» no dice nada más.")
    assert "Lo más cercano" not in visible and "Medio & <Co>" in visible
