"""What only SQLite has: URLs, schema and pragmas, query plans, and real concurrency between
threads and processes sharing one database file."""

from __future__ import annotations

import multiprocessing
import sqlite3
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import timedelta
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
    publish,
    request,
)

from skillsession.adapters.store.sqlite import (
    AUTOCHECKPOINT_PAGES,
    AUTOCHECKPOINT_PAGES_WITH_UPKEEP,
    SCHEMA_VERSION,
    SqliteStore,
)
from skillsession.domain.errors import SlotUnavailable
from skillsession.domain.model import (
    BookingStatus,
    DeliveryOutcome,
    Role,
    SlotStatus,
)
from skillsession.domain.skills import skill_key


@pytest.fixture
def db(tmp_path: Path) -> Iterator[SqliteStore]:
    store = SqliteStore(tmp_path / "store.db")
    store.migrate()
    yield store
    store.close()


# -- URLs, schema, pragmas ------------------------------------------------------------------
def test_from_url_relative_and_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    relative = SqliteStore.from_url("sqlite:///data/sub/app.db")
    assert relative.path == "data/sub/app.db" and (tmp_path / "data" / "sub").is_dir()
    absolute = SqliteStore.from_url(f"sqlite:///{tmp_path}/abs/app.db")
    assert absolute.path == f"{tmp_path}/abs/app.db"
    absolute.migrate()
    assert (tmp_path / "abs" / "app.db").exists()
    absolute.close()
    with pytest.raises(ValueError):
        SqliteStore.from_url("sqlite://")
    with pytest.raises(ValueError):
        SqliteStore.from_url("postgres:///x.db")


def test_migrate_sets_the_version_and_is_idempotent(db: SqliteStore):
    db.migrate()
    assert db.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    again = SqliteStore(db.path)
    again.migrate()
    again.close()
    tables = {r[0] for r in db.db.execute("SELECT name FROM sqlite_master WHERE type='table'")}
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


def _downgrade(db: SqliteStore, version: int) -> None:
    """Make `db` the file an older schema would have left: v3 had neither the failed
    notifications' index nor the subscriptions' confirm_token, v2 not the list version tables
    either, v1 neither slot_versions."""
    db.db.execute("DROP INDEX notifications_failed")
    db.db.execute("ALTER TABLE subscriptions DROP COLUMN confirm_token")
    if version == 3:
        db.db.execute(f"PRAGMA user_version = {version}")
        db.close()
        return
    db.db.execute("DROP TABLE list_versions")
    db.db.execute("DROP TABLE list_version_counter")
    if version < 2:
        db.db.execute("DROP TABLE slot_versions")
    db.db.execute(f"PRAGMA user_version = {version}")
    db.close()


def test_migrate_upgrades_a_version_1_database(db: SqliteStore):
    """v1 (before slot_versions) had the same tables and indexes but the versions: the upgrade
    keeps the data; tutors start at version 0."""
    _, slots = publish(db, "tutor", at(days=1), hours=2)
    _downgrade(db, 1)
    upgraded = SqliteStore(db.path)
    upgraded.migrate()
    assert upgraded.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
    assert upgraded.get_slot(slots[0].slot_id) == slots[0]
    assert upgraded.slot_version("tutor") == 0
    request(upgraded, slots[0])
    assert upgraded.slot_version("tutor") == 1
    assert upgraded.booking_list_version("tutor") == 1
    upgraded.close()


def test_migrate_upgrades_a_version_3_database(db: SqliteStore):
    """v3 (before bounded outbox tries and split subscription tokens): the upgrade adds the
    confirm_token column and the failed index, keeping subscriptions and notifications."""
    sub = make_subscription("user-1", "token-1")
    note = make_notification("user-1")
    db.save_subscription(sub, note)
    db.claim_notifications(at(minutes=1), 10, 60)
    db.finish_notifications([DeliveryOutcome(note.notification_id, "failed", None, "550")])
    _downgrade(db, 3)
    upgraded = SqliteStore(db.path)
    upgraded.migrate()
    assert upgraded.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert upgraded.get_subscription("user-1") == replace(sub, confirm_token=None)
    assert upgraded.outbox_summary(at(minutes=1), 5).failed == 1
    plan = upgraded.db.execute(
        "EXPLAIN QUERY PLAN SELECT count(*) FROM notifications WHERE status = 'failed'"
    ).fetchall()
    assert "notifications_failed" in str(plan)
    upgraded.close()


def test_migrate_upgrades_a_version_2_database(db: SqliteStore):
    """v2 (before the booking list versions): the upgrade keeps the data and the slot versions;
    every user starts at list version 0, and the next booking or profile write moves it."""
    db.save_profile(make_profile("tutor"))
    _, slots = publish(db, "tutor", at(days=1), hours=2)
    booking = request(db, slots[0])
    slot_version = db.slot_version("tutor")
    _downgrade(db, 2)
    upgraded = SqliteStore(db.path)
    upgraded.migrate()
    assert upgraded.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    assert upgraded.get_booking(booking.booking_id) == booking
    assert upgraded.slot_version("tutor") == slot_version
    assert upgraded.booking_list_version("tutor") == 0
    assert upgraded.booking_list_version(booking.student_id) == 0
    request(upgraded, slots[1], "student-2")
    assert upgraded.booking_list_version("tutor") == 1
    assert upgraded.booking_list_version("student-2") == 1
    assert upgraded.booking_list_version(booking.student_id) == 0
    upgraded.save_profile(make_profile("student-2"))
    assert upgraded.booking_list_version(booking.student_id) == 2
    again = SqliteStore(db.path)
    again.migrate()  # now a no-op: the versions stay
    assert again.booking_list_version("tutor") == 2
    again.close()
    upgraded.close()


def test_migrate_refuses_a_newer_schema(db: SqliteStore):
    db.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    with pytest.raises(RuntimeError):
        db.migrate()


def test_connection_pragmas(db: SqliteStore):
    conn = db.db
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert conn.execute("PRAGMA busy_timeout").fetchone()[0] == 10000
    assert conn.execute("PRAGMA synchronous").fetchone()[0] == 1  # NORMAL
    assert conn.isolation_level is None


def test_commits_checkpoint_until_the_upkeep_job_takes_over(db: SqliteStore):
    before = db.db  # opened before the hand-over: changed too
    assert before.execute("PRAGMA wal_autocheckpoint").fetchone()[0] == AUTOCHECKPOINT_PAGES
    job = db.upkeep_job()
    with ThreadPoolExecutor(1) as pool:
        later = pool.submit(lambda: db.db).result()
    for conn in (before, later):
        limit = conn.execute("PRAGMA wal_autocheckpoint").fetchone()[0]
        assert limit == AUTOCHECKPOINT_PAGES_WITH_UPKEEP
    database = Path(db.path)
    size = database.stat().st_size
    publish(db, "tutor-1", at(48), hours=200)  # new pages go to the log, not the database
    assert database.stat().st_size == size
    with ThreadPoolExecutor(1) as pool:  # as the server runs it: in a thread
        pool.submit(job).result()
    assert database.stat().st_size > size  # copied into the database
    job()  # nothing left to copy: a no-op


def test_upkeep_checkpoints_while_other_connections_read_and_write(db: SqliteStore):
    """Readers keep their snapshot, writers go on, every write lands; two jobs (two worker
    processes) may run at once."""
    job = db.upkeep_job()
    other = SqliteStore(db.path)
    other_job = other.upkeep_job()
    _, slots = publish(db, "tutor-1", at(48), hours=40)
    reader = sqlite3.connect(db.path, isolation_level=None)
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
    other.close()


def test_one_connection_per_thread(db: SqliteStore):
    mine = db.db
    with ThreadPoolExecutor(1) as pool:
        theirs = pool.submit(lambda: db.db).result()
    assert mine is db.db and theirs is not mine


def test_failed_transaction_rolls_back(db: SqliteStore):
    with pytest.raises(ZeroDivisionError), db._tx() as conn:
        conn.execute("INSERT INTO rate_limits (key, window, hits) VALUES ('x', 1, 1)")
        raise ZeroDivisionError
    assert not db.db.in_transaction
    assert db.db.execute("SELECT count(*) FROM rate_limits").fetchone()[0] == 0


def test_schema_forbids_two_live_bookings_for_one_slot(db: SqliteStore):
    _, slots = publish(db, "tutor", at(days=1))
    first = request(db, slots[0])
    twin = replace(first, booking_id="twin", student_id="other")
    insert = (
        "INSERT INTO bookings (booking_id, slot_id, tutor_id, student_id, booking_status, "
        'request_created_at, updated_at, start, "end") VALUES (?, ?, ?, ?, ?, 0, 0, 0, 0)'
    )
    params = (twin.booking_id, twin.slot_id, twin.tutor_id, twin.student_id)
    with pytest.raises(sqlite3.IntegrityError):
        db.db.execute(insert, (*params, "accepted"))
    db.db.execute(insert, (*params, "rejected"))  # history is fine
    with pytest.raises(sqlite3.IntegrityError):  # a booking needs its slot
        db.db.execute(insert, ("ghost", "no-slot", "t", "s", "rejected"))


def test_consistency_check_reports_each_kind_of_damage(db: SqliteStore):
    _, slots = publish(db, "tutor", at(days=1), hours=4)
    pending = request(db, slots[0])
    request(db, slots[1])
    conn = db.db
    conn.execute(
        "UPDATE slots SET slot_status = 'available' WHERE slot_id = ?", (slots[0].slot_id,)
    )
    conn.execute("UPDATE slots SET slot_status = 'booked' WHERE slot_id = ?", (slots[2].slot_id,))
    conn.execute("UPDATE slots SET slot_status = 'pending' WHERE slot_id = ?", (slots[3].slot_id,))
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("UPDATE bookings SET slot_id = 'gone' WHERE booking_id = ?", (pending.booking_id,))
    problems = db.check_consistency()
    assert any(p.startswith("booking whose slot is missing") for p in problems)
    assert any(p.startswith("booked slot without") for p in problems)
    assert any(p.startswith("pending slot without") for p in problems)
    conn.execute(
        "UPDATE bookings SET slot_id = ? WHERE booking_id = ?",
        (slots[0].slot_id, pending.booking_id),
    )
    assert any(
        p.startswith("pending booking whose slot is not pending") for p in db.check_consistency()
    )


# -- query plans ----------------------------------------------------------------------------
def exercise_every_access_pattern(store: SqliteStore) -> None:
    """Call every request-path method once (with and without its optional filters)."""
    user = make_user()
    store.create_user(user, make_code(user.user_id), make_notification(user.user_id))
    store.get_user(user.user_id)
    store.get_user_by_email(user.email)
    store.replace_verification_code(make_code(user.user_id), make_notification(user.user_id))
    store.get_verification_code(user.user_id)
    store.record_code_failure(user.user_id)
    store.confirm_user(user.user_id)
    store.hit_rate_limit("k", BASE, 60, 5)
    store.hit_rate_limit("k", at(minutes=5), 60, 5)
    store.clear_rate_limit("k")
    tutor = make_profile(skills=["Go", "Rust"])
    student = make_profile(role=Role.STUDENT)
    store.save_profile(tutor)
    store.save_profile(student)
    store.get_profile(tutor.user_id)
    store.get_profile_by_email(tutor.email)
    store.get_profiles([tutor.user_id, student.user_id])
    store.set_profile_image(tutor.user_id, "img")
    window, slots = publish(store, tutor.user_id, at(days=1), hours=4)
    publish(store, tutor.user_id, at(days=2), hours=4)
    store.get_availability(window.availability_id)
    keys = [skill_key("go"), skill_key("rust")]
    store.search_tutors(keys, None, 10, None)
    store.search_tutors(keys, (BASE, at(days=3)), 10, tutor.user_id[:-1])
    store.get_slot(slots[0].slot_id)
    store.slot_version(tutor.user_id)
    store.slots_for_tutor(tutor.user_id, BASE, at(days=30), None)
    store.slots_for_tutor(tutor.user_id, BASE, at(days=30), SlotStatus.AVAILABLE)
    booking = request(store, slots[0], student.user_id, key="key")
    request(store, slots[0], student.user_id, key="key")
    store.get_booking(booking.booking_id)
    store.transition_booking(
        booking.booking_id,
        frozenset({BookingStatus.PENDING}),
        BookingStatus.ACCEPTED,
        SlotStatus.BOOKED,
        BASE,
        "ok",
        make_notification(),
        True,
    )
    store.has_accepted_booking(tutor.user_id, student.user_id)
    for fetch, party in (
        (store.bookings_for_tutor, tutor.user_id),
        (store.bookings_for_student, student.user_id),
    ):
        fetch(party, None, None, None, 10, None)
        fetch(party, BookingStatus.PENDING, None, None, 10, None)
        fetch(party, None, BASE, at(days=9), 10, (at(days=1), "b"))
        fetch(party, BookingStatus.ACCEPTED, BASE, at(days=9), 10, (at(days=1), "b"))
    request(store, slots[1], student.user_id)
    store.expire(at(days=1, hours=2), 10, lambda b: make_notification(b.student_id))
    store.add_notifications([make_notification()])
    claimed = store.claim_notifications(at(days=1), 10, 60)
    store.finish_notifications([DeliveryOutcome(claimed[0].notification_id, "sent")])
    store.get_notification(claimed[0].notification_id)
    store.save_subscription(make_subscription(user.user_id, "tok"), make_notification())
    store.get_subscription(user.user_id)
    store.get_subscription_by_token("tok")
    store.confirm_subscription(user.user_id, "user.confirm")
    store.end_subscription(user.user_id)
    spare, _ = publish(store, tutor.user_id, at(days=5))
    store.delete_availability(spare.availability_id)


def test_no_request_path_query_scans_a_table(db: SqliteStore):
    statements: list[str] = []
    db.db.set_trace_callback(statements.append)
    exercise_every_access_pattern(db)
    db.db.set_trace_callback(None)
    queries = {
        s
        for s in statements
        if s.lstrip().split()[0].upper() in ("SELECT", "UPDATE", "DELETE", "INSERT", "WITH")
    }
    assert len(queries) > 40
    scans = {}
    for sql in queries:
        plan = [row[3] for row in db.db.execute(f"EXPLAIN QUERY PLAN {sql}")]
        bad = [step for step in plan if step.startswith("SCAN") and step != "SCAN CONSTANT ROW"]
        if bad:
            scans[sql] = plan
    assert scans == {}


def test_plans_use_the_intended_indexes(db: SqliteStore):
    def plan(sql: str) -> str:
        return " | ".join(row[3] for row in db.db.execute(f"EXPLAIN QUERY PLAN {sql}"))

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


# -- concurrency ----------------------------------------------------------------------------
def _attempt(store: SqliteStore, slot_id: str, student_id: str, barrier) -> str:
    slot = store.get_slot(slot_id)
    booking = make_booking(slot, student_id)
    note = make_notification(slot.tutor_id, "booking_requested")
    barrier.wait(timeout=120)
    try:
        store.request_booking(booking, note, BASE)
        return "won"
    except SlotUnavailable:
        return "unavailable"
    except Exception as exc:  # reported to the parent, which fails the test
        return repr(exc)


def _contend_in_process(path: str, slot_id: str, threads: int, barrier, results) -> None:
    """Runs in a spawned process: its own SqliteStore on the same file, several threads."""
    store = SqliteStore(path)
    with ThreadPoolExecutor(threads) as pool:
        outcomes = pool.map(
            lambda i: _attempt(store, slot_id, f"proc-student-{slot_id}-{i}", barrier),
            range(threads),
        )
        for outcome in outcomes:
            results.put(outcome)
    store.close()


THREADS, PROCESSES, THREADS_PER_PROCESS = 20, 3, 4


def test_threads_and_processes_race_for_one_slot(db: SqliteStore):
    _, slots = publish(db, "tutor", at(days=1), hours=2)
    slot_id = slots[0].slot_id
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(THREADS + PROCESSES * THREADS_PER_PROCESS)
    queue = ctx.Queue()
    processes = [
        ctx.Process(
            target=_contend_in_process,
            args=(db.path, slot_id, THREADS_PER_PROCESS, barrier, queue),
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
    assert db.get_slot(slot_id).slot_status == SlotStatus.PENDING
    assert len(db.bookings_for_tutor("tutor", None, None, None, 100, None)) == 1
    assert db.check_consistency() == []


def test_accept_and_reject_race_exactly_one_wins(db: SqliteStore):
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
        return db.transition_booking(
            booking.booking_id, pending, to_status, outcomes[to_status], BASE, None, note, True
        )

    with ThreadPoolExecutor(2 * len(bookings)) as pool:
        futures = [(pool.submit(answer, b, to), to) for b in bookings for to in outcomes]
        winners = [to for future, to in futures if future.result() is not None]
    assert len(winners) == len(bookings)
    for booking, slot in zip(bookings, slots, strict=True):
        final = db.get_booking(booking.booking_id).booking_status
        assert final in outcomes
        assert db.get_slot(slot.slot_id).slot_status == outcomes[final]
    assert db.check_consistency() == []


def test_concurrent_expiry_changes_each_row_once(db: SqliteStore):
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
            result = db.expire(now, 3, notify)
            total[0] += result.slots_expired
            total[1] += result.bookings_expired
            if result.slots_expired == result.bookings_expired == 0:
                return total

    with ThreadPoolExecutor(4) as pool:
        totals = list(pool.map(run_job, range(4)))
    assert sum(t[0] for t in totals) == len(slots) - 16
    assert sum(t[1] for t in totals) == 16
    assert len(notices) == len(set(notices)) == 16
    kinds = [n.kind for n in db.claim_notifications(at(days=3), 100, 60)]
    assert kinds.count("booking_expired") == 16
    assert db.check_consistency() == []


def test_concurrent_claims_never_share_a_notification(db: SqliteStore):
    db.add_notifications([make_notification(due=BASE - timedelta(seconds=i)) for i in range(60)])
    with ThreadPoolExecutor(8) as pool:
        claims = list(pool.map(lambda _: db.claim_notifications(BASE, 5, 300), range(12)))
    ids = [n.notification_id for claim in claims for n in claim]
    assert len(ids) == len(set(ids)) == 60
    assert db.claim_notifications(BASE, 5, 300) == []


def test_bulk_insert_and_contract_share_one_file_across_stores(db: SqliteStore):
    user = make_user()
    window, slots = make_window(user.user_id, at(days=1), at(days=1, hours=2))
    db.bulk_insert([user], [make_profile(user.user_id, skills=["Go"])], [window], slots)
    other = SqliteStore(db.path)
    assert other.get_slot(slots[1].slot_id) == slots[1]
    request(other, slots[1])
    other.close()
    assert db.get_slot(slots[1].slot_id).slot_status == SlotStatus.PENDING
