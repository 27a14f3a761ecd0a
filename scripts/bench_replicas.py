#!/usr/bin/env python
"""Several bot processes sharing one PostgreSQL database: load, a rebuild from another process,
a server restart.

A local PostgreSQL (``scripts/local_postgres.py``'s code) runs in ``WORK/pg``; the bundled sample
(``data/articles``) is copied to ``WORK/articles`` and built into the database with the default
model (``python -m index build``). Each run starts from an empty folder (what a previous run
left in WORK is removed first). Three real bot processes (``python -m bot``, webhook mode,
each on its own 127.0.0.1 port, the configured model, rate limit off, their own feedback log)
serve that database and talk to the fake Bot API (tests/support/fake_telegram.py) running in this
process; this process is also their load balancer: it posts each update to one process's
webhook, chosen by chat id, so a chat's follow-ups stay with one process (docs/postgres.md).

U simulated users (one private chat each) keep asking, each waiting for its reply, through
three phases:

  load     S seconds: reply latency p50/p95/max, answers/s, questions per process;
  rebuild  a fourth process (``scripts/rebuild_index.py``, the model) indexes one new article
           written here; then a question about it is asked of each process (a new chat routed
           to it, again and again) until each answers from the new article: seconds from the
           end of the build;
  restart  the server is stopped (fast shutdown) and started again on the same folder and port
           after D seconds; each process is asked the seed question until it answers again:
           seconds from the server being back, no bot restarted. Questions during the outage
           get the bot's error reply (a reply, counted), not silence.

"After the build" counts from the rebuild process's exit; the build switches the served build
a moment before it exits, so a process that reloads in between answers from it at once.

Then every question (users, probes, warm-up) must have exactly one reply, in order, and the
bots' feedback logs plus the error replies must account for every question. Exit code 1 when
a check fails; every bot process and the server are stopped at the end (also on Ctrl-C).

    python scripts/bench_replicas.py --json var/results/replicas.json
    python scripts/bench_replicas.py --users 10 --seconds 20   # a shorter run
"""
from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import subprocess
import sys
import time
from array import array
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import local_postgres  # noqa: E402
from bot_harness import (  # noqa: E402
    KIND_OF,
    ROOT,
    SAMPLE_ARTICLES,
    RecordingTelegram,
    WebhookBalancer,
    check_replies,
    feedback_questions,
    latency_line,
    machine,
    machine_text,
    questions_about,
    quiet_logs,
    settle,
    start_bot_processes,
    stop_bot_processes,
    summary_ms,
    users_until,
    wait_listening,
)

# The article the rebuild adds: made up, on a topic the sample does not touch.
NEW_ARTICLE = Path("bench-replicas") / "almagro-lonja-azafran.txt"
NEW_TITLE = "Almagro estrena la primera lonja digital de azafrán de La Mancha"
NEW_TEXT = (
    "La cooperativa Virgen de las Nieves de Almagro (Ciudad Real) celebró este sábado la primera subasta "
    "de su lonja digital de azafrán, en la que compradores de cinco países pujaron desde sus teléfonos "
    "por la cosecha de 42 productores de la comarca.\n\n"
    "El lote de mejor calidad, de la categoría I con denominación de origen, se vendió a 4.300 euros el "
    "kilo, unos 600 euros por encima del precio medio de la campaña anterior. En total se adjudicaron "
    "118 kilos de hebra seca en algo menos de dos horas.\n\n"
    "La presidenta de la cooperativa, Remedios Calatrava, explicó que la lonja pretende frenar la venta "
    "de azafrán iraní etiquetado como manchego: cada lote lleva un código que permite seguirlo desde la "
    "rosa recogida en el campo hasta el envase.\n\n"
    "La Junta de Comunidades ha financiado la plataforma con 180.000 euros de fondos europeos y prevé "
    "extenderla a las lonjas de ajo morado de Las Pedroñeras y de pistacho de Tomelloso el próximo año."
)
NEW_QUESTION = "¿A cuánto se vendió el kilo de azafrán en la subasta de Almagro?"
NEW_MARKER = "Almagro"  # only the new article names it: in the answer and its source line
SEED_QUESTION = "¿Qué acusa EE. UU.?"
SEED_MARKER = "misiles"  # in the seed article's answer sentence

WARMUP_BASE = 8_000_000  # chat ids: warm-up, probes, users (each routed by chat id)
PROBE_BASE = 8_100_000
FIRST_USER_CHAT = 10_000_000


@dataclass(frozen=True)
class Plan:
    """What one run does; the defaults are the benchmark's, the test runs a smaller one."""

    processes: int = 3
    users: int = 30
    seconds: float = 60.0  # the load phase
    down_seconds: float = 5.0  # the server stays stopped this long
    after_seconds: float = 10.0  # users keep asking after the last process recovered
    reload_interval: float = 2.0  # ARTICLE_QA_RELOAD_INTERVAL_SECONDS of each bot
    database_wait_seconds: float = 2.0  # ARTICLE_QA_DATABASE_WAIT_SECONDS of each bot
    warmup: int = 2  # unmeasured questions per process first
    timeout: float = 60.0  # seconds to wait for one reply
    pickup_timeout: float = 120.0  # for a process to answer from the new build / again after the restart


class Run:
    """The state the phases share: the fake Bot API, the balancer, every question's send time."""

    def __init__(self, fake: RecordingTelegram, balancer: WebhookBalancer, timeout: float) -> None:
        self.fake, self.balancer, self.timeout = fake, balancer, timeout
        self.sent: dict[int, array] = {}  # chat id -> when each question was sent
        self.counters = {"asked": 0, "timeouts": 0, "undelivered": 0}
        self._probes = [0] * len(balancer.bots)

    def probe_chat(self, number: int) -> int:
        """A new private chat routed to process ``number`` (no conversation to lean on)."""
        k, self._probes[number] = self._probes[number], self._probes[number] + 1
        return self.balancer.chat_for(number, k, PROBE_BASE)

    async def ask(self, chat: int, question: str) -> tuple[float, str, str]:
        """Ask in ``chat`` and wait for the reply: (when it arrived, its kind, its text)."""
        times = self.sent.setdefault(chat, array("d"))
        times.append(time.monotonic())
        sent, replied, _ = await self.fake.ask(chat, question, timeout=self.timeout, deliver=self.balancer.deliver)
        times[-1] = sent
        return replied, self.fake.reply_kind(chat, len(times)), self.fake.last_text.get(chat, "")


# --------------------------------------------------------------------------- phases


async def warm_up(run: Run, pool: list[str], per_process: int) -> None:
    """The first questions of a process pay for lazy initialisation; not measured."""

    async def one(number: int) -> None:
        chat = run.balancer.chat_for(number, 0, WARMUP_BASE)
        for i in range(per_process):
            await run.ask(chat, pool[i % len(pool)])

    await asyncio.gather(*(one(n) for n in range(len(run.balancer.bots))))


async def rebuild_phase(run: Run, plan: Plan, articles: Path, index_dir: Path, env: dict[str, str],
                        log_dir: Path) -> dict[str, Any]:
    """A fourth process adds the new article; each bot process is asked about it until it answers
    from it. Before the rebuild the same question must not be answered from it."""
    processes = range(len(run.balancer.bots))
    before = [await run.ask(run.probe_chat(n), NEW_QUESTION) for n in processes]
    path = articles / NEW_ARTICLE
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{NEW_TITLE}\n\n{NEW_TEXT}\n", encoding="utf-8")
    started = time.monotonic()
    with open(log_dir / "rebuild.log", "wb") as log_file:
        proc = await asyncio.create_subprocess_exec(
            sys.executable, str(ROOT / "scripts" / "rebuild_index.py"), "--articles", str(articles),
            "--index", str(index_dir), cwd=ROOT, env={**os.environ, "HF_HUB_OFFLINE": "1", **env},
            stdin=subprocess.DEVNULL, stdout=log_file, stderr=subprocess.STDOUT)
        code = await proc.wait()
    built = time.monotonic()

    async def picked_up(number: int) -> dict[str, Any]:
        asked = 0
        while time.monotonic() - built < plan.pickup_timeout:
            replied, kind, text = await run.ask(run.probe_chat(number), NEW_QUESTION)
            asked += 1
            if NEW_MARKER in text:
                return {"seconds_after_build": round(replied - built, 2), "questions": asked, "kind": kind}
            await asyncio.sleep(0.2)
        return {"seconds_after_build": None, "questions": asked, "kind": None}

    after = await asyncio.gather(*(picked_up(n) for n in processes))
    return {"build_exit_code": code, "build_seconds": round(built - started, 1),
            "answered_from_new_article_before": [NEW_MARKER in text for _, _, text in before],
            "processes": list(after)}


async def restart_phase(run: Run, plan: Plan, server_folder: Path, url: str) -> dict[str, Any]:
    """Stop the server, start it again on the same folder and port after ``down_seconds``; each
    bot process is asked the seed question (a new chat each time) from the moment it is down
    until it answers again; then the new article's question once more (the served build is
    the rebuilt one, after the restart too)."""
    processes = range(len(run.balancer.bots))
    stopping = time.monotonic()
    await asyncio.to_thread(local_postgres.stop, server_folder)
    down = time.monotonic()

    async def recovered(number: int) -> dict[str, Any]:
        errors = asked = 0
        while time.monotonic() - down < plan.down_seconds + plan.pickup_timeout:
            replied, kind, text = await run.ask(run.probe_chat(number), SEED_QUESTION)
            asked += 1
            if kind != "sorry":
                return {"replied_at": replied, "questions": asked, "error_replies": errors,
                        "answered_from_seed": SEED_MARKER in text}
            errors += 1
            await asyncio.sleep(0.2)
        return {"replied_at": None, "questions": asked, "error_replies": errors, "answered_from_seed": False}

    probes = [asyncio.create_task(recovered(n)) for n in processes]
    await asyncio.sleep(plan.down_seconds)
    same_url = await asyncio.to_thread(local_postgres.start, server_folder) == url
    up = time.monotonic()
    results = await asyncio.gather(*probes)
    still_new = [NEW_MARKER in (await run.ask(run.probe_chat(n), NEW_QUESTION))[2] for n in processes]
    ends = [r.pop("replied_at") for r in results]
    for r, end in zip(results, ends):
        r["seconds_after_restart"] = None if end is None else round(end - up, 2)
    return {"down_seconds": round(up - stopping, 1), "stop_seconds": round(down - stopping, 2),
            "same_url": same_url, "processes": results, "new_article_still_served": still_new,
            "window": (stopping, max((e for e in ends if e is not None), default=time.monotonic()))}


# --------------------------------------------------------------------------- the run


def bot_env(plan: Plan, url: str, index_dir: Path) -> dict[str, str]:
    """The index settings every process gets (bots and the rebuild)."""
    return {"ARTICLE_QA_DATABASE_URL": url, "ARTICLE_QA_DATABASE_READ_URL": "",
            "ARTICLE_QA_INDEX_DIR": str(index_dir),  # with the database, only the embedding cache lives there
            "ARTICLE_QA_RELOAD_INTERVAL_SECONDS": str(plan.reload_interval),
            "ARTICLE_QA_DATABASE_WAIT_SECONDS": str(plan.database_wait_seconds)}


async def run_phases(plan: Plan, *, server_folder: Path, url: str, articles: Path, index_dir: Path,
                     workdir: Path) -> dict[str, Any]:
    """Start the bots against the built database, run the three phases, stop the bots; the
    numbers and checks as one dict (``ok`` says whether every check passed)."""
    from index.ingest import load_articles

    pool = questions_about([a.title for a in load_articles(articles).articles])
    env = bot_env(plan, url, index_dir)
    log_dir = workdir / "logs"
    fake = RecordingTelegram(keep_calls=5000)
    fake.attach(asyncio.get_running_loop())
    fake.start()
    bots = start_bot_processes(plan.processes, fake.url, log_dir, env)
    balancer = WebhookBalancer(bots)
    users: asyncio.Task | None = None
    exit_codes: list[int | None] = []
    try:
        started = time.monotonic()
        await wait_listening(bots)
        run = Run(fake, balancer, plan.timeout)
        await warm_up(run, pool, plan.warmup)
        ready = time.monotonic()
        stop = asyncio.Event()
        latencies: list[float] = []
        users = asyncio.create_task(users_until(
            fake, pool, plan.users, lambda: not stop.is_set(), 10**9, plan.timeout, FIRST_USER_CHAT, latencies,
            run.sent, run.counters, deliver=balancer.deliver))
        load = (time.monotonic(), 0.0)
        await asyncio.sleep(plan.seconds)
        load = (load[0], time.monotonic())
        rebuild = await rebuild_phase(run, plan, articles, index_dir, env, log_dir)
        rebuild_window = (load[1], time.monotonic())
        restart = await restart_phase(run, plan, server_folder, url)
        await asyncio.sleep(plan.after_seconds)
        stop.set()
        await users
        finished = time.monotonic()
        await settle(fake, run.sent, plan.timeout)
        exit_codes = await asyncio.to_thread(stop_bot_processes, bots)
        result = summarise(run, plan, bots, exit_codes, load, rebuild_window, rebuild, restart)
        result["seconds"] = {"start_bots": round(ready - started, 1), "total": round(finished - started, 1)}
        return result
    finally:
        if users is not None and not users.done():
            users.cancel()
            with contextlib.suppress(BaseException):
                await users
        if not exit_codes:
            await asyncio.to_thread(stop_bot_processes, bots)
        await balancer.aclose()
        fake.stop()


def summarise(run: Run, plan: Plan, bots: list, exit_codes: list[int | None], load: tuple[float, float],
              rebuild_window: tuple[float, float], rebuild: dict[str, Any], restart: dict[str, Any]) -> dict[str, Any]:
    """Latencies per phase and process from the send and reply times; the checks."""
    fake, balancer = run.fake, run.balancer
    replies = []  # (process, is a user's, sent, replied, kind)
    for chat, times in run.sent.items():
        with fake._cond:
            got = list(fake.reply_times.get(chat, ()))
            codes = bytes(fake.reply_codes.get(chat, b""))
        for i, sent in enumerate(times):
            if i < len(got):
                replies.append((balancer.route(chat), chat >= FIRST_USER_CHAT, sent, got[i], KIND_OF[codes[i]]))
    outage = restart.pop("window")
    sorry = [r for r in replies if r[4] == "sorry"]
    restart["error_replies"] = {
        "users_in_flight_at_the_stop": sum(1 for r in sorry if r[1] and r[2] < outage[0]),
        "users_asking_during_the_outage": sum(1 for r in sorry if r[1] and r[2] >= outage[0]),
        "probes": sum(1 for r in sorry if not r[1])}

    def window(start: float, end: float, process: int | None = None) -> dict[str, Any]:
        inside = [r for r in replies if r[1] and start <= r[2] < end and (process is None or r[0] == process)]
        kinds = {k: sum(1 for r in inside if r[4] == k) for k in ("answer", "refusal", "sorry", "other")}
        return {"latency_ms": summary_ms([r[3] - r[2] for r in inside]),
                "answers_per_s": round(len(inside) / max(end - start, 1e-9), 2), "kinds": kinds}

    processes = range(len(bots))
    logged = [feedback_questions(bot.feedback_log) for bot in bots]
    check = {**check_replies(fake, run.sent), "timeouts": run.counters["timeouts"],
             "undelivered": run.counters["undelivered"], "error_replies": fake.reply_kinds["sorry"],
             "questions_logged_by_bots": sum(logged), "bot_exit_codes": exit_codes}
    served = [balancer.delivered[n] > 0 and logged[n] > 0 for n in processes]
    failures = [name for name, bad in (
        ("a question lost", check["lost"]), ("a question answered twice", check["duplicates"]),
        ("a reply out of order", check["out_of_order"]), ("a reply timed out", check["timeouts"]),
        ("an update not delivered", check["undelivered"]),
        ("the feedback logs and error replies do not add up to the questions",
         check["questions_logged_by_bots"] + check["error_replies"] != check["questions"]),
        ("a process served nothing", not all(served)),
        ("the rebuild failed", rebuild["build_exit_code"] != 0),
        ("a process answered from the new article before the rebuild", any(rebuild["answered_from_new_article_before"])),
        ("a process did not pick the rebuild up", any(p["seconds_after_build"] is None for p in rebuild["processes"])),
        ("the server came back on another URL", not restart["same_url"]),
        ("a process did not answer again after the restart",
         any(p["seconds_after_restart"] is None or not p["answered_from_seed"] for p in restart["processes"])),
        ("a process lost the new build over the restart", not all(restart["new_article_still_served"])),
        ("a bot process did not stop cleanly", any(code != 0 for code in exit_codes)),
    ) if bad]
    return {
        "plan": asdict(plan),
        "load": {**window(*load), "seconds": round(load[1] - load[0], 1),
                 "per_process": [{"process": n, **window(*load, n)} for n in processes]},
        "during_rebuild": window(*rebuild_window), "during_restart": window(*outage),
        "rebuild": rebuild, "restart": restart,
        "per_process": [{"process": n, "updates_delivered": balancer.delivered[n], "questions_logged": logged[n]}
                        for n in processes],
        "reply_kinds": dict(fake.reply_kinds), "api_errors": dict(fake.failed),
        "check": check, "failures": failures, "ok": not failures,
    }


# --------------------------------------------------------------------------- output


def report_text(result: dict[str, Any]) -> str:
    plan, load, rebuild, restart = result["plan"], result["load"], result["rebuild"], result["restart"]
    lines = [machine_text(result["machine"]),
             f"Database: {result['initial_build']['articles']} (initial build {result['initial_build']['seconds']} s, "
             f"the default model); {plan['processes']} bot processes, webhook mode, routed by chat id, reload every "
             f"{plan['reload_interval']} s, database wait {plan['database_wait_seconds']} s; started in "
             f"{result['seconds']['start_bots']} s",
             f"Load: {plan['users']} users asking continuously for {load['seconds']} s",
             f"  {load['latency_ms']['n']} replies = {load['answers_per_s']} answers/s; "
             + latency_line("reply latency", load["latency_ms"])]
    for p in load["per_process"]:
        lines.append(f"  process {p['process']}: " + latency_line(f"{p['latency_ms']['n']} replies", p["latency_ms"]))
    lines.append(f"Rebuild from a fourth process: {rebuild['build_seconds']} s, exit code {rebuild['build_exit_code']}; "
                 f"answered from the new article before: {rebuild['answered_from_new_article_before']}")
    for n, p in enumerate(rebuild["processes"]):
        lines.append(f"  process {n} answers from the new article {p['seconds_after_build']} s after the build "
                     f"({p['questions']} question(s))")
    lines.append("  users meanwhile: " + latency_line("reply latency", result["during_rebuild"]["latency_ms"]))
    lines.append(f"Server restart: stopped in {restart['stop_seconds']} s, back after {restart['down_seconds']} s "
                 f"(same URL: {restart['same_url']})")
    for n, p in enumerate(restart["processes"]):
        lines.append(f"  process {n} answers again {p['seconds_after_restart']} s after the server is back "
                     f"({p['error_replies']} error repl{'y' if p['error_replies'] == 1 else 'ies'} first; "
                     f"from the seed article: {p['answered_from_seed']})")
    during = result["during_restart"]
    lines.append(f"  users asking from the stop until every process answered: {during['kinds']['sorry']} error replies, "
                 f"{during['kinds']['answer'] + during['kinds']['refusal']} answers; "
                 f"the new build still served after it: {restart['new_article_still_served']}")
    errors = restart["error_replies"]
    lines.append(f"  error replies in all: {errors['users_in_flight_at_the_stop']} to users' questions in flight when "
                 f"the server stopped, {errors['users_asking_during_the_outage']} to users' questions asked after, "
                 f"{errors['probes']} to the probes")
    check = result["check"]
    lines.append(f"Check: {check['questions']} questions, {check['replies']} replies, lost {check['lost']}, "
                 f"duplicates {check['duplicates']}, out of order {check['out_of_order']}, timeouts {check['timeouts']}, "
                 f"error replies {check['error_replies']}, logged by the bots {check['questions_logged_by_bots']} "
                 f"({', '.join(str(p['questions_logged']) for p in result['per_process'])}), "
                 f"bot exit codes {check['bot_exit_codes']}")
    lines.append("All checks passed" if result["ok"] else "FAILED: " + "; ".join(result["failures"]))
    return "\n".join(lines)


# --------------------------------------------------------------------------- main


def initial_build(articles: Path, index_dir: Path, url: str, log_dir: Path) -> dict[str, Any]:
    """The sample copied fresh into the work folder and built into the database, as an operator
    would (``python -m index build``); a rerun on the same folder is an incremental build."""
    shutil.rmtree(articles, ignore_errors=True)
    shutil.copytree(SAMPLE_ARTICLES, articles)
    log_dir.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "ARTICLE_QA_DATABASE_URL": url, "ARTICLE_QA_DATABASE_READ_URL": ""}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "index", "build", "--articles", str(articles), "--index",
                           str(index_dir), "--no-progress"], cwd=ROOT, env=env, capture_output=True, text=True,
                          check=False)
    (log_dir / "initial-build.log").write_text(done.stdout + done.stderr, encoding="utf-8")
    if done.returncode != 0:
        raise RuntimeError(f"the initial build failed (exit code {done.returncode}); see {log_dir / 'initial-build.log'}")
    summary = next((l for l in done.stdout.splitlines() if l.startswith("articles:")), "articles: ?")
    return {"seconds": round(time.monotonic() - started, 1), "articles": summary.split("(")[0].strip()}


def fresh_start(work: Path) -> None:
    """Every run starts from nothing: a server left running by a killed run is stopped, and the
    database, the embedding cache and the logs of the last run are removed (otherwise the
    cache would hold the new article's vectors and the rebuild would embed nothing)."""
    with contextlib.suppress(local_postgres.LocalPostgresError, OSError, subprocess.SubprocessError):
        local_postgres.stop(work / "pg")
    for name in ("pg", "articles", "index", "logs"):
        shutil.rmtree(work / name, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    defaults = Plan()
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench-replicas",
                        help="folder for the server, the articles, the logs (default var/bench-replicas)")
    parser.add_argument("--json", type=Path, help="write the numbers to this file")
    parser.add_argument("--processes", type=int, default=defaults.processes, help="bot processes")
    parser.add_argument("--users", type=int, default=defaults.users, help="simulated users")
    parser.add_argument("--seconds", type=float, default=defaults.seconds, help="length of the load phase")
    parser.add_argument("--down-seconds", type=float, default=defaults.down_seconds,
                        help="how long the server stays stopped")
    parser.add_argument("--after-seconds", type=float, default=defaults.after_seconds,
                        help="users keep asking this long after every process answered again")
    parser.add_argument("--reload-interval", type=float, default=defaults.reload_interval,
                        help="the bots' ARTICLE_QA_RELOAD_INTERVAL_SECONDS")
    parser.add_argument("--database-wait-seconds", type=float, default=defaults.database_wait_seconds,
                        help="the bots' ARTICLE_QA_DATABASE_WAIT_SECONDS")
    parser.add_argument("--timeout", type=float, default=defaults.timeout, help="seconds to wait for one reply")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    quiet_logs()
    plan = Plan(processes=args.processes, users=args.users, seconds=args.seconds, down_seconds=args.down_seconds,
                after_seconds=args.after_seconds, reload_interval=args.reload_interval,
                database_wait_seconds=args.database_wait_seconds, timeout=args.timeout)
    info = machine()
    work = args.work.resolve()
    server_folder, articles, index_dir = work / "pg", work / "articles", work / "index"
    fresh_start(work)
    with contextlib.ExitStack() as stack:
        try:
            url = local_postgres.start(server_folder)
            stack.callback(local_postgres.stop, server_folder)
            built = initial_build(articles, index_dir, url, work / "logs")
            result = asyncio.run(run_phases(plan, server_folder=server_folder, url=url, articles=articles,
                                            index_dir=index_dir, workdir=work))
        except KeyboardInterrupt:
            print("interrupted: stopping the bots and the server", file=sys.stderr)
            return 130
        except (local_postgres.LocalPostgresError, RuntimeError, TimeoutError, OSError) as exc:
            print(f"bench_replicas: {exc}", file=sys.stderr)
            return 1
    result = {"machine": info, "initial_build": built, **result}
    print(report_text(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"numbers written to {args.json}")
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
