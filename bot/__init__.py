"""Telegram front end (and terminal console) for the article question-answering index.

``python -m bot`` runs it; ``bot.app.build_application`` and ``bot.console.run_console``
are the entry points for code. The conversation logic shared by both lives in
``bot.conversation`` (questions and buttons) and ``bot.commands`` (slash commands); the words
in ``bot.wording``, the button protocol in ``bot.buttons``, the markup in ``bot.render``.
"""
