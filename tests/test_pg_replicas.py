"""Three bot processes on one PostgreSQL database, small: ``scripts/bench_replicas.py``'s run
(real ``python -m bot`` processes in webhook mode with the real model, the fake Bot API, this
test as their load balancer) over the seed article, a few users for a few seconds, a rebuild
from a fourth process, and a restart of the test's own server (a server it may stop)."""
from __future__ import annotations

import shutil
from pathlib import Path

import bench_replicas
import local_postgres
import pytest

from index.build import build_index
from index.pg_store import close_pools
from index.settings import Settings
from tests.support.encoder import SAMPLE
from tests.support.postgres import running_server

PLAN = bench_replicas.Plan(users=4, seconds=3.0, down_seconds=2.0, after_seconds=1.0, reload_interval=0.5,
                           database_wait_seconds=1.0, warmup=1, timeout=60.0, pickup_timeout=60.0)


@pytest.mark.slow
async def test_three_bot_processes_share_one_database(real_encoder, tmp_path: Path) -> None:
    articles = tmp_path / "articles"
    shutil.copytree(SAMPLE / "seed", articles / "seed")  # one article: the builds take a second
    with running_server() as folder:
        url = local_postgres.url(folder)
        settings = Settings(_env_file=None, index_dir=tmp_path / "index", articles_dir=articles, database_url=url)
        build_index(settings, encoder=real_encoder)
        close_pools()  # the restart below must not find this process's connections
        result = await bench_replicas.run_phases(PLAN, server_folder=folder, url=url, articles=articles,
                                                 index_dir=settings.index_dir, workdir=tmp_path / "run")

    check = result["check"]
    assert check["questions"] == check["replies"] > 0
    assert (check["lost"], check["duplicates"], check["out_of_order"], check["timeouts"], check["undelivered"]) \
        == (0, 0, 0, 0, 0)
    # Every question was either answered by one process (its feedback log) or got the error reply.
    assert check["questions_logged_by_bots"] + check["error_replies"] == check["questions"]
    assert all(p["updates_delivered"] > 0 and p["questions_logged"] > 0 for p in result["per_process"])
    assert check["bot_exit_codes"] == [0, 0, 0]

    rebuild = result["rebuild"]
    assert rebuild["build_exit_code"] == 0
    assert rebuild["answered_from_new_article_before"] == [False, False, False]
    assert all(p["seconds_after_build"] is not None and p["kind"] == "answer" for p in rebuild["processes"])

    restart = result["restart"]
    assert restart["same_url"]
    assert all(p["seconds_after_restart"] is not None and p["answered_from_seed"] for p in restart["processes"])
    assert restart["new_article_still_served"] == [True, True, True]
    assert result["ok"], result["failures"]
