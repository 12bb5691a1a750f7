"""The Lambda cold-start proxy (issue 4): how much importing our Lambda entry module and answering
the first request add to importing the third-party code that path needs.

    python bench/coldstart.py --out coldstart.json [--runs 10]

Settings are the AWS shape's (DynamoDB, S3, SNS, Cognito URLs pointing at an address nothing
listens on: building the adapters makes no call, and `/health` touches no backend), and
`AWS_LAMBDA_INITIALIZATION_TYPE` is set as in Lambda, so importing the entry module is Lambda's
init phase: the code is imported and the adapters built (the SDK clients). Every figure
is the median of `--runs` fresh interpreter processes, interleaved, after the bytecode of `src/`
is compiled (site-packages is compiled by pip):

* `python`: an interpreter that imports nothing (`-c pass`), the floor;
* `dependencies`: importing every third-party module that the entry module plus one `/health`
  invocation load (found by a probe process: the modules in `sys.modules` whose file lives
  outside the standard library and outside `skillsession`);
* `entry import`: `import skillsession.aws.lambda_handler` (the init phase: imports, then the
  adapters built);
* `entry + first request`: that import, then one `/health` event through the handler;
* `first request`: the in-process time of that first invocation, measured inside the process;
  `warm request`: a second invocation.

With `--package DIR` (a function package, e.g. `make build-ApiFunction ARTIFACTS_DIR=DIR
LAMBDA_ARCH=x86_64 LAMBDA_PYTHON=3.11` for this machine) every process runs isolated (`-I -S`)
with only DIR on the path, as Lambda runs the package: nothing else is importable.

The process walls include the interpreter's exit, and the entry's init phase freezes what it
made (`gc.freeze`), which the exit's last collection then skips: so `in_process_ms` also has
both imports timed inside their processes (`import_ms`, `dependencies_import_ms`), and
`entry_import_over_dependencies_in_process` compares those, without start or exit.
"""

from __future__ import annotations

import argparse
import compileall
import json
import os
import statistics
import subprocess
import sys
import sysconfig
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ENTRY = "skillsession.aws.lambda_handler"
EVENT = ROOT / "events" / "health.json"
NOWHERE = "http://127.0.0.1:9"  # discard port: nothing answers, nothing is called
AWS_ENV = {
    "SKILLSESSION_DATA_DIR": "/tmp/skillsession-coldstart",
    "SKILLSESSION_STORE": f"dynamodb://coldstart?region=eu-west-1&endpoint_url={NOWHERE}",
    "SKILLSESSION_MEDIA": f"s3://coldstart/media?region=eu-west-1&endpoint_url={NOWHERE}",
    "SKILLSESSION_MAIL": (
        f"sns://arn:aws:sns:eu-west-1:123456789012:coldstart?region=eu-west-1&endpoint_url={NOWHERE}"
    ),
    "SKILLSESSION_AUTH": "cognito://eu-west-1/eu-west-1_coldstart?client_id=coldstart",
    "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench",
    "AWS_DEFAULT_REGION": "eu-west-1",
    "AWS_LAMBDA_INITIALIZATION_TYPE": "on-demand",
}

PACKAGE = "/nonexistent/"  # --package: the only place imports come from (besides the stdlib)

PROBE = f"""
import json, sys, time
t0 = time.perf_counter()
import {ENTRY} as entry
t1 = time.perf_counter()
event = json.load(open({str(EVENT)!r}))
first = entry.handler(event, None)
t2 = time.perf_counter()
second = entry.handler(event, None)
t3 = time.perf_counter()
assert first["statusCode"] == 200 and second["statusCode"] == 200, first
third_party = sorted(
    name for name, module in list(sys.modules.items())
    if (path := getattr(module, "__file__", None))
    and ("site-packages" in path or "dist-packages" in path or path.startswith(__PACKAGE__))
    and not name.startswith("skillsession")
)
print(json.dumps({{
    "import_ms": (t1 - t0) * 1000, "first_ms": (t2 - t1) * 1000, "warm_ms": (t3 - t2) * 1000,
    "third_party": third_party,
}}))
"""

DEPENDENCIES = """
import importlib, json, sys, time
names = json.loads(sys.argv[1])
t0 = time.perf_counter()
for name in names:
    try:
        importlib.import_module(name)
    except Exception:
        pass
print(json.dumps({"dependencies_import_ms": (time.perf_counter() - t0) * 1000}))
"""


def run(code: str, *args: str) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("SKILLSESSION_")}
    env.update(AWS_ENV)
    command = [sys.executable, "-c", code, *args]
    if PACKAGE != "/nonexistent/":
        command = [
            sys.executable,
            "-I",
            "-S",
            "-c",
            f"import sys; sys.path[:0] = [{PACKAGE!r}]\n{code}",
            *args,
        ]
    began = time.perf_counter()
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    wall = (time.perf_counter() - began) * 1000
    if done.returncode != 0:
        raise SystemExit(f"cold-start probe failed:\n{done.stdout}\n{done.stderr}")
    return wall, done.stdout


def median(values: list[float]) -> float:
    return round(statistics.median(values), 1)


def measure(runs: int) -> dict:
    compileall.compile_dir(str(ROOT / "src"), quiet=1)
    _, out = run(
        PROBE.replace("__PACKAGE__", repr(PACKAGE))
    )  # warms the OS file cache and names the third-party modules
    modules = json.loads(out)["third_party"]
    walls: dict[str, list[float]] = {
        "python": [],
        "dependencies": [],
        "entry_import": [],
        "entry_and_first_request": [],
    }
    inside: dict[str, list[float]] = {
        "import_ms": [],
        "first_ms": [],
        "warm_ms": [],
        "dependencies_import_ms": [],
    }
    for _ in range(runs):
        walls["python"].append(run("pass")[0])
        wall, out = run(DEPENDENCIES, json.dumps(modules))
        walls["dependencies"].append(wall)
        inside["dependencies_import_ms"].append(json.loads(out)["dependencies_import_ms"])
        walls["entry_import"].append(run(f"import {ENTRY}")[0])
        wall, out = run(PROBE.replace("__PACKAGE__", repr(PACKAGE)))
        walls["entry_and_first_request"].append(wall)
        for key, value in json.loads(out).items():
            if key in inside:
                inside[key].append(value)
    med = {k: median(v) for k, v in walls.items()}
    in_process = {k: round(statistics.median(v), 2) for k, v in inside.items()}
    return {
        "runs": runs,
        "entry_module": ENTRY,
        "third_party_modules": len(modules),
        "third_party_packages": sorted({m.split(".")[0] for m in modules}),
        "wall_ms": med,
        "in_process_ms": in_process,
        "entry_import_over_dependencies": round(med["entry_import"] / med["dependencies"], 2),
        "entry_import_over_dependencies_in_process": round(
            in_process["import_ms"] / in_process["dependencies_import_ms"], 2
        ),
        "cold_start_over_dependencies": round(
            med["entry_and_first_request"] / med["dependencies"], 2
        ),
        "python": sysconfig.get_python_version(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--package", type=Path, help="a function package directory (see above)")
    args = parser.parse_args()
    if args.package:
        global PACKAGE
        PACKAGE = str(args.package.resolve()) + "/"
        compileall.compile_dir(PACKAGE, quiet=1)
    result = measure(args.runs)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
