"""Time-ordered opaque ids (UUIDv7 layout, hex without dashes)."""

from __future__ import annotations

import os
import time

MAX_ID_LENGTH = 64  # an id a request may name (ours are 32 hex digits)


def new_id() -> str:
    ms = time.time_ns() // 1_000_000
    rand = int.from_bytes(os.urandom(10), "big")
    value = (ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | (rand >> 4) & ((1 << 76) - 1)
    # set the RFC 4122 variant bits (10xx) in the 65th..66th bits
    value = (value & ~(0x3 << 62)) | (0x2 << 62)
    return f"{value:032x}"
