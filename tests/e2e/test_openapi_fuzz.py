"""schemathesis against the served OpenAPI, on both shapes, as a tutor and as a student: no 5xx,
every response (errors included) matches its documented status, headers and schema, invalid input
is refused, every operation is exercised. Bounded here (`make soak` runs it longer); a new seed
each run, printed on failure (`SKILLSESSION_FUZZ_SEED=<seed>` repeats a run)."""

from __future__ import annotations

import os
import random

from fuzz import ROLES, fuzz

from route_table_pins import ROUTES

EXAMPLES = 4  # per operation and role in the fuzzing phase: ~170 requests a shape
# the API's routes (the pinned table less the docs) as schemathesis names them
API = {f"{method} {path}": public for (method, path), public in ROUTES.items()}
MIN_CASES = 150  # a shape's two runs together (schemathesis may stop early on an operation)


def test_generated_requests_never_break_the_contract(tmp_path, shape):  # both shapes: conftest
    seed = int(os.environ.get("SKILLSESSION_FUZZ_SEED") or random.randrange(1, 2**31))
    result = fuzz(tmp_path, examples=EXAMPLES, seed=seed, shape=shape, phases="fuzzing")
    again = f"(seed {seed}: SKILLSESSION_FUZZ_SEED={seed} repeats this run)"
    assert result.ok, f"{again}\n{result.report[-6000:]}"
    # the served description has every API route of the pinned table, with its security
    assert result.operations == set(API), result.operations ^ set(API)
    assert result.private == {o for o, public in API.items() if not public}
    first, *others = ROLES
    assert result.operations - result.tested[first] == set(), (first, again)
    for role in others:
        assert result.private - result.tested[role] == set(), (role, again)
    assert result.generated >= MIN_CASES, (result.generated, again)
    print(f"{shape}: {result.generated} test cases, {again}")
