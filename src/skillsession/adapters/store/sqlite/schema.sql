-- SkillSession on SQLite, schema version 3 (v2 added slot_versions, v3 list_versions and
-- list_version_counter). Applied by the admin role's migrate() (admin.py) inside one
-- transaction; every statement is idempotent. Instants are INTEGER unix seconds (UTC); lists and
-- payloads are JSON text. Every request-path query is served by one of the indexes below
-- (tests/contract/test_store_sqlite.py checks the plans).

CREATE TABLE IF NOT EXISTS users (
    user_id       TEXT PRIMARY KEY,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    status        TEXT NOT NULL,
    created_at    INTEGER NOT NULL,
    -- unix microseconds; tokens issued before are refused (NULL: none)
    tokens_valid_after INTEGER
);

-- the expiry job's deletion of accounts unconfirmed for 7 days (partial: confirmed accounts are
-- not in it)
CREATE INDEX IF NOT EXISTS users_unconfirmed ON users (created_at) WHERE status = 'unconfirmed';

CREATE TABLE IF NOT EXISTS verification_codes (
    user_id         TEXT PRIMARY KEY REFERENCES users(user_id) ON DELETE CASCADE,
    code_hash       TEXT NOT NULL,
    expires_at      INTEGER NOT NULL,
    failed_attempts INTEGER NOT NULL DEFAULT 0
);

-- admitted attempts (domain/rate_limits.py): `window` is the unix second of some, `hits` how
-- many (rows of the older fixed-window layout hold small numbers there and age out at once)
CREATE TABLE IF NOT EXISTS rate_limits (
    key    TEXT NOT NULL,
    window INTEGER NOT NULL,
    hits   INTEGER NOT NULL,
    PRIMARY KEY (key, window)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS profiles (
    user_id    TEXT PRIMARY KEY,
    email      TEXT NOT NULL,
    role       TEXT NOT NULL,
    doc        TEXT NOT NULL,  -- JSON object of the remaining fields
    image_key  TEXT,
    created_at INTEGER,
    updated_at INTEGER
);
CREATE INDEX IF NOT EXISTS profiles_by_email ON profiles(email);

-- the skill index: one row per skill key of a profile's teaching_skills
CREATE TABLE IF NOT EXISTS tutor_skills (
    skill_key TEXT NOT NULL,
    tutor_id  TEXT NOT NULL REFERENCES profiles(user_id) ON DELETE CASCADE,
    PRIMARY KEY (skill_key, tutor_id)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS tutor_skills_by_tutor ON tutor_skills(tutor_id);

-- deleting a window marks it `deleted` (its slots with booking history still point at it, and
-- no delete has to look for child rows by availability_id)
CREATE TABLE IF NOT EXISTS availability (
    availability_id TEXT PRIMARY KEY,
    tutor_id        TEXT NOT NULL,
    start           INTEGER NOT NULL,
    "end"           INTEGER NOT NULL,
    time_zone       TEXT NOT NULL,
    slot_minutes    INTEGER NOT NULL,
    created_at      INTEGER NOT NULL,
    deleted         INTEGER NOT NULL DEFAULT 0,
    CHECK ("end" > start)
);
CREATE INDEX IF NOT EXISTS availability_live_by_tutor ON availability(tutor_id, start)
    WHERE deleted = 0;

CREATE TABLE IF NOT EXISTS slots (
    slot_id         TEXT PRIMARY KEY,
    tutor_id        TEXT NOT NULL,
    availability_id TEXT NOT NULL REFERENCES availability(availability_id),
    start           INTEGER NOT NULL,
    "end"           INTEGER NOT NULL,
    slot_status     TEXT NOT NULL
        CHECK (slot_status IN ('available', 'pending', 'booked', 'expired')),
    time_zone       TEXT NOT NULL
) WITHOUT ROWID;  -- the biggest table: one b-tree fewer; a window's slots are found by tutor and time
CREATE INDEX IF NOT EXISTS slots_by_tutor ON slots(tutor_id, start, slot_id);
CREATE INDEX IF NOT EXISTS slots_available_due ON slots(start) WHERE slot_status = 'available';

-- one row per tutor whose slots were ever written: `version` goes up in the transaction of every
-- write to the tutor's slots, so a cached answer about them can be checked by one point read
CREATE TABLE IF NOT EXISTS slot_versions (
    tutor_id TEXT PRIMARY KEY,
    version  INTEGER NOT NULL
) WITHOUT ROWID;

-- booking list versions, for cached booking lists: one row per user whose bookings were ever
-- written, and one with owner '' for every profile (lists show the other party's name). Each
-- write of a booking sets its tutor's and student's rows, each profile write the '' row, in its
-- own transaction, to the next value of the counter below: a user's version is the later of
-- their row and the '' row, and any such write makes it a value it never had.
CREATE TABLE IF NOT EXISTS list_versions (
    owner   TEXT PRIMARY KEY,
    version INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS list_version_counter (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO list_version_counter (id, value) VALUES (1, 0);

CREATE TABLE IF NOT EXISTS bookings (
    booking_id         TEXT PRIMARY KEY,
    slot_id            TEXT NOT NULL REFERENCES slots(slot_id),
    tutor_id           TEXT NOT NULL,
    student_id         TEXT NOT NULL,
    booking_status     TEXT NOT NULL CHECK (booking_status IN
        ('pending', 'accepted', 'rejected', 'cancelled', 'expired', 'completed')),
    request_created_at INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL,
    start              INTEGER NOT NULL,
    "end"              INTEGER NOT NULL,
    message            TEXT,
    reason             TEXT
);
-- the invariant, even if code were wrong: at most one live booking per slot
CREATE UNIQUE INDEX IF NOT EXISTS one_live_booking_per_slot ON bookings(slot_id)
    WHERE booking_status IN ('pending', 'accepted');
CREATE INDEX IF NOT EXISTS bookings_by_slot ON bookings(slot_id);
CREATE INDEX IF NOT EXISTS bookings_by_tutor ON bookings(tutor_id, start, booking_id);
CREATE INDEX IF NOT EXISTS bookings_by_student ON bookings(student_id, start, booking_id);
CREATE INDEX IF NOT EXISTS bookings_by_tutor_status
    ON bookings(tutor_id, booking_status, start, booking_id);
CREATE INDEX IF NOT EXISTS bookings_by_student_status
    ON bookings(student_id, booking_status, start, booking_id);
-- the expiry job's work lists
CREATE INDEX IF NOT EXISTS bookings_pending_due ON bookings(start)
    WHERE booking_status = 'pending';
CREATE INDEX IF NOT EXISTS bookings_accepted_due ON bookings("end")
    WHERE booking_status = 'accepted';
CREATE INDEX IF NOT EXISTS bookings_accepted_pairs ON bookings(tutor_id, student_id)
    WHERE booking_status = 'accepted';

CREATE TABLE IF NOT EXISTS idempotency_keys (
    student_id TEXT NOT NULL,
    key        TEXT NOT NULL,
    booking_id TEXT NOT NULL REFERENCES bookings(booking_id),
    PRIMARY KEY (student_id, key)
) WITHOUT ROWID;

-- the outbox
CREATE TABLE IF NOT EXISTS notifications (
    notification_id TEXT PRIMARY KEY,
    kind            TEXT NOT NULL,
    recipient_id    TEXT NOT NULL,
    payload         TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    status          TEXT NOT NULL,
    last_error      TEXT
);
CREATE INDEX IF NOT EXISTS notifications_due ON notifications(next_attempt_at)
    WHERE status = 'pending';
CREATE INDEX IF NOT EXISTS notifications_failed ON notifications(notification_id)
    WHERE status = 'failed';

CREATE TABLE IF NOT EXISTS subscriptions (
    user_id    TEXT PRIMARY KEY,
    email      TEXT NOT NULL,
    status     TEXT NOT NULL,
    token      TEXT NOT NULL UNIQUE,  -- the unsubscribe link's
    created_at INTEGER NOT NULL,
    -- no commas in these comments: SQLite's DROP COLUMN would take one for the column's
    confirm_token TEXT,  -- the confirmation link's while one is open (v4)
    provider_ref TEXT  -- the mailer's id for it where the mailer keeps them (SNS: the ARN) (v8)
);

-- ids of deleted accounts, nothing else of them (v5): what the consistency scan checks
CREATE TABLE IF NOT EXISTS deleted_users (
    user_id    TEXT PRIMARY KEY,
    deleted_at INTEGER NOT NULL
) WITHOUT ROWID;

-- token floors of accounts an identity provider keeps (v7; embedded accounts keep theirs on
-- the users row): tokens issued before `valid_after` (unix microseconds) are refused
CREATE TABLE IF NOT EXISTS token_floors (
    user_id     TEXT PRIMARY KEY,
    valid_after INTEGER NOT NULL
) WITHOUT ROWID;
