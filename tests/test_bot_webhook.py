"""Webhook mode: Telegram posts updates to the bot's own HTTP server (here on 127.0.0.1)."""
from __future__ import annotations

import asyncio
import json
import socket
import urllib.error
import urllib.request
from pathlib import Path


from bot.app import build_application
from bot.handlers import ALLOWED_UPDATES
from bot.settings import BotSettings
from tests.support.fake_engine import FakeEngine
from tests.support.fake_telegram import TOKEN, FakeTelegram

SECRET = "s3cret-token_for-webhook"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post(url: str, payload: dict, secret: str | None) -> int:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    request = urllib.request.Request(url, json.dumps(payload).encode(), headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


async def test_webhook_answers_posted_updates_and_checks_the_secret(tmp_path: Path) -> None:
    port = free_port()
    with FakeTelegram() as fake:
        settings = BotSettings(_env_file=None, telegram_bot_token=TOKEN, telegram_api_url=fake.url,
                               feedback_log=tmp_path / "f.jsonl", reload_interval_seconds=0,
                               index_dir=tmp_path / "index", webhook_url="https://bot.example/hook",
                               webhook_listen="127.0.0.1", webhook_port=port, webhook_secret=SECRET)
        app = build_application(settings, FakeEngine())
        async with app:
            await app.start()
            await app.updater.start_webhook(
                listen=settings.webhook_listen, port=port, url_path="hook", webhook_url=settings.webhook_url,
                secret_token=SECRET, allowed_updates=ALLOWED_UPDATES)
            try:
                assert fake.calls_of("setWebhook")[-1].params["url"] == "https://bot.example/hook"
                message = fake.send_text("¿Qué limita la ley de vivienda?")  # queued for polling: post it instead
                url = f"http://127.0.0.1:{port}/hook"
                forged = {"update_id": 990001, "message": message}
                assert await asyncio.to_thread(post, url, forged, "wrong") == 403
                assert await asyncio.to_thread(post, url, {"update_id": 990002, "message": message}, SECRET) == 200
                call = await fake.wait_for_message(1001, "")
                assert call.params["parse_mode"] == "HTML"
                await asyncio.sleep(0.3)
                assert len(fake.calls_of("sendMessage")) == 1  # the forged update was not answered
            finally:
                await app.updater.stop()
                await app.stop()
