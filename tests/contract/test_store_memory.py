"""What is particular to the memory store: its consistency scan finds damage planted in its dicts
(the contract suite only ever sees it clean), and its package stays one module per role over
`state.py`, each role object having exactly its port's methods."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest
from factories import at, port_methods, publish, request, role_ports

from skillsession.adapters.store import memory
from skillsession.domain.model import BookingStatus, SlotStatus

PACKAGE = Path(memory.__file__).parent
ROLE_PORTS = role_ports()


def test_the_consistency_scan_finds_damage_in_the_dicts():
    stores = memory.open_store()
    _, slots = publish(stores, "tutor", at(days=1), hours=5)
    pending = request(stores, slots[0])
    other = request(stores, slots[1])
    assert stores.admin.check_consistency() == []
    state = stores.admin.state
    state.slots[slots[0].slot_id].slot_status = SlotStatus.AVAILABLE
    state.slots[slots[2].slot_id].slot_status = SlotStatus.BOOKED
    state.slots[slots[3].slot_id].slot_status = SlotStatus.PENDING
    state.bookings[other.booking_id].slot_id = "gone"
    state.bookings[other.booking_id].booking_status = BookingStatus.ACCEPTED
    assert sorted(stores.admin.check_consistency()) == sorted(
        [
            f"booking whose slot is missing: {other.booking_id}",
            f"pending booking whose slot is not pending: {pending.booking_id}",
            f"booked slot without an accepted or completed booking: {slots[2].slot_id}",
            f"pending slot without a pending booking: {slots[1].slot_id}",
            f"pending slot without a pending booking: {slots[3].slot_id}",
        ]
    )
    state.bookings[other.booking_id].slot_id = slots[0].slot_id
    state.slots[slots[0].slot_id].slot_status = SlotStatus.PENDING
    assert f"slot with more than one live booking: {slots[0].slot_id}" in (
        stores.admin.check_consistency()
    )


@pytest.mark.parametrize("role", sorted(ROLE_PORTS))
def test_each_role_object_has_its_port_methods_and_no_more(role):
    found = getattr(memory.open_store(), role)
    public = {n for n in dir(found) if not n.startswith("_") and callable(getattr(found, n))}
    assert public == port_methods(ROLE_PORTS[role])


def test_role_modules_import_only_the_shared_state_and_nothing_above_the_ports():
    for module in PACKAGE.glob("*.py"):
        if module.name == "__init__.py":
            continue
        imported = {
            node.module
            for node in ast.walk(ast.parse(module.read_text()))
            if isinstance(node, ast.ImportFrom) and node.module
        }
        ours = {m for m in imported if m.startswith("skillsession.")}
        allowed = ("skillsession.domain.", "skillsession.ports.")
        assert {m for m in ours if not m.startswith(allowed)} <= {
            "skillsession.adapters.store.memory.state"
        }, module.name
