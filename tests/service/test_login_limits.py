"""Login attempts are limited in a sliding window: a boundary of the clock gives no fresh quota."""

from __future__ import annotations

from datetime import timedelta

import pytest

from skillsession.domain.errors import RateLimited, Unauthorized
from skillsession.service import accounts

PASSWORD = "correct horse battery"


def test_failures_across_a_window_boundary_still_count(deps, clock):
    window = deps.settings.login_window_seconds
    limit = deps.settings.login_max_failures
    user = accounts.signup(deps, "ada@example.test", PASSWORD)
    deps.stores.accounts.confirm_user(user.user_id)
    boundary = clock.current - timedelta(seconds=clock.current.timestamp() % window)
    clock.current = boundary + timedelta(seconds=window - 1)  # one second before an aligned end
    for _ in range(limit):
        with pytest.raises(Unauthorized):
            accounts.login(deps, user.email, "wrong password!")
    clock.advance(seconds=2)  # past the aligned boundary: the failures are a second old
    with pytest.raises(RateLimited) as refused:
        accounts.login(deps, user.email, PASSWORD)
    assert refused.value.retry_after == window - 2
    clock.advance(seconds=window - 3)
    with pytest.raises(RateLimited) as refused:
        accounts.login(deps, user.email, PASSWORD)
    assert refused.value.retry_after == 1
    clock.advance(seconds=1)  # the failures have left the window
    token, _ = accounts.login(deps, user.email, PASSWORD)
    assert token
