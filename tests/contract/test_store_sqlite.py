"""What only SQLite has: URLs, schema and pragmas, query plans, and real concurrency between
threads and processes sharing one database file."""

from __future__ import annotations

import ast
import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
from importlib import resources
from pathlib import Path

import pytest
from factories import (
    BASE,
    at,
    make_booking,
    make_code,
    make_notification,
    make_profile,
    make_subscription,
    make_user,
    make_window,
    port_methods,
    publish,
    request,
    role_ports,
)

import store_peek
from skillsession.adapters.store.sqlite import open_file, open_store
from skillsession.adapters.store.sqlite.admin import (
    ORPHAN_BOOKINGS,
    PROBLEMS_PER_KIND,
    SCHEMA_VERSION,
    SLOTS_AND_BOOKINGS,
)
from skillsession.adapters.store.sqlite.db import (
    AUTOCHECKPOINT_PAGES,
    AUTOCHECKPOINT_PAGES_WITH_UPKEEP,
)
from skillsession.domain.errors import SlotUnavailable
from skillsession.domain.model import (
    BookingStatus,
    DeliveryOutcome,
    Role,
    SlotStatus,
)
from skillsession.domain.skills import skill_key
from skillsession.ports.storage import Stores


@pytest.fixture
def db(tmp_path: Path) -> Iterator[Stores]:
    store = open_file(tmp_path / "store.admin.database.conn")
    store.admin.migrate()
    yield store
    store.admin.close()


# -- the package: one module per role over db.py -------------------------------------------
ROLE_MODULES = tuple(role_ports())


def _project_imports(module: str) -> set[str]:
    source = resources.files("skillsession.adapters.store.sqlite").joinpath(f"{module}.py")
    found = set()
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module.startswith("skillsession"):
            found |= {f"{node.module}.{alias.name}" for alias in node.names}
        elif isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("skillsession")}
    return found


def test_role_modules_use_only_the_shared_modules_and_the_layers_below():
    """No role module imports another (what they share is in db.py and rows.py), and nothing
    in the package imports the service or the HTTP layer."""
    shared = ("skillsession.adapters.store.sqlite.db.", "skillsession.adapters.store.sqlite.rows")
    below = ("skillsession.domain.", "skillsession.ports.", "skillsession.adapters.private.")
    for module in (*ROLE_MODULES, "db", "rows"):
        for name in _project_imports(module):
            assert name.startswith(shared + below), f"{module}.py imports {name}"


def test_each_role_has_every_method_of_its_port(db: Stores):
    ports = role_ports()
    assert set(ports) == set(ROLE_MODULES)
    for role, port in ports.items():
        wanted = port_methods(port)
        missing = {n for n in wanted if not callable(getattr(getattr(db, role), n, None))}
        assert not missing, (role, missing)


# -- URLs, schema, pragmas ------------------------------------------------------------------
def test_from_url_relative_and_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    relative = open_store("sqlite:///data/sub/app.db")
    assert (
        relative.admin.database.path == "data/sub/app.db" and (tmp_path / "data" / "sub").is_dir()
    )
    absolute = open_store(f"sqlite:///{tmp_path}/abs/app.db")
    assert absolute.admin.database.path == f"{tmp_path}/abs/app.db"
    absolute.admin.migrate()
    assert (tmp_path / "abs" / "app.db").exists()
    absolute.admin.close()
    with pytest.raises(ValueError):
        open_store("sqlite://")
    with pytest.raises(ValueError):
        open_store("postgres:///x.db")


def test_migrate_sets_the_version_and_is_idempotent(db: Stores):
    db.admin.migrate()
    assert db.admin.database.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    again = open_file(db.admin.database.path)
    again.admin.migrate()
    again.admin.close()
    tables = {
        r[0]
        for r in db.admin.database.conn.execute("SELECT name FROM sqlite_master WHERE type='table'")
    }
    assert {
        "users",
        "verification_codes",
        "rate_limits",
        "profiles",
        "tutor_skills",
        "availability",
        "slots",
        "bookings",
        "idempotency_keys",
        "notifications",
        "subscriptions",
        "slot_versions",
        "list_versions",
        "list_version_counter",
    } <= tables


def _downgrade(db: Stores, version: int) -> None:
    """Make `db` the file an older schema would have left: v7 had no subscriptions.provider_ref,
    v6 no token_floors, v5 no deleted_users, v4 no
    users.tokens_valid_after nor users_unconfirmed, v3 neither the failed notifications' index
    nor the subscriptions' confirm_token, v2 not the list version tables either, v1 neither
    slot_versions."""
    db.admin.database.conn.execute("ALTER TABLE subscriptions DROP COLUMN provider_ref")
    if version == 7:
        db.admin.database.conn.execute(f"PRAGMA user_version = {version}")
        db.admin.close()
        return
    db.admin.database.conn.execute("DROP TABLE token_floors")
    if version == 6:
        db.admin.database.conn.execute(f"PRAGMA user_version = {version}")
        db.admin.close()
        return
    db.admin.database.conn.execute("DROP TABLE deleted_users")
    if version == 5:
        db.admin.database.conn.execute(f"PRAGMA user_version = {version}")
        db.admin.close()
        return
    db.admin.database.conn.execute("DROP INDEX users_unconfirmed")
    db.admin.database.conn.execute("ALTER TABLE users DROP COLUMN tokens_valid_after")
    if version == 4:
        db.admin.database.conn.execute(f"PRAGMA user_version = {version}")
        db.admin.close()
        return
    db.admin.database.conn.execute("DROP INDEX notifications_failed")
    db.admin.database.conn.execute("ALTER TABLE subscriptions DROP COLUMN confirm_token")
    if version == 3:
        db.admin.database.conn.execute(f"PRAGMA user_version = {version}")
        db.admin.close()
        return
    db.admin.database.conn.execute("DROP TABLE list_versions")
    db.admin.database.conn.execute("DROP TABLE list_version_counter")
    if version < 2:
        db.admin.database.conn.execute("DROP TABLE slot_versions")
    db.admin.database.conn.execute(f"PRAGMA user_version = {version}")
    db.admin.close()


def test_migrate_upgrades_a_version_1_database(db: Stores):
    """v1 (before slot_versions) had the same tables and indexes but the versions: the upgrade
    keeps the data; tutors start at version 0."""
    _, slots = publish(db, "tutor", at(days=1), hours=2)
    _downgrade(db, 1)
    upgraded = open_file(db.admin.database.path)
    upgraded.admin.migrate()
    assert (
        upgraded.admin.database.conn.execute("PRAGMA user_version").fetchone()[0]
        == SCHEMA_VERSION
        == 8
    )
    assert store_peek.get_slot(upgraded, slots[0].slot_id) == slots[0]
    assert upgraded.versions.slot_version("tutor") == 0
    request(upgraded, slots[0])
    assert upgraded.versions.slot_version("tutor") == 1
    assert upgraded.versions.booking_list_version("tutor") == 1
    upgraded.admin.close()


def test_migrate_upgrades_a_version_7_database(db: Stores):
    """v7 (before the mailer's ref was kept with a subscription): the upgrade adds the column
    (NULL: none kept yet), keeping the subscriptions."""
    sub = make_subscription("user-1", "token-1")
    db.outbox.save_subscription(sub, None)
    _downgrade(db, 7)
    upgraded = open_file(db.admin.database.path)
    upgraded.admin.migrate()
    assert upgraded.admin.database.conn.execute("PRAGMA user_version").fetchone()[0] == 8
    assert upgraded.outbox.get_subscription("user-1") == sub
    upgraded.outbox.keep_subscription_ref("user-1", sub.email, "arn:aws:sns:x")
    assert upgraded.outbox.get_subscription("user-1").provider_ref == "arn:aws:sns:x"
    upgraded.admin.close()


def test_migrate_upgrades_a_version_6_database(db: Stores):
    """v6 (before the token floors of provider accounts): the upgrade adds token_floors."""
    db.accounts.delete_account("gone")
    _downgrade(db, 6)
    upgraded = open_file(db.admin.database.path)
    upgraded.admin.migrate()
    conn = upgraded.admin.database.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert upgraded.revocations.token_floor("gone") == (False, None)
    assert upgraded.revocations.token_floor("someone") == (True, None)
    upgraded.revocations.revoke_tokens("someone", at(minutes=1))
    assert upgraded.revocations.token_floor("someone") == (True, at(minutes=1))
    upgraded.admin.close()


def test_migrate_upgrades_a_version_5_database(db: Stores):
    """v5 (before account deletion): the upgrade adds deleted_users, keeping the accounts."""
    kept = make_user("kept@example.org")
    db.accounts.create_user(kept, make_code(kept.user_id), make_notification(kept.user_id))
    _downgrade(db, 5)
    upgraded = open_file(db.admin.database.path)
    upgraded.admin.migrate()
    assert (
        upgraded.admin.database.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    )
    assert upgraded.accounts.get_user_by_email("kept@example.org") == kept
    upgraded.accounts.delete_account(kept.user_id)
    assert upgraded.accounts.get_user_by_email("kept@example.org") is None
    assert upgraded.admin.check_consistency() == []
    upgraded.admin.close()


def test_migrate_upgrades_a_version_3_database(db: Stores):
    """v3 (before bounded outbox tries and split subscription tokens): the upgrade adds the
    confirm_token column and the failed index, keeping subscriptions and notifications."""
    sub = make_subscription("user-1", "token-1")
    note = make_notification("user-1")
    db.outbox.save_subscription(sub, note)
    db.outbox.claim_notifications(at(minutes=1), 10, 60)
    db.outbox.finish_notifications([DeliveryOutcome(note.notification_id, "failed", None, "550")])
    _downgrade(db, 3)
    upgraded = open_file(db.admin.database.path)
    upgraded.admin.migrate()
    assert (
        upgraded.admin.database.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    )
    assert upgraded.outbox.get_subscription("user-1") == replace(sub, confirm_token=None)
    assert upgraded.outbox.outbox_summary(at(minutes=1), 5).failed == 1
    plan = upgraded.admin.database.conn.execute(
        "EXPLAIN QUERY PLAN SELECT count(*) FROM notifications WHERE status = 'failed'"
    ).fetchall()
    assert "notifications_failed" in str(plan)
    upgraded.admin.close()


def test_migrate_upgrades_a_version_4_database(db: Stores):
    """v4 (before token revocation and the 7-day deletion): the upgrade adds the users'
    tokens_valid_after (NULL: no floor) and the partial index the deletion reads."""
    user = make_user("ann@example.org")
    db.accounts.create_user(user, make_code(user.user_id), make_notification(user.user_id))
    _downgrade(db, 4)
    upgraded = open_file(db.admin.database.path)
    upgraded.admin.migrate()
    conn = upgraded.admin.database.conn
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert upgraded.accounts.get_user(user.user_id) == user
    plan = conn.execute(
        "EXPLAIN QUERY PLAN SELECT user_id FROM users "
        "WHERE status = 'unconfirmed' AND created_at < 0 LIMIT 5"
    ).fetchall()
    assert "users_unconfirmed" in str(plan)
    upgraded.accounts.set_password(user.user_id, "h", at(minutes=1))
    assert upgraded.accounts.get_user(user.user_id).tokens_valid_after == at(minutes=1)
    upgraded.admin.close()


def test_migrate_upgrades_a_version_2_database(db: Stores):
    """v2 (before the booking list versions): the upgrade keeps the data and the slot versions;
    every user starts at list version 0, and the next booking or profile write moves it."""
    db.profiles.save_profile(make_profile("tutor"))
    _, slots = publish(db, "tutor", at(days=1), hours=2)
    booking = request(db, slots[0])
    slot_version = db.versions.slot_version("tutor")
    _downgrade(db, 2)
    upgraded = open_file(db.admin.database.path)
    upgraded.admin.migrate()
    assert (
        upgraded.admin.database.conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    )
    assert upgraded.bookings.get_booking(booking.booking_id) == booking
    assert upgraded.versions.slot_version("tutor") == slot_version
    assert upgraded.versions.booking_list_version("tutor") == 0
    assert upgraded.versions.booking_list_version(booking.student_id) == 0
    request(upgraded, slots[1], "student-2")
    assert upgraded.versions.booking_list_version("tutor") == 1
    assert upgraded.versions.booking_list_version("student-2") == 1
    assert upgraded.versions.booking_list_version(booking.student_id) == 0
    upgraded.profiles.save_profile(make_profile("student-2"))
    assert upgraded.versions.booking_list_version(booking.student_id) == 2
    again = open_file(db.admin.database.path)
    again.admin.migrate()  # now a no-op: the versions stay
    assert again.versions.booking_list_version("tutor") == 2
    again.admin.close()
    upgraded.admin.close()


def test_migrate_refuses_a_newer_schema(db: Stores):
    db.admin.database.conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError):
        db.admin.migrate()


def test_connection_pragmas(db: Stores):
    conn = db.admin.database.conn
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.isolation_level is None


def test_commits_checkpoint_until_the_upkeep_job_takes_over(db: Stores):
    before = db.admin.database.conn  # opened before the hand-over: changed too
    assert before.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == AUTOCHECKPOINT_PAGES
    job = db.admin.upkeep_job()
    with ThreadPoolExecutor(1) as pool:
        later = pool.submit(lambda: db.admin.database.conn).result()
    for conn in (before, later):
        limit = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert limit == AUTOCHECKPOINT_PAGES_WITH_UPKEEP
    database = Path(db.admin.database.path)
    size = database.stat().st_size
    publish(db, "tutor-1", at(48), hours=200)  # new pages go to the log, not the database
    assert database.stat().st_size == size
    with ThreadPoolExecutor(1) as pool:  # as the server runs it: in a thread
        pool.submit(job).result()
    assert database.stat().st_size > size  # copied into the database
    job()  # nothing left to copy: a no-op


def test_upkeep_checkpoints_while_other_connections_read_and_write(db: Stores):
    """Readers keep their snapshot, writers go on, every write lands; two jobs (two worker
    processes) may run at once."""
    job = db.admin.upkeep_job()
    other = open_file(db.admin.database.path)
    other_job = other.admin.upkeep_job()
    _, slots = publish(db, "tutor-1", at(48), hours=40)
    reader = sqlite3.connect(db.admin.database.path, isolation_level=None)
    reader.execute("BEGIN")
    seen = reader.execute("SELECT count(*) FROM bookings").fetchone()[0]
    stop = threading.Event()

    def checkpoints():
        while not stop.is_set():
            job()
            other_job()

    with ThreadPoolExecutor(2) as pool:
        running = [pool.submit(checkpoints), pool.submit(checkpoints)]
        for i, slot in enumerate(slots):
            request(db if i % 2 else other, slot, student_id=f"student-{i}")
        stop.set()
        for future in running:
            future.result()
    assert reader.execute("SELECT count(*) FROM bookings").fetchone()[0] == seen
    reader.execute("COMMIT")
    assert reader.execute("SELECT count(*) FROM bookings").fetchone()[0] == seen + len(slots)
    reader.close()
    other.admin.close()


def test_one_connection_per_thread(db: Stores):
    mine = db.admin.database.conn
    with ThreadPoolExecutor(1) as pool:
        theirs = pool.submit(lambda: db.admin.database.conn).result()
    assert mine is db.admin.database.conn and theirs is not mine


def test_failed_transaction_rolls_back(db: Stores):
    with pytest.raises(ZeroDivisionError), db.admin.database.tx() as conn:
        conn.execute("INSERT INTO rate_limits (key, window, hits) VALUES ('x', 1, 1)")
        raise ZeroDivisionError
    assert not db.admin.database.conn.in_transaction
    assert db.admin.database.conn.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 0


def test_schema_forbids_two_live_bookings_for_one_slot(db: Stores):
    _, slots = publish(db, "tutor", at(days=1))
    first = request(db, slots[0])
    twin = replace(first, booking_id="twin", student_id="other")
    insert = (
        "INSERT INTO bookings (booking_id, slot_id, tutor_id, student_id, booking_status, "
        'request_created_at, updated_at, start, "end") VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0)'
    )
    params = (twin.booking_id, twin.slot_id, twin.tutor_id, twin.student_id)
    with pytest.raises(sqlite3.IntegrityError):
        db.admin.database.conn.execute(insert, (*params, "accepted"))
    db.admin.database.conn.execute(insert, (*params, "rejected"))  # history is fine
    with pytest.raises(sqlite3.IntegrityError):  # a booking needs its slot
        db.admin.database.conn.execute(insert, ("ghost", "no-slot", "t", "s", "rejected"))


def test_consistency_check_reports_each_kind_of_damage(db: Stores):
    _, slots = publish(db, "tutor", at(days=1), hours=4)
    pending = request(db, slots[0])
    request(db, slots[1])
    conn = db.admin.database.conn
    conn.execute(
        "UPDATE slots SET slot_status = 'available' WHERE slot_id = ?", (slots[0].slot_id,)
    )
    conn.execute("UPDATE slots SET slot_status = 'booked' WHERE slot_id = ?", (slots[2].slot_id,))
    conn.execute("UPDATE slots SET slot_status = 'pending' WHERE slot_id = ?", (slots[3].slot_id,))
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("UPDATE bookings SET slot_id = 'gone' WHERE booking_id = ?", (pending.booking_id,))
    problems = db.admin.check_consistency()
    assert any(p.startswith("booking whose slot is missing") for p in problems)
    assert any(p.startswith("booked slot without") for p in problems)
    assert any(p.startswith("pending slot without") for p in problems)
    conn.execute(
        "UPDATE bookings SET slot_id = ? WHERE booking_id = ?",
        (slots[0].slot_id, pending.booking_id),
    )
    assert any(
        p.startswith("pending booking whose slot is not pending")
        for p in db.admin.check_consistency()
    )


def test_consistency_check_names_each_problem_once_and_bounds_each_kind(db: Stores):
    """The scan hands each slot with its bookings to the invariants: an accepted booking on a
    pending slot, and two live bookings on one slot (past the schema's guard), come out as the
    `check` command prints them; a kind with many problems is cut at PROBLEMS_PER_KIND."""
    _, slots = publish(db, "tutor", at(days=1), hours=PROBLEMS_PER_KIND + 20)
    accepted = request(db, slots[0])
    pending = frozenset({BookingStatus.PENDING})
    db.bookings.transition_booking(
        accepted.booking_id, pending, BookingStatus.ACCEPTED, SlotStatus.BOOKED, BASE, None,
        None, True,
    )  # fmt: skip
    request(db, slots[1])
    conn = db.admin.database.conn
    conn.execute("UPDATE slots SET slot_status = 'pending' WHERE slot_id = ?", (slots[0].slot_id,))
    conn.execute("DROP INDEX one_live_booking_per_slot")
    conn.execute(
        "UPDATE slots SET slot_status = 'available' WHERE slot_id = ?", (slots[1].slot_id,)
    )
    request(db, slots[1], "student-2")  # a second pending booking of slot 1
    assert sorted(db.admin.check_consistency()) == sorted(
        [
            f"accepted booking whose slot is not booked: {accepted.booking_id}",
            f"pending slot without a pending booking: {slots[0].slot_id}",
            f"slot with more than one live booking: {slots[1].slot_id}",
        ]
    )
    lone = [(s.slot_id,) for s in slots[2:]]
    conn.executemany("UPDATE slots SET slot_status = 'pending' WHERE slot_id = ?", lone)
    problems = db.admin.check_consistency()
    assert sum(p.startswith("pending slot without") for p in problems) == PROBLEMS_PER_KIND
    assert len(problems) == PROBLEMS_PER_KIND + 2


# -- query plans ----------------------------------------------------------------------------
def exercise_every_access_pattern(store: Stores) -> None:
    """Call every request-path method once (with and without its optional filters)."""
    user = make_user()
    store.accounts.create_user(user, make_code(user.user_id), make_notification(user.user_id))
    store_peek.get_user(store, user.user_id)
    store.accounts.get_user_by_email(user.email)
    store.accounts.get_user_and_code_by_email(user.email)
    store.accounts.replace_verification_code(
        make_code(user.user_id), make_notification(user.user_id)
    )
    store_peek.get_verification_code(store, user.user_id)
    store.accounts.record_code_failure(user.user_id)
    store.accounts.confirm_user(user.user_id)
    store.rate_limits.hit("k", BASE, 60, 5)
    store.rate_limits.hit("k", at(minutes=5), 60, 5)
    store.rate_limits.clear("k")
    tutor = make_profile(skills=["Go", "Rust"])
    student = make_profile(role=Role.STUDENT)
    store.profiles.save_profile(tutor)
    store.profiles.save_profile(student)
    store.profiles.get_profile(tutor.user_id)
    store.profiles.get_profile_by_email(tutor.email)
    store.profiles.get_profiles([tutor.user_id, student.user_id])
    store.profiles.set_profile_image(tutor.user_id, "img")
    window, slots = publish(store, tutor.user_id, at(days=1), hours=4)
    publish(store, tutor.user_id, at(days=2), hours=4)
    store.slots.get_availability(window.availability_id)
    keys = [skill_key("go"), skill_key("rust")]
    store.profiles.search_tutors(keys, None, 10, None)
    store.profiles.search_tutors(keys, (BASE, at(days=3)), 10, tutor.user_id[:-1])
    store_peek.get_slot(store, slots[0].slot_id)
    store.versions.slot_version(tutor.user_id)
    store.slots.slots_for_tutor(tutor.user_id, BASE, at(days=30), None)
    store.slots.slots_for_tutor(tutor.user_id, BASE, at(days=30), SlotStatus.AVAILABLE)
    booking = request(store, slots[0], student.user_id, key="key")
    request(store, slots[0], student.user_id, key="key")
    store.bookings.get_booking(booking.booking_id)
    store.bookings.transition_booking(
        booking.booking_id,
        frozenset({BookingStatus.PENDING}),
        BookingStatus.ACCEPTED,
        SlotStatus.BOOKED,
        BASE,
        "ok",
        make_notification(),
        True,
    )
    store.bookings.has_accepted_booking(tutor.user_id, student.user_id)
    for fetch, party in (
        (store.bookings.bookings_for_tutor, tutor.user_id),
        (store.bookings.bookings_for_student, student.user_id),
    ):
        fetch(party, None, None, None, 10, None)
        fetch(party, BookingStatus.PENDING, None, None, 10, None)
        fetch(party, None, BASE, at(days=9), 10, (at(days=1), "b"))
        fetch(party, BookingStatus.ACCEPTED, BASE, at(days=9), 10, (at(days=1), "b"))
    request(store, slots[1], student.user_id)
    store.bookings.expire(at(days=1, hours=2), 10, lambda b: make_notification(b.student_id))
    store_peek.add_notifications(store, [make_notification()])
    claimed = store.outbox.claim_notifications(at(days=1), 10, 60)
    store.outbox.finish_notifications([DeliveryOutcome(claimed[0].notification_id, "sent")])
    store_peek.get_notification(store, claimed[0].notification_id)
    store.outbox.save_subscription(make_subscription(user.user_id, "tok"), make_notification())
    store.outbox.get_subscription(user.user_id)
    store.outbox.get_subscription_by_token("tok")
    store.outbox.confirm_subscription(user.user_id, "user.confirm")
    store.outbox.end_subscription(user.user_id)
    spare, _ = publish(store, tutor.user_id, at(days=5))
    store.slots.delete_availability(spare.availability_id)


def test_no_request_path_query_scans_a_table(db: Stores):
    statements: list[str] = []
    db.admin.database.conn.set_trace_callback(statements.append)
    exercise_every_access_pattern(db)
    db.admin.database.conn.set_trace_callback(None)
    queries = {
        s
        for s in statements
        if s.lstrip().split()[0].upper() in ("SELECT", "UPDATE", "DELETE", "INSERT", "WITH")
    }
    assert len(queries) > 40
    scans = {}
    for sql in queries:
        plan = [row[3] for row in db.admin.database.conn.execute(f"EXPLAIN QUERY PLAN {sql}")]
        bad = [step for step in plan if step.startswith("SCAN") and step != "SCAN CONSTANT ROW"]
        if bad:
            scans[sql] = plan
    assert scans == {}


def test_plans_use_the_intended_indexes(db: Stores):
    def plan(sql: str) -> str:
        return " | ".join(
            row[3] for row in db.admin.database.conn.execute(f"EXPLAIN QUERY PLAN {sql}")
        )

    expire_slots = plan(
        "SELECT slot_id FROM slots WHERE slot_status = 'available' AND start <= 5 "
        "ORDER BY start LIMIT 10"
    )
    assert "slots_available_due" in expire_slots and "TEMP B-TREE" not in expire_slots
    expire_pending = plan(
        "SELECT booking_id FROM bookings WHERE booking_status = 'pending' AND start <= 5 "
        "ORDER BY start LIMIT 10"
    )
    assert "bookings_pending_due" in expire_pending
    complete = plan(
        "SELECT booking_id FROM bookings WHERE booking_status = 'accepted' AND \"end\" <= 5 "
        'ORDER BY "end" LIMIT 10'
    )
    assert "bookings_accepted_due" in complete
    outbox = plan(
        "SELECT notification_id FROM notifications WHERE status = 'pending' "
        "AND next_attempt_at <= 5 ORDER BY next_attempt_at LIMIT 10"
    )
    assert "notifications_due" in outbox and "TEMP B-TREE" not in outbox
    pages = plan(
        "SELECT booking_id FROM bookings WHERE tutor_id = 't' AND (start, booking_id) > (1, 'b') "
        "ORDER BY start, booking_id LIMIT 10"
    )
    assert "bookings_by_tutor" in pages and "TEMP B-TREE" not in pages
    overlap = plan(
        "SELECT availability_id FROM availability WHERE tutor_id = 't' AND deleted = 0 "
        "AND start < 5 ORDER BY start DESC LIMIT 1"
    )
    assert "availability_live_by_tutor" in overlap and "TEMP B-TREE" not in overlap
    version = plan("SELECT version FROM slot_versions WHERE tutor_id = 't'")
    assert version == "SEARCH slot_versions USING PRIMARY KEY (tutor_id=?)"
    lists = plan("SELECT max(version) FROM list_versions WHERE owner IN ('u', '')")
    assert lists == "SEARCH list_versions USING PRIMARY KEY (owner=?)"
    # the consistency scan streams: slots in primary-key order, no sort, bookings by index
    scan = plan(SLOTS_AND_BOOKINGS.format(suspects="'pending', 'booked'"))
    assert scan == ("SCAN s | SEARCH b USING INDEX bookings_by_slot (slot_id=?) LEFT-JOIN"), scan
    assert "SEARCH s USING PRIMARY KEY (slot_id=?)" in plan(ORPHAN_BOOKINGS)


# -- concurrency ----------------------------------------------------------------------------
def _attempt(store: Stores, slot_id: str, student_id: str, barrier) -> str:
    slot = store_peek.get_slot(store, slot_id)
    booking = make_booking(slot, student_id)
    note = make_notification(slot.tutor_id, "booking_requested")
    barrier.wait(timeout=120)
    try:
        store.bookings.request_booking(booking, note, BASE)
        return "won"
    except SlotUnavailable:
        return "unavailable"
    except Exception as exc:  # reported to the parent, which fails the test
        return repr(exc)


def _contend_in_process(path: str, slot_id: str, threads: int, barrier, results) -> None:
    """Runs in a spawned process: its own Stores on the same file, several threads."""
    store = open_file(path)
    with ThreadPoolExecutor(threads) as pool:
        outcomes = pool.map(
            lambda i: _attempt(store, slot_id, f"proc-student-{slot_id}-{i}", barrier),
            range(threads),
        )
        for outcome in outcomes:
            results.put(outcome)
    store.admin.close()


THREADS, PROCESSES, THREADS_PER_PROCESS = 20, 3, 4


def test_threads_and_processes_race_for_one_slot(db: Stores):
    _, slots = publish(db, "tutor", at(days=1), hours=2)
    slot_id = slots[0].slot_id
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(THREADS + PROCESSES * THREADS_PER_PROCESS)
    queue = ctx.Queue()
    processes = [
        ctx.Process(
            target=_contend_in_process,
            args=(db.admin.database.path, slot_id, THREADS_PER_PROCESS, barrier, queue),
        )
        for _ in range(PROCESSES)
    ]
    for process in processes:
        process.start()
    with ThreadPoolExecutor(THREADS) as pool:
        local = list(
            pool.map(lambda i: _attempt(db, slot_id, f"student-{i}", barrier), range(THREADS))
        )
    remote = [queue.get(timeout=120) for _ in range(PROCESSES * THREADS_PER_PROCESS)]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    outcomes = sorted(local + remote)
    assert outcomes.count("won") == 1, outcomes
    assert outcomes.count("unavailable") == len(outcomes) - 1, outcomes
    assert store_peek.get_slot(db, slot_id).slot_status == SlotStatus.PENDING
    assert len(db.bookings.bookings_for_tutor("tutor", None, None, None, 100, None)) == 1
    assert db.admin.check_consistency() == []


def test_accept_and_reject_race_exactly_one_wins(db: Stores):
    _, slots = publish(db, "tutor", at(days=1), hours=8)
    bookings = [request(db, slot, f"student-{i}") for i, slot in enumerate(slots)]
    barrier = threading.Barrier(2 * len(bookings))
    outcomes = {
        BookingStatus.ACCEPTED: SlotStatus.BOOKED,
        BookingStatus.REJECTED: SlotStatus.AVAILABLE,
    }

    def answer(booking, to_status):
        barrier.wait(timeout=60)
        pending = frozenset({BookingStatus.PENDING})
        note = make_notification(booking.student_id)
        return db.bookings.transition_booking(
            booking.booking_id, pending, to_status, outcomes[to_status], BASE, None, note, True
        )

    with ThreadPoolExecutor(2 * len(bookings)) as pool:
        futures = [(pool.submit(answer, b, to), to) for b in bookings for to in outcomes]
        winners = [to for future, to in futures if future.result() is not None]
    assert len(winners) == len(bookings)
    for booking, slot in zip(bookings, slots, strict=True):
        final = db.bookings.get_booking(booking.booking_id).booking_status
        assert final in outcomes
        assert store_peek.get_slot(db, slot.slot_id).slot_status == outcomes[final]
    assert db.admin.check_consistency() == []


def test_concurrent_expiry_changes_each_row_once(db: Stores):
    _, slots = publish(db, "tutor", at(hours=1), hours=24, slot_minutes=30)
    for slot in slots[:16]:
        request(db, slot)
    now = at(days=2)
    notices: list[str] = []
    lock = threading.Lock()

    def notify(booking):
        with lock:
            notices.append(booking.booking_id)
        return make_notification(booking.student_id, "booking_expired")

    def run_job(_):
        total = [0, 0]
        while True:
            result = db.bookings.expire(now, 3, notify)
            total[0] += result.slots_expired
            total[1] += result.bookings_expired
            if result.slots_expired == result.bookings_expired == 0:
                return total

    with ThreadPoolExecutor(4) as pool:
        totals = list(pool.map(run_job, range(4)))
    assert sum(t[0] for t in totals) == len(slots) - 16
    assert sum(t[1] for t in totals) == 16
    assert len(notices) == len(set(notices)) == 16
    kinds = [n.kind for n in db.outbox.claim_notifications(at(days=3), 100, 60)]
    assert kinds.count("booking_expired") == 16
    assert db.admin.check_consistency() == []


def test_concurrent_claims_never_share_a_notification(db: Stores):
    store_peek.add_notifications(
        db, [make_notification(due=BASE - timedelta(seconds=i)) for i in range(60)]
    )
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: db.outbox.claim_notifications(BASE, 5, 300), range(12)))
    ids = [n.notification_id for claim in claims for n in claim]
    assert len(ids) == len(set(ids)) == 60
    assert db.outbox.claim_notifications(BASE, 5, 300) == []


def test_bulk_insert_and_contract_share_one_file_across_stores(db: Stores):
    user = make_user()
    window, slots = make_window(user.user_id, at(days=1), at(days=1, hours=2))
    db.admin.bulk_insert([user], [make_profile(user.user_id, skills=["Go"])], [window], slots)
    other = open_file(db.admin.database.path)
    assert store_peek.get_slot(other, slots[1].slot_id) == slots[1]
    request(other, slots[1])
    other.admin.close()
    assert store_peek.get_slot(db, slots[1].slot_id).slot_status == SlotStatus.PENDING
