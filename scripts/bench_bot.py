#!/usr/bin/env python
"""Benchmark the Telegram bot end to end: the real bot and the real engine, a fake Bot API.

The bot runs in this process exactly as in production (``build_application`` + ``running``:
long polling, handlers, "typing…", HTML replies) against the test suite's fake Bot API server
on 127.0.0.1 (tests/support/fake_telegram.py), over the bundled sample index (built into
``var/bench/sample-index`` if missing). Rate limiting is off, the feedback log goes to a
temporary folder.

Reply latency = time from injecting the user's update into the fake server to the bot's
sendMessage for it arriving at the fake server (so it includes long polling, PTB's
dispatch, the engine, rendering and the HTTP round trip, as a user would see it minus the
real network).

Modes:
  latency (default)  one user asking N questions one after another, then U users (one
                     private chat each) asking M questions each at the same time
  load               U users keep asking (each waits for its reply, then asks again) for S
                     seconds; then checks every question got exactly one reply, in order
  soak               a few users ask continuously for S seconds after a warm-up; VmRSS is
                     sampled every 10 s to show whether memory stays flat

    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_bot.py latency --json var/bench/bot-latency.json
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_bot.py load --users 50 --seconds 60
    HF_HUB_OFFLINE=1 .venv/bin/python scripts/bench_bot.py soak --seconds 600
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from array import array
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from bot_harness import (  # noqa: E402
    SAMPLE_INDEX,
    check_replies,
    feedback_questions,
    latency_line,
    machine,
    machine_text,
    open_engine,
    question_pool,
    quiet_logs,
    rss_mib,
    running_bot,
    sample_settings,
    settle,
    summary_ms,
    until,
    users_until,
)

TARGET_P50_MS = 300  # one user, the README's goal
WARMUP_CHAT = 9_000_000  # chat ids well away from anything a test uses
FIRST_CHAT = 10_000_000


def _engine_ms(path: Path | None, start: int, stop: int | None = None) -> dict[str, Any]:
    """Engine-only latency (what the bot logs per question) for feedback lines [start:stop]."""
    if path is None or not Path(path).exists():
        return summary_ms([])
    values = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            record = json.loads(line)
            if record.get("event") == "question":
                values.append(record["latency_ms"] / 1000)
    return summary_ms(values[start:stop])


async def _warm_up(fake: Any, pool: list[str], n: int) -> None:
    """The first questions pay for lazy initialisation (torch kernels, page cache); not measured."""
    for i in range(n):
        await fake.ask(WARMUP_CHAT, pool[i % len(pool)], timeout=120)


# --------------------------------------------------------------------------- modes


async def run_latency(engine: Any, pool: list[str], args: argparse.Namespace) -> dict[str, Any]:
    async with running_bot(engine, **_bot_overrides(args)) as (fake, app, settings):
        await _warm_up(fake, pool, args.warmup)

        one: list[float] = []
        sent_one: dict[int, array] = {FIRST_CHAT: array("d")}
        for i in range(args.questions):
            sent, _, latency = await fake.ask(FIRST_CHAT, pool[i % len(pool)], timeout=args.timeout)
            sent_one[FIRST_CHAT].append(sent)
            one.append(latency)

        many: list[float] = []
        sent_many: dict[int, array] = {FIRST_CHAT + 1 + u: array("d") for u in range(args.users)}

        async def user(u: int) -> None:
            chat = FIRST_CHAT + 1 + u
            for j in range(args.per_user):
                question = pool[(u * args.per_user + j) % len(pool)]
                sent, _, latency = await fake.ask(chat, question, timeout=args.timeout)
                sent_many[chat].append(sent)
                many.append(latency)

        started = time.monotonic()
        await asyncio.gather(*(user(u) for u in range(args.users)))
        wall = time.monotonic() - started
        await settle(fake, {**sent_one, **sent_many}, 2.0)
        check = check_replies(fake, {**sent_one, **sent_many})
        log_path = settings.feedback_log
        seq_engine = _engine_ms(log_path, args.warmup, args.warmup + args.questions)
        conc_engine = _engine_ms(log_path, args.warmup + args.questions)
        return {
            "one_user": {"questions": args.questions, "latency_ms": summary_ms(one), "engine_ms": seq_engine,
                         "target_p50_ms": TARGET_P50_MS,
                         "meets_target": bool(one) and summary_ms(one)["p50"] <= TARGET_P50_MS},
            "concurrent": {"users": args.users, "per_user": args.per_user, "questions": len(many),
                           "seconds": round(wall, 2), "answers_per_s": round(len(many) / wall, 2),
                           "latency_ms": summary_ms(many), "engine_ms": conc_engine},
            "check": check,
            "reply_kinds": dict(fake.reply_kinds),
            "api_errors": dict(fake.failed),
            "rss_mib_end": rss_mib(),
        }


async def run_load(engine: Any, pool: list[str], args: argparse.Namespace) -> dict[str, Any]:
    async with running_bot(engine, **_bot_overrides(args)) as (fake, app, settings):
        await _warm_up(fake, pool, args.warmup)
        latencies: list[float] = []
        sent: dict[int, array] = {}
        counters = {"asked": 0, "timeouts": 0}
        started = time.monotonic()
        rss_before = rss_mib()
        await users_until(fake, pool, args.users, until(started + args.seconds), args.max_questions, args.timeout,
                          FIRST_CHAT, latencies, sent, counters)
        wall = time.monotonic() - started
        await settle(fake, sent, args.timeout)
        check = check_replies(fake, sent)
        logged = feedback_questions(settings.feedback_log) - args.warmup
        return {
            "users": args.users, "seconds_requested": args.seconds, "seconds": round(wall, 2),
            "answers_per_s": round(len(latencies) / wall, 2), "latency_ms": summary_ms(latencies),
            "engine_ms": _engine_ms(settings.feedback_log, args.warmup),
            "check": {**check, "timeouts": counters["timeouts"], "questions_logged_by_bot": logged,
                      "ok": check["lost"] == 0 and check["duplicates"] == 0 and check["out_of_order"] == 0
                      and counters["timeouts"] == 0 and logged == check["questions"]},
            "reply_kinds": dict(fake.reply_kinds),
            "api_errors": dict(fake.failed),
            "rss_mib": {"before": rss_before, "after": rss_mib()},
        }


async def run_soak(engine: Any, pool: list[str], args: argparse.Namespace) -> dict[str, Any]:
    # keep_calls small: the fake's own logs must not be what grows (and fill up during the warm-up)
    async with running_bot(engine, keep_calls=500, **_bot_overrides(args)) as (fake, app, settings):
        await _warm_up(fake, pool, args.warmup)
        latencies = array("d")  # 8 bytes an answer: the harness's own growth stays negligible
        sent: dict[int, array] = {}
        counters = {"asked": 0, "timeouts": 0}
        samples: list[dict[str, float]] = []
        started = time.monotonic()
        measure_from = started + args.warmup_seconds
        deadline = measure_from + args.seconds

        async def sampler() -> None:
            await asyncio.sleep(max(0.0, measure_from - time.monotonic()))
            while True:
                samples.append({"t_s": round(time.monotonic() - measure_from, 1), "rss_mib": rss_mib(),
                                "answers": len(latencies)})
                if time.monotonic() >= deadline - 0.5:
                    return
                await asyncio.sleep(min(args.sample_every, max(0.0, deadline - time.monotonic())))

        sampling = asyncio.create_task(sampler())
        await users_until(fake, pool, args.users, until(deadline), args.max_questions, args.timeout,
                          FIRST_CHAT, latencies, sent, counters)
        await sampling
        wall = time.monotonic() - started
        await settle(fake, sent, args.timeout)
        check = check_replies(fake, sent)
        rss = [s["rss_mib"] for s in samples]
        half = len(latencies) // 2
        return {
            "users": args.users, "warmup_seconds": args.warmup_seconds, "seconds": args.seconds,
            "answers": len(latencies), "answers_per_s": round(len(latencies) / wall, 2),
            "latency_ms": summary_ms(latencies),
            "latency_first_half_ms": summary_ms(latencies[:half]),
            "latency_second_half_ms": summary_ms(latencies[half:]),
            "rss_mib": {"start": rss[0] if rss else None, "end": rss[-1] if rss else None,
                        "max": max(rss) if rss else None, "min": min(rss) if rss else None,
                        "end_minus_start": round(rss[-1] - rss[0], 1) if rss else None,
                        "second_half_growth": round(rss[-1] - rss[len(rss) // 2], 1) if rss else None},
            "rss_samples": samples,
            "check": {**check, "timeouts": counters["timeouts"],
                      "ok": check["lost"] == 0 and check["duplicates"] == 0 and counters["timeouts"] == 0},
            "reply_kinds": dict(fake.reply_kinds),
            "api_errors": dict(fake.failed),
        }


MODES = {"latency": run_latency, "load": run_load, "soak": run_soak}


def _bot_overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {"max_concurrent_updates": args.max_concurrent_updates} if args.max_concurrent_updates else {}


# --------------------------------------------------------------------------- output


def report_text(result: dict[str, Any]) -> str:
    lines = [machine_text(result["machine"])]
    idx = result["index"]
    lines.append(f"Index: {idx['articles']} articles, {idx['chunks']} chunks, model {idx['model']} ({idx['index']})"
                 + (f"; built now in {idx['build_seconds']} s" if idx.get("built_now") else ""))
    lines.append(f"Bot: max_concurrent_updates {result['bot']['max_concurrent_updates']}, rate limit off, "
                 f"fake Bot API on 127.0.0.1, warm-up {result['warmup_questions']} question(s) not measured")
    mode = result["mode"]
    if mode == "latency":
        one, conc = result["one_user"], result["concurrent"]
        lines.append(latency_line(f"One user, {one['questions']} questions in a row", one["latency_ms"])
                     + f"   (engine alone p50 {one['engine_ms']['p50']} ms)")
        lines.append(f"  target p50 <= {one['target_p50_ms']} ms: {'met' if one['meets_target'] else 'NOT met'}")
        lines.append(latency_line(f"{conc['users']} users x {conc['per_user']} at once", conc["latency_ms"])
                     + f"   (engine alone p50 {conc['engine_ms']['p50']} ms)")
        lines.append(f"  {conc['questions']} answers in {conc['seconds']} s = {conc['answers_per_s']} answers/s")
        lines.append(_check_line(result["check"]))
    elif mode == "load":
        lines.append(f"Load: {result['users']} users asking continuously for {result['seconds']} s "
                     f"(requested {result['seconds_requested']} s)")
        lines.append(f"  {result['latency_ms']['n']} answers = {result['answers_per_s']} answers/s")
        lines.append("  " + latency_line("reply latency", result["latency_ms"])
                     + f"   (engine alone p50 {result['engine_ms']['p50']} ms)")
        lines.append("  " + _check_line(result["check"]))
        lines.append(f"  questions logged by the bot: {result['check']['questions_logged_by_bot']}; "
                     f"timeouts: {result['check']['timeouts']}; all ok: {result['check']['ok']}")
        lines.append(f"  RSS {result['rss_mib']['before']} MiB before, {result['rss_mib']['after']} MiB after")
    else:
        r = result["rss_mib"]
        lines.append(f"Soak: {result['users']} users asking continuously for {result['seconds']} s "
                     f"(after {result['warmup_seconds']} s warm-up)")
        lines.append(f"  {result['answers']} answers = {result['answers_per_s']} answers/s")
        lines.append("  " + latency_line("reply latency", result["latency_ms"]))
        lines.append("  " + latency_line("first half", result["latency_first_half_ms"]) + "; "
                     + latency_line("second half", result["latency_second_half_ms"]))
        lines.append(f"  RSS (VmRSS) start {r['start']} MiB, end {r['end']} MiB, max {r['max']} MiB, "
                     f"end - start {r['end_minus_start']:+.1f} MiB, over the second half "
                     f"{r['second_half_growth']:+.1f} MiB ({len(result['rss_samples'])} samples)")
        lines.append("  samples: " + ", ".join(f"{s['t_s']:.0f}s:{s['rss_mib']}" for s in result["rss_samples"]))
        lines.append("  " + _check_line(result["check"]) + f"; timeouts {result['check']['timeouts']}")
    kinds = result.get("reply_kinds", {})
    lines.append(f"Replies: {kinds.get('answer', 0)} answers, {kinds.get('refusal', 0)} 'no lo encuentro', "
                 f"{kinds.get('sorry', 0)} errors, {kinds.get('other', 0)} other; "
                 f"rejected API calls: {result.get('api_errors') or 'none'}")
    return "\n".join(lines)


def _check_line(check: dict[str, Any]) -> str:
    return (f"Check: {check['questions']} questions, {check['replies']} replies, lost {check['lost']}, "
            f"duplicates {check['duplicates']}, out of order {check['out_of_order']}")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="latency", choices=sorted(MODES))
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument("--index", type=Path, default=SAMPLE_INDEX, help="index directory (built if missing)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the sample index first (incremental)")
    parser.add_argument("--questions", type=int, default=100, help="latency: questions of the single user")
    parser.add_argument("--users", type=int, help="simulated users (latency 20, load 50, soak 4)")
    parser.add_argument("--per-user", type=int, default=10, help="latency: questions per concurrent user")
    parser.add_argument("--seconds", type=float, help="load/soak duration (load 60, soak 600)")
    parser.add_argument("--warmup", type=int, default=3, help="unmeasured questions first")
    parser.add_argument("--warmup-seconds", type=float, default=30.0,
                        help="soak: seconds of asking before the 'start' RSS sample (bounded caches fill up)")
    parser.add_argument("--sample-every", type=float, default=10.0, help="soak: RSS sampling period, seconds")
    parser.add_argument("--max-questions", type=int, default=1_000_000, help="load/soak: stop after this many")
    parser.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for one reply")
    parser.add_argument("--max-concurrent-updates", type=int, help="bot setting (default: BotSettings')")
    args = parser.parse_args(argv)
    defaults = {"latency": (20, None), "load": (50, 60.0), "soak": (4, 600.0)}[args.mode]
    args.users = args.users if args.users is not None else defaults[0]
    args.seconds = args.seconds if args.seconds is not None else defaults[1]
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_logs()
    info = machine()
    engine, index_info = open_engine(sample_settings(args.index), rebuild=args.rebuild)
    pool = question_pool(engine)
    from bot.settings import BotSettings

    concurrency = args.max_concurrent_updates or BotSettings.model_fields["max_concurrent_updates"].default
    started = time.monotonic()
    numbers = asyncio.run(MODES[args.mode](engine, pool, args))
    result = {"mode": args.mode, "machine": info, "index": index_info,
              "bot": {"max_concurrent_updates": concurrency, "rate_limit_per_minute": 0},
              "warmup_questions": args.warmup, "question_pool": len(pool),
              "total_seconds": round(time.monotonic() - started, 1), **numbers}
    print(report_text(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"numbers written to {args.json}")
    check = result.get("check", {})
    return 0 if not check.get("lost") and not check.get("duplicates") and check.get("ok", True) else 1


if __name__ == "__main__":
    sys.exit(main())
