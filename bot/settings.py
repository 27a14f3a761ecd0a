"""Settings of the Telegram front end, layered on the index library's one settings object.

Everything is read from the environment (prefix ``ARTICLE_QA_``) and ``.env`` here and only
here; the bot's modules receive a ``BotSettings`` instance. The token and the API URL use
the un-prefixed names Telegram operators expect (``TELEGRAM_BOT_TOKEN``, ``TELEGRAM_API_URL``).
"""
from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import NoDecode, SettingsConfigDict

from index.settings import Settings

IdSet = Annotated[frozenset[int], NoDecode]


def _parse_ids(value: Any) -> Any:
    """Accept ``"1, -100200"`` and JSON-ish ``"[1, 2]"`` from the environment, or any iterable."""
    if value is None:
        return frozenset()
    if isinstance(value, int):
        return frozenset({value})
    if isinstance(value, str):
        parts = value.replace("[", " ").replace("]", " ").replace(";", ",").replace(",", " ").split()
        return frozenset(int(part) for part in parts)
    return value


class BotSettings(Settings):
    """The index settings plus what the Telegram bot and the console need."""

    model_config = SettingsConfigDict(
        env_prefix="ARTICLE_QA_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
        populate_by_name=True,
    )

    # Telegram connection (un-prefixed env names, as BotFather / local Bot API docs use them)
    telegram_bot_token: SecretStr | None = Field(
        None,
        validation_alias=AliasChoices("TELEGRAM_BOT_TOKEN", "telegram_bot_token"),
        description="Bot token from @BotFather; without it `python -m bot` runs the console",
    )
    telegram_api_url: str = Field(
        "https://api.telegram.org",
        validation_alias=AliasChoices("TELEGRAM_API_URL", "telegram_api_url"),
        description="Bot API root; the bot calls {url}/bot{token}/{method}",
    )

    # Who may talk to the bot
    allowed_ids: IdSet = Field(
        frozenset(), description="User or chat ids allowed to use the bot (empty: everyone)"
    )
    admin_ids: IdSet = Field(frozenset(), description="User ids allowed to run /estado and /recargar")

    # Conversation limits
    rate_limit_per_minute: int = Field(
        20, ge=0, description="Messages per user per sliding minute (0: no limit)"
    )
    history_turns: int = Field(4, ge=0, description="Earlier turns passed to the engine")
    history_ttl_seconds: float = Field(1800, gt=0, description="A conversation is forgotten after this idle time")
    max_question_chars: int = Field(500, ge=20, description="Longer questions are truncated")
    answers_per_chat: int = Field(
        20, ge=1, description="Answers kept per chat for the inline buttons (older buttons expire)"
    )
    sources_page_size: int = Field(10, ge=1, le=30, description="Articles per /fuentes page")

    # Runtime
    max_concurrent_updates: int = Field(8, ge=1, description="Updates processed at the same time")
    reload_interval_seconds: float = Field(
        10, ge=0, description="How often to check for a newer index build (0: never)"
    )
    poll_timeout: int = Field(30, ge=0, description="Long-polling timeout of getUpdates, seconds")
    api_timeout_seconds: float = Field(
        10, gt=0,
        description="Connect/read/write timeout of each Bot API call (getUpdates gets poll_timeout on top)",
    )
    api_retries: int = Field(
        3, ge=0, le=10,
        description="Retries of a Bot API call after HTTP 500/502/503/504 or a refused connection",
    )
    api_retry_delay_seconds: float = Field(
        0.5, ge=0, le=30, description="Wait before the first such retry; doubles on each further one"
    )
    api_connect_delay_seconds: float = Field(
        1, gt=0, le=60,
        description="Wait after the first failed attempt to reach the Bot API at start-up; doubles on each further one",
    )
    api_connect_max_delay_seconds: float = Field(
        30, gt=0, le=3600, description="Longest wait between start-up attempts to reach the Bot API"
    )
    feedback_log: Path | None = Field(
        Path("var/feedback.jsonl"),
        description="JSONL file of questions and votes (empty: disabled); no user ids are stored",
    )

    # Webhook mode (used when webhook_url is set; needs python-telegram-bot[webhooks])
    webhook_url: str | None = Field(None, description="Public HTTPS URL Telegram posts updates to")
    webhook_listen: str = Field("127.0.0.1", description="Address the webhook server binds")
    webhook_port: int = Field(8443, ge=1, le=65535, description="Port the webhook server binds")
    webhook_secret: SecretStr | None = Field(
        None, description="Checked against the X-Telegram-Bot-Api-Secret-Token header"
    )

    @field_validator("allowed_ids", "admin_ids", mode="before")
    @classmethod
    def _ids(cls, value: Any) -> Any:
        return _parse_ids(value)

    @field_validator("feedback_log", "webhook_url", "telegram_bot_token", "webhook_secret", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        """An empty variable in .env means "not set" (and, for the feedback log, "off")."""
        if isinstance(value, str) and not value.strip():
            return None
        return value

    @field_validator("telegram_api_url")
    @classmethod
    def _strip_slash(cls, value: str) -> str:
        return value.strip().rstrip("/")

    def token(self) -> str | None:
        """The bare token, or None; callers must never log it."""
        return self.telegram_bot_token.get_secret_value() if self.telegram_bot_token else None

    def secrets(self) -> list[str]:
        """Every configured secret string, for the log redaction filter."""
        found = [self.token(), self.webhook_secret.get_secret_value() if self.webhook_secret else None]
        return [s for s in found if s]
