"""Start the real `skillsession serve` process on a free loopback port.

The server binds port 0 itself and names the port it got in its first line (`SkillSession API
on http://127.0.0.1:PORT`), which `Server.start` reads: no port is chosen here and bound there
later, so no other process can take it in between. A restarted server asks for the port it had.

A server runs on SQLite in its data dir unless given other backends: `aws_shape_env()` gives the
settings of the AWS shape's store and media (DynamoDB and S3 on the test process's moto server).
`run_cli(data_dir, ...)` on a server's data dir uses that server's settings, so a test that runs a
command against "the server's data" reaches its table whatever the backend.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

BIN = Path(sys.executable).parent / "skillsession"
_server_envs: dict[Path, dict[str, str]] = {}  # data dir -> the settings of its server


BANNER = re.compile(rb"SkillSession API on http://127\.0\.0\.1:(\d+)")


class ReservedPort:
    """A loopback port held (bound, not listening) until `release`: connecting to it is refused,
    as to a server that is down, and no other process can take it meanwhile; a server that binds
    with SO_REUSEADDR (aiosmtpd, uvicorn) may still listen on it while it is held."""

    def __init__(self, port: int = 0):
        self._socket = socket.socket()
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", port))
        self.port: int = self._socket.getsockname()[1]

    def release(self) -> None:
        self._socket.close()

    def __enter__(self) -> ReservedPort:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def cli_env(data_dir: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSESSION_")}
    env.update(
        SKILLSESSION_DATA_DIR=str(data_dir),
        SKILLSESSION_OUTBOX_INTERVAL_SECONDS="0.1",
        SKILLSESSION_EXPIRY_INTERVAL_SECONDS="0",
        # every test's client calls from 127.0.0.1: the per-address limits of /auth/* are off
        # unless a test turns them on (tests/e2e/test_auth_abuse.py)
        SKILLSESSION_AUTH_CALLS_PER_ADDRESS="0",
        SKILLSESSION_SIGNUPS_PER_ADDRESS="0",
        # tests log dozens in at once on a loaded 2-core machine: they queue for a hash turn
        SKILLSESSION_PASSWORD_HASH_WAIT_SECONDS="120",
    )
    env.update(extra)
    return env


def aws_shape_env(name: str) -> dict[str, str]:
    """Settings for a DynamoDB table and an S3 bucket (both new, uniquely named; `skillsession
    migrate` creates them) on moto, and moto's dummy credentials for the server process."""
    from moto_server import REGION, endpoint_url, table_name

    aws = f"region={REGION}&endpoint_url={endpoint_url()}"  # sets the dummy credentials too
    credentials = {k: v for k, v in os.environ.items() if k.startswith("AWS_")}
    assert credentials["AWS_ACCESS_KEY_ID"] == "testing", "never a real AWS account"
    return {
        **credentials,
        "SKILLSESSION_STORE": f"dynamodb://{table_name(name)}?{aws}",
        "SKILLSESSION_MEDIA": f"s3://{table_name(name + '-media')}/media?{aws}",
    }


def shape_server(data_dir: Path, shape: str, **options) -> Server:
    """A server (not started) of that shape: "sqlite" (the embedded shape), "dynamodb" (store
    and media of the AWS shape, their table and bucket created), "lambda" (the same, served by
    the Lambda entry point behind a stand-in for API Gateway) or "cognito" (that, with the
    accounts in a Cognito user pool on moto: template.yaml's pool, its policy also asking for a
    digit, so that Cognito's own refusal can be seen)."""
    if shape == "sqlite":
        return Server(data_dir, **options)
    if shape not in ("dynamodb", "lambda", "cognito"):
        raise ValueError(f"unknown shape {shape!r}")
    if shape == "cognito":
        from cognito_pool import new_pool

        options["SKILLSESSION_AUTH"] = new_pool(RequireNumbers=True)["url"]
    kind = Server if shape == "dynamodb" else LambdaGatewayServer
    srv = kind(data_dir, **options, **aws_shape_env(f"e2e-{data_dir.name}".lower()[:40]))
    run_cli(data_dir, "migrate", env=srv.env)
    return srv


def run_cli(data_dir: Path, *args: str, env: dict[str, str] | None = None, check=True):
    env = env or _server_envs.get(Path(data_dir).resolve()) or cli_env(data_dir)
    return subprocess.run(
        [str(BIN), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=check,
    )


class Server:
    def __init__(self, data_dir: Path, workers: int = 1, **env: str):
        self.data_dir = data_dir
        self.port = 0  # until started: then the port the server bound (kept across restarts)
        self.env = cli_env(data_dir, **env)  # SKILLSESSION_PUBLIC_URL unset: follows the port
        _server_envs[Path(data_dir).resolve()] = self.env
        self.workers = workers
        self.process: subprocess.Popen | None = None
        self.log_path = data_dir / "server.log"
        self.start_seconds = 30.0  # how long start() waits for /health

    @property
    def base_url(self) -> str:
        assert self.port, "the server has not started yet"
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> Server:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        log = self.log_path.open("ab")
        log_start = log.tell()
        self.process = subprocess.Popen(
            self.command(),
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: kill() takes the workers too
        )
        deadline = time.monotonic() + self.start_seconds
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited: {self.log_path.read_text()[-3000:]}")
            if not self.port:
                with self.log_path.open("rb") as output:
                    output.seek(log_start)
                    bound = BANNER.search(output.read())
                if bound is None:
                    time.sleep(0.05)
                    continue
                self.port = int(bound.group(1))
            try:
                if httpx.get(f"{self.base_url}/health", timeout=1).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"server did not start: {self.log_path.read_text()[-3000:]}")

    def command(self) -> list[str]:
        return [str(BIN), "serve", "--port", str(self.port), "--workers", str(self.workers)]

    def kill(self) -> None:
        """kill -9 the server and its workers, as a crash would."""
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class LambdaGatewayServer(Server):
    """The Lambda entry point behind a stand-in for API Gateway (tests/e2e/lambda_gateway.py)
    instead of `skillsession serve`; the job runs as the schedule would run it."""

    def command(self) -> list[str]:
        gateway = Path(__file__).with_name("lambda_gateway.py")
        return [sys.executable, str(gateway), "--port", str(self.port)]


def demo_login(base_url: str, email: str) -> dict[str, str]:
    """The Authorization header of a demo-data account (`skillsession demo-data`)."""
    from skillsession.demo import DEMO_PASSWORD

    r = httpx.post(
        f"{base_url}/auth/login",
        json={"email": email, "password": DEMO_PASSWORD},
        timeout=60,  # an argon2 hash per login: dozens at once queue on a busy 2-core machine
    )
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['access_token']}"}


@contextlib.contextmanager
def small_demo(data_dir: Path, workers: int, **env: str) -> Iterator[Server]:
    """A served demo data set of one tutor and two students over three days."""
    srv = Server(data_dir, workers=workers, **env)
    run_cli(data_dir, "demo-data", "--tutors", "1", "--students", "2", "--days", "3", env=srv.env)
    srv.start()
    try:
        yield srv
    finally:
        srv.stop()
