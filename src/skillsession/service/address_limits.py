"""Every /auth/* call counted per client address, in this process.

The count lives in memory, not in the store: it guards this process (its threads, its password
hashing) against a flood from one address at no storage cost per call (a store-kept count would
add one to three DynamoDB calls to every /auth/* request). Each process counts on its own, so
with N worker processes (or N warm Lambda instances) one address may make up to N times the
limit; the limits that must hold service-wide (failed logins per e-mail and address, sign-ups
per address) are kept in the store. The same sliding window as the store's
(`domain.rate_limits.admit`); at most `max_addresses` addresses are remembered, the least
recently seen forgotten first.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from datetime import datetime

from skillsession.domain.rate_limits import Admission, admit

MAX_ADDRESSES = 100_000


class AddressLimits:
    def __init__(self, max_addresses: int = MAX_ADDRESSES):
        self._hits: OrderedDict[str, tuple[int, ...]] = OrderedDict()
        self._lock = threading.Lock()
        self._max = max_addresses

    def hit(self, address: str, now: datetime, window: int, limit: int) -> Admission:
        """One call from `address` at `now`, admitted or not, and kept if admitted."""
        with self._lock:
            admission = admit(self._hits.get(address, ()), int(now.timestamp()), window, limit)
            if admission.admitted:
                self._hits[address] = admission.hits
                self._hits.move_to_end(address)
                if len(self._hits) > self._max:
                    self._hits.popitem(last=False)
            return admission
