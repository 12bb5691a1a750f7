"""The `skillsession` command."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="SkillSession: the tutoring marketplace backend.", no_args_is_help=True)
DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="overrides SKILLSESSION_DATA_DIR (default ./data)")
]


def _deps(data_dir: Path | None = None, create: bool = False):
    """The adapters of the settings, the store's schema brought up to date. Only `create`
    (migrate, serve, demo-data) makes a store that is not there yet: other commands refuse a
    missing one (a mistyped path would otherwise give an empty database that looks fine)."""
    from skillsession import bootstrap
    from skillsession.settings import Settings

    if data_dir is not None:
        os.environ["SKILLSESSION_DATA_DIR"] = str(data_dir)
    settings = Settings()
    if not create and not bootstrap.store_exists(settings):
        typer.echo(
            f"error: no store at {settings.store_url} (check SKILLSESSION_STORE and "
            "SKILLSESSION_DATA_DIR / --data-dir; `skillsession migrate` creates one)",
            err=True,
        )
        raise typer.Exit(1)
    deps = bootstrap.build(settings)
    deps.stores.admin.migrate()
    return deps


LOOPS = ("asyncio", "uvloop")
MAX_DEFAULT_WORKERS = 8


def default_workers() -> int:
    """One worker per usable core: on the 2-core bench machine 2 workers served 1.5-1.9x the
    requests of one when wrk had the rest of the machine, and about as many (never much fewer)
    when other work took half of it; p99 was lower either way (bench/analysis.md)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_DEFAULT_WORKERS))


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = typer.Option(8000, help="0: a free port, named in the first line printed"),
    workers: int | None = typer.Option(
        None,
        help=f"worker processes (default: one per CPU core, at most {MAX_DEFAULT_WORKERS})",
        show_default=False,
    ),
    loop: str = typer.Option(
        "asyncio",
        help="event loop: asyncio (default: serves saturated connections fairly, p99 10-20x "
        "lower than uvloop at the same throughput and CPU per request; see bench/analysis.md) "
        "or uvloop",
    ),
    data_dir: DataDir = None,
    log_level: str = typer.Option(
        None, help="debug|info|warning|error (info logs every request); env SKILLSESSION_LOG_LEVEL"
    ),
):
    """Serve the API (the expiry job and mail delivery run in-process)."""
    import uvicorn

    if loop not in LOOPS:
        raise typer.BadParameter(f"--loop must be one of {', '.join(LOOPS)}")
    if workers is None:
        workers = default_workers()

    from skillsession import demo

    if log_level:
        os.environ["SKILLSESSION_LOG_LEVEL"] = log_level  # the workers build their own settings
    deps = _deps(data_dir, create=True)  # the schema and the secret key, before the workers
    has_demo_users = deps.stores.accounts.get_user_by_email(demo.tutor_email(1)) is not None
    deps.stores.admin.close()
    config = uvicorn.Config(
        "skillsession.http.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        log_level=deps.settings.log_level,
        log_config=None,
        access_log=False,
        http=f"{__name__}:HttpToolsNoDelay",
        loop=f"{__name__}:AsyncioFairAccept" if loop == "asyncio" and workers > 1 else loop,
        server_header=False,
        # the client address is read in one place, http/client_address.py, from the operator's
        # SKILLSESSION_TRUSTED_PROXIES; uvicorn's own handling would trust 127.0.0.1's headers
        proxy_headers=False,
    )
    sock = config.bind_socket()  # here, so that `--port 0` is a free port we can name
    base = http_url(host, sock.getsockname()[1])
    public_url, public_source = deps.settings.public_url, "from SKILLSESSION_PUBLIC_URL"
    if "public_url" not in deps.settings.model_fields_set:  # unset: follow the address bound
        public_url = http_url(link_host(host), sock.getsockname()[1])
        public_source = "the address served; SKILLSESSION_PUBLIC_URL sets another"
        os.environ["SKILLSESSION_PUBLIC_URL"] = public_url  # the workers read it from here
    typer.echo(f"SkillSession API on {base}  (docs: {base}/docs)")
    typer.echo(f"public URL {public_url}  (links in e-mails, media URLs: {public_source})")
    typer.echo(
        f"data in {deps.settings.data_dir.resolve()}; mail backend {deps.mailer.backend_name}"
    )
    typer.echo(f'log in: POST {base}/auth/login {{"email", "password"}} -> bearer token')
    if has_demo_users:
        typer.echo(
            f"demo users: {demo.tutor_email(1)}, {demo.student_email(1)}, ... "
            f"password {demo.DEMO_PASSWORD}"
        )
    server = uvicorn.Server(config)
    try:
        if workers > 1:
            from uvicorn.supervisors import Multiprocess

            Multiprocess(config, sockets=[sock]).run()
            return
        server.run(sockets=[sock])
    except KeyboardInterrupt:
        return
    if not server.started:
        raise typer.Exit(3)  # uvicorn's STARTUP_FAILURE; it has logged why


def http_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


def link_host(host: str) -> str:
    """Where links to a server listening on `host` should point: itself, or the loopback
    address for a wildcard bind (set SKILLSESSION_PUBLIC_URL for links others can reach)."""
    return {"": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)


class AsyncioFairAccept(asyncio.SelectorEventLoop):
    """The stdlib loop, accepting one new connection per wake-up (for `--workers` > 1).

    The stdlib accepts up to `backlog` (2048) connections whenever the listening socket is
    readable, so with `--workers 2` sharing one socket the first worker to wake took all of a
    burst of new connections and the other idled (1 worker's throughput). One at a time, a
    worker busy with a long loop turn leaves new connections to an idle one. (With one worker
    there is no other to take them: accepting one per turn only delays them, so not there.)"""

    def _accept_connection(
        self, protocol_factory, sock, sslcontext=None, server=None, backlog=1, *args
    ):
        super()._accept_connection(protocol_factory, sock, sslcontext, server, 1, *args)


def __getattr__(name: str):
    """`HttpToolsNoDelay`, made on first use so that other commands do not import uvicorn."""
    if name != "HttpToolsNoDelay":
        raise AttributeError(name)
    import contextlib
    import socket

    from skillsession.http.transport import LimitedHttpTools

    class HttpToolsNoDelay(LimitedHttpTools):
        """uvicorn's httptools protocol, with the head limits of `http/transport.py`, and with
        TCP_NODELAY on every connection.

        asyncio sets TCP_NODELAY only on sockets whose `proto` is IPPROTO_TCP, and the listening
        socket uvicorn binds for `--workers > 1` has proto 0: responses written in two parts
        (headers, then body) then waited ~40 ms for the client's delayed ACK (1.45 k requests/s
        at 64 connections, p50 44 ms, whatever the endpoint). uvloop sets it always."""

        def connection_made(self, transport) -> None:
            sock = transport.get_extra_info("socket")
            if sock is not None and sock.family in (socket.AF_INET, socket.AF_INET6):
                with contextlib.suppress(OSError):  # the connection is already gone
                    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            super().connection_made(transport)

    globals()[name] = HttpToolsNoDelay
    return HttpToolsNoDelay


@app.command()
def migrate(data_dir: DataDir = None):
    """Create or upgrade what the configured backends need."""
    deps = _deps(data_dir, create=True)
    typer.echo(f"{deps.stores.admin.backend_name} store ready")
    if hasattr(deps.media, "ensure_bucket"):
        deps.media.ensure_bucket()
        typer.echo(f"{deps.media.backend_name} bucket ready")
    if hasattr(deps.mailer, "ensure_topic"):
        deps.mailer.ensure_topic()
        typer.echo(f"{deps.mailer.backend_name} topic ready")


@app.command("expire-slots")
def expire_slots(
    now: Annotated[str | None, typer.Option(help="ISO-8601 instant (default: now)")] = None,
    data_dir: DataDir = None,
):
    """Run the expiry job once."""
    from skillsession.domain.local_time import parse_instant
    from skillsession.service import expiry

    deps = _deps(data_dir)
    result = expiry.expire_slots(deps, parse_instant(now) if now else None)
    typer.echo(
        f"slots expired: {result.slots_expired}, requests expired: {result.bookings_expired}, "
        f"bookings completed: {result.bookings_completed}, "
        f"unconfirmed accounts deleted: {result.accounts_deleted}"
    )


@app.command("deliver-mail")
def deliver_mail(data_dir: DataDir = None):
    """Deliver what is due in the notification outbox once."""
    from skillsession.service import outbox

    deps = _deps(data_dir)
    report = outbox.deliver_all(deps)
    state = outbox.summary(deps, recent_failures=0)
    typer.echo(
        f"sent {report.sent}, skipped {report.skipped}, retried {report.retried}, "
        f"failed {report.failed}; waiting {state.waiting + state.due} "
        "(pending, for a later try)"
    )


@app.command("demo-data")
def demo_data(
    tutors: int = 20,
    students: int = 10,
    days: int = 14,
    if_empty: bool = typer.Option(False, "--if-empty", help="do nothing if demo users exist"),
    workers: int = typer.Option(2, help="processes generating and inserting in parallel"),
    data_dir: DataDir = None,
):
    """Fill the store with demo tutors, students and availability (fast bulk path)."""
    import time

    from rich.progress import Progress

    from skillsession import demo

    deps = _deps(data_dir, create=True)
    if if_empty and deps.stores.accounts.get_user_by_email(demo.tutor_email(1)) is not None:
        typer.echo("demo data already there")
        return
    if deps.stores.accounts.get_user_by_email(demo.tutor_email(1)) is not None:
        raise typer.BadParameter("demo users already exist; use a fresh data dir")
    started = time.perf_counter()
    password_hash = deps.passwords.hash(demo.DEMO_PASSWORD)
    with Progress() as progress:
        task = progress.add_task("people", total=tutors + students)

        def advance(people: int) -> None:
            progress.advance(task, people)

        if workers > 1 and deps.stores.admin.backend_name == "sqlite":
            deps.stores.admin.close()
            slots = demo.fill_parallel(
                tutors, students, days, password_hash, deps.now(), workers, advance
            )
        else:
            slots = demo.fill(
                deps.stores.admin,
                range(1, tutors + 1),
                range(1, students + 1),
                days,
                password_hash,
                deps.now(),
                advance,
            )
    elapsed = time.perf_counter() - started
    typer.echo(
        f"{tutors} tutors, {students} students, {slots} slots in {elapsed:.1f} s. "
        f"Log in as {demo.tutor_email(1)} or {demo.student_email(1)}, password {demo.DEMO_PASSWORD}"
    )


@app.command()
def token(
    email: str,
    ttl: int = typer.Option(3600, help="seconds"),
    data_dir: DataDir = None,
):
    """Print a bearer token for an existing user (embedded auth only)."""
    from skillsession.domain.accounts import normalise_email

    deps = _deps(data_dir)
    user = deps.stores.accounts.get_user_by_email(normalise_email(email))
    if user is None or deps.issuer is None:
        typer.echo("no such user (or accounts are external)", err=True)
        raise typer.Exit(1)
    typer.echo(deps.issuer.issue(user.user_id, user.email, ttl)[0])


@app.command()
def check(data_dir: DataDir = None):
    """Check the booking invariants of the store (and that no deleted user left a live booking
    or a free slot); exit 1 with a report if any is broken.
    Notifications that failed for good are reported as warnings (they break no invariant)."""
    from skillsession.service import outbox

    deps = _deps(data_dir)
    problems = deps.stores.admin.check_consistency()
    for problem in problems:
        typer.echo(problem)
    _warn_failed_mail(outbox.summary(deps))
    if problems:
        raise typer.Exit(1)
    typer.echo("consistent")


def _warn_failed_mail(state) -> None:
    if not state.failed:
        return
    typer.echo(f"warning: {state.failed} notification(s) failed for good (newest first):")
    for note in state.recent_failures:
        typer.echo(
            f"  {note.notification_id} {note.kind} after {note.attempts} tries: {note.last_error}"
        )


@app.command()
def backup(
    path: Annotated[Path, typer.Argument(help="file to write the copy to")],
    data_dir: DataDir = None,
):
    """A consistent copy of the SQLite database, safe while the service runs."""
    admin = _deps(data_dir).stores.admin
    if not hasattr(admin, "backup"):
        typer.echo(f"the {admin.backend_name} store is backed up by its service", err=True)
        raise typer.Exit(1)
    began = admin.backup(path)
    # every change committed before `began` is in the copy (the copy is one later snapshot)
    typer.echo(f"backup written to {path} (snapshot taken after {began.isoformat()})")


@app.command()
def restore(
    path: Annotated[Path, typer.Argument(help="a file written by `skillsession backup`")],
    data_dir: DataDir = None,
):
    """Replace the SQLite database with a backup. Stop the service first."""
    import sqlite3

    from skillsession.settings import Settings

    if data_dir is not None:
        os.environ["SKILLSESSION_DATA_DIR"] = str(data_dir)
    settings = Settings()
    if not settings.store_url.startswith("sqlite:"):
        typer.echo("restore is for the SQLite store", err=True)
        raise typer.Exit(1)
    source = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        sound = source.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    except sqlite3.DatabaseError:
        sound = False
    if not sound:
        typer.echo(f"{path} is not a sound SQLite database", err=True)
        raise typer.Exit(1)
    from skillsession.adapters.store.sqlite import open_store

    live = open_store(settings.store_url).admin
    live.restore(source)
    source.close()
    live.close()
    typer.echo(f"restored {path} into {settings.store_url}")


@app.command("api-reference")
def api_reference(
    output: Annotated[
        Path | None, typer.Option("--output", help="write it there (default: print it)")
    ] = None,
):
    """The API reference in Markdown, rendered from the OpenAPI document (docs/api.md)."""
    from skillsession.http.app import create_app
    from skillsession.http.reference import render

    text = render(create_app().openapi())
    if output is None:
        typer.echo(text, nl=False)
    else:
        output.write_text(text, encoding="utf-8")
        typer.echo(f"wrote {output}")


def settings_problems(exc: Exception) -> list[str] | None:
    """One line per unusable setting, naming its variable; None if `exc` is not about settings."""
    from pydantic import ValidationError

    from skillsession.settings import SettingsError

    if isinstance(exc, SettingsError):
        return [str(exc)]
    if isinstance(exc, ValidationError) and exc.title == "Settings":
        return [
            f"SKILLSESSION_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            for e in exc.errors()
        ]
    return None


def main() -> None:
    from skillsession.domain.errors import DomainError

    try:
        app()
    except DomainError as exc:  # bad input from the operator: say what, no traceback
        details = f" {exc.details}" if exc.details else ""
        typer.echo(f"error: {exc.message}{details}", err=True)
        raise SystemExit(2) from None
    except Exception as exc:
        problems = settings_problems(exc)
        if problems is None:
            raise
        for problem in problems:
            typer.echo(f"error: {problem}", err=True)
        raise SystemExit(2) from None
