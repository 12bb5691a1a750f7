"""schemathesis against the served OpenAPI of a real server with demo data, as a tutor and as a
student: no 5xx, every response matches its documented schema, invalid input is refused.

    python soak/fuzz.py --examples 200     # part of `make soak`: thousands of requests
    python soak/fuzz.py --shape dynamodb --seed 1234   # the AWS shape's storage, a given seed
"""

from __future__ import annotations

import argparse
import random
import re
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from xml.etree import ElementTree

import httpx

TESTS = Path(__file__).resolve().parent.parent / "tests"
sys.path[:0] = [str(TESTS), str(TESTS / "contract")]  # as pyproject's pytest `pythonpath` does

from e2e.server import demo_login, run_cli, shape_server  # noqa: E402
from skillsession.demo import student_email, tutor_email  # noqa: E402

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
ROLES = {"tutor": tutor_email(1), "student": student_email(1)}


@dataclass
class Fuzzed:
    ok: bool = True
    report: str = ""
    generated: int = 0  # test cases schemathesis ran, over all runs
    operations: set[str] = field(default_factory=set)  # "METHOD /path" in the served OpenAPI
    private: set[str] = field(default_factory=set)  # of those, the ones that need a token
    tested: dict[str, set[str]] = field(default_factory=dict)  # role -> operations it ran


def fuzz(
    data_dir: Path,
    examples: int,
    seed: int = 1,
    shape: str = "sqlite",
    phases: str = "coverage,fuzzing,stateful",
) -> Fuzzed:
    """Run schemathesis once per role against a served demo data set of `shape` ("sqlite", or
    "dynamodb": the AWS shape's store and media on the test process's moto server), every check
    but `positive_data_acceptance`: the first role on every operation, the others on the
    private ones. What happened, per role."""
    srv = shape_server(data_dir, shape)
    run_cli(data_dir, "demo-data", "--tutors", "2", "--students", "2", "--days", "2", env=srv.env)
    srv.start()
    out = Fuzzed()
    try:
        schema = httpx.get(f"{srv.base_url}/openapi.json").json()
        operations = {
            f"{method.upper()} {path}": bool(spec.get("security"))
            for path, item in schema["paths"].items()
            for method, spec in item.items()
            if method in ("get", "put", "post", "delete", "patch")
        }
        out.operations = set(operations)
        out.private = {o for o, private in operations.items() if private}
        # the public operations answer everyone alike: the first role runs them, the others not
        public_paths = sorted(
            {o.split(" ", 1)[1] for o, private in operations.items() if not private}
        )
        only_private = [
            "--exclude-path-regex",
            "^(" + "|".join(map(re.escape, public_paths)) + ")$",
        ]
        for n, (role, email) in enumerate(ROLES.items()):
            token = demo_login(srv.base_url, email)["Authorization"].removeprefix("Bearer ")
            junit = data_dir / f"junit-{role}.xml"
            result = subprocess.run(
                [
                    str(SCHEMATHESIS),
                    "run",
                    f"{srv.base_url}/openapi.json",
                    "-H",
                    f"Authorization: Bearer {token}",
                    "--checks",
                    "all",
                    # semantic rules (one of tutor_id/tutor_email, a known cursor...) are not
                    # in the schema: schema-valid data may rightly get a 4xx
                    "--exclude-checks",
                    "positive_data_acceptance",
                    "--phases",
                    phases,
                    "--max-examples",
                    str(examples),
                    "--seed",
                    str(seed),
                    "--generation-database",
                    "none",  # nothing carried over from an earlier run: the seed says it all
                    "--report",
                    "junit",
                    "--report-junit-path",
                    str(junit),
                    "--no-color",
                    # one thread: with two, hypothesis's ast.parse of filter lambdas races on
                    # CPython 3.11 < 3.11.8 ("SystemError: AST constructor recursion depth
                    # mismatch", cpython gh-106905): a runtime error of the tool, not of the API
                    "--workers",
                    "1",
                    *(only_private if n and public_paths else ()),
                ],
                capture_output=True,
                text=True,
                timeout=1800,
                cwd=data_dir,
            )
            out.ok = out.ok and result.returncode == 0
            out.report += f"\n--- {shape}, as the {role} ---\n{result.stdout}{result.stderr}"
            found = re.search(r"(\d+) generated", result.stdout)
            out.generated += int(found.group(1)) if found else 0
            out.tested[role] = _tested(junit)
    finally:
        srv.stop()
    return out


def _tested(junit: Path) -> set[str]:
    """The operations of a JUnit report that ran (neither skipped nor errored)."""
    if not junit.exists():
        return set()
    return {
        case.get("name", "")
        for case in ElementTree.parse(junit).iter("testcase")
        if case.find("skipped") is None and case.find("error") is None
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=200)
    parser.add_argument("--seed", type=int, default=random.randrange(1, 2**31))
    parser.add_argument("--shape", choices=("sqlite", "dynamodb"), default="sqlite")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="skillsession-fuzz-") as tmp:
        result = fuzz(Path(tmp), args.examples, args.seed, args.shape)
    lines = result.report.splitlines()
    summary = [line for line in lines if "generated" in line or "passed" in line]
    print(result.report if not result.ok else "\n".join(summary))
    print(f"seed {args.seed}: {result.generated} test cases")
    return 0 if result.ok else 1


if __name__ == "__main__":
    sys.exit(main())
