"""Helpers shared by the tests (no tests here).

- ``encoder``: ``FakeEncoder`` (a deterministic stand-in for the embedding model), ``REPO``, ``SAMPLE``;
- ``fake_engine``: ``FakeEngine``, a stand-in for ``index.Engine`` over a few canned articles;
- ``fake_telegram``: ``FakeTelegram``, a Bot API server on 127.0.0.1;
- ``bot``: a pytest plugin (loaded from ``tests/conftest.py``) that starts the real bot against
  ``FakeTelegram``, with the helpers the bot tests share (``ask``, ``settle``, ``sent_to``, …).
"""
