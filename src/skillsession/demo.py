"""Demo data: confirmed tutors and students with profiles, skills and availability, in bulk."""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from skillsession.domain import availability as rules
from skillsession.domain.ids import new_id
from skillsession.domain.model import AccountStatus, Profile, Role, User
from skillsession.ports.storage import StoreAdmin

DEMO_PASSWORD = "demo-password-1"
DEMO_DOMAIN = "demo.skillsession.test"
SKILLS = [
    "Python",
    "Java",
    "JavaScript",
    "TypeScript",
    "C",
    "C++",
    "Rust",
    "Go",
    "SQL",
    "Linear Algebra",
    "Calculus",
    "Statistics",
    "Probability",
    "Discrete Mathematics",
    "Data Structures",
    "Algorithms",
    "Machine Learning",
    "Physics",
    "Organic Chemistry",
    "Biology",
    "Economics",
    "Accounting",
    "English Writing",
    "French",
    "Spanish",
    "German",
    "Music Theory",
    "Piano",
    "Guitar",
    "Web Development",
    "Operating Systems",
    "Networking",
]
ZONES = [
    "America/Halifax",
    "America/New_York",
    "America/Chicago",
    "America/Los_Angeles",
    "Europe/London",
    "Europe/Berlin",
    "Europe/Paris",
    "Asia/Kolkata",
    "Asia/Tokyo",
    "Australia/Sydney",
    "UTC",
]
FIRST = [
    "Ada",
    "Alan",
    "Grace",
    "Linus",
    "Barbara",
    "Edsger",
    "Donald",
    "Margaret",
    "Ken",
    "Frances",
    "Tim",
    "Radia",
    "John",
    "Shafi",
    "Leslie",
    "Sophie",
    "Dennis",
    "Hedy",
]
STUDENT_FIRST = [  # apart from the tutors' first names: no student is named like a tutor
    "Katherine",
    "Annie",
    "Mary",
    "Jean",
    "Evelyn",
    "Betty",
    "Kathleen",
    "Marlyn",
    "Ruth",
    "Adele",
    "Joan",
    "Niklaus",
    "Bjarne",
    "Guido",
    "Yukihiro",
    "Brendan",
    "Anders",
    "Carol",
]
LAST = [
    "Lovelace",
    "Turing",
    "Hopper",
    "Torvalds",
    "Liskov",
    "Dijkstra",
    "Knuth",
    "Hamilton",
    "Thompson",
    "Allen",
    "Berners-Lee",
    "Perlman",
    "McCarthy",
    "Goldwasser",
    "Lamport",
    "Wilson",
    "Ritchie",
    "Lamarr",
]
COURSES = [
    "COMP 1000",
    "COMP 2000",
    "COMP 3000",
    "MATH 1010",
    "MATH 2050",
    "STAT 2060",
    "PHYS 1100",
    "ECON 1101",
    "CHEM 2200",
]


def tutor_email(i: int) -> str:
    return f"tutor-{i}@{DEMO_DOMAIN}"


def student_email(i: int) -> str:
    return f"student-{i}@{DEMO_DOMAIN}"


@dataclass
class Batch:
    users: list
    profiles: list
    availabilities: list
    slots: list


def _person(rng: random.Random, i: int, email: str, role: Role, password_hash: str, now: datetime):
    user = User(new_id(), email, password_hash, AccountStatus.CONFIRMED, now)
    profile = Profile(
        user_id=user.user_id,
        email=email,
        role=role,
        first_name=rng.choice(FIRST if role == Role.TUTOR else STUDENT_FIRST),
        last_name=rng.choice(LAST),
        mobile_number=f"+1-555-{i % 10000:04d}",
        time_zone=rng.choice(ZONES),
        created_at=now,
        updated_at=now,
    )
    return user, profile


def batches(
    tutor_numbers: range,
    student_numbers: range,
    days: int,
    password_hash: str,
    now: datetime,
    batch_size: int = 200,
) -> Iterator[tuple[Batch, int]]:
    """Yield batches of entities and how many people each holds (for a progress bar).
    Person i's data depends only on i, so any split of the numbers gives the same result."""
    first_day = now.date() + timedelta(days=1)
    for lo in range(0, len(tutor_numbers), batch_size):
        batch = Batch([], [], [], [])
        for i in tutor_numbers[lo : lo + batch_size]:
            rng = random.Random(i)
            user, profile = _person(rng, i, tutor_email(i), Role.TUTOR, password_hash, now)
            profile.teaching_skills = rng.sample(SKILLS, rng.randint(2, 5))
            if i == 1 and "Python" not in profile.teaching_skills:
                profile.teaching_skills.insert(0, "Python")  # the README's walk-through searches it
            profile.experience_years = rng.randint(1, 25)
            profile.experience_description = "Patient, structured sessions with worked examples."
            batch.users.append(user)
            batch.profiles.append(profile)
            _availability(batch, profile, first_day, days, now, rng)
        yield batch, len(batch.users)
    for lo in range(0, len(student_numbers), batch_size):
        batch = Batch([], [], [], [])
        for i in student_numbers[lo : lo + batch_size]:
            rng = random.Random(f"student-{i}")  # not -i: Random(-i) is Random(i), the tutor's
            user, profile = _person(rng, i, student_email(i), Role.STUDENT, password_hash, now)
            profile.university_name = "Dalhousie University"
            profile.program_name = "Computer Science"
            profile.enrolled_courses = rng.sample(COURSES, 3)
            profile.start_year, profile.end_year = 2024, 2028
            batch.users.append(user)
            batch.profiles.append(profile)
        yield batch, len(batch.users)


def _availability(batch: Batch, tutor: Profile, first_day: date, days: int, now, rng) -> None:
    """A working day each day: 09:00-17:00 local in 60-minute slots (8 slots)."""
    start_hour = rng.choice((8, 9, 10))
    windows = []
    for d in range(days):
        day = first_day + timedelta(days=d)
        request = rules.WindowRequest(
            date=day.isoformat(),
            start_time=f"{start_hour:02d}:00",
            end_time=f"{start_hour + 8:02d}:00",
            time_zone=tutor.time_zone,
            slot_minutes=60,
        )
        try:
            windows.append(rules.resolve_window(request, now))
        except Exception:  # a DST gap or the past: skip that day
            continue
    availabilities, slots = rules.build(tutor.user_id, windows, now)
    batch.availabilities.extend(availabilities)
    batch.slots.extend(slots)


def fill(
    admin: StoreAdmin,
    tutor_numbers: range,
    student_numbers: range,
    days: int,
    password_hash: str,
    now: datetime,
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Insert one share of the demo data, one transaction per batch; return the slot count."""
    total = 0
    for batch, people in batches(tutor_numbers, student_numbers, days, password_hash, now):
        admin.bulk_insert(batch.users, batch.profiles, batch.availabilities, batch.slots)
        total += len(batch.slots)
        progress(people)
    return total


def _fill_share(share: int, shares: int, tutors, students, days, password_hash, now, queue):
    """One worker process: builds its own store (connections never cross a fork)."""
    from skillsession import bootstrap
    from skillsession.settings import Settings

    admin = bootstrap.build_store(Settings()).admin
    slots = fill(
        admin,
        range(1 + share, tutors + 1, shares),
        range(1 + share, students + 1, shares),
        days,
        password_hash,
        now,
        progress=lambda n: queue.put(("people", n)),
    )
    admin.close()
    queue.put(("done", slots))


def fill_parallel(
    tutors: int,
    students: int,
    days: int,
    password_hash: str,
    now: datetime,
    workers: int,
    progress: Callable[[int], None] = lambda n: None,
) -> int:
    """Generate and insert in several processes: one builds entities while another writes."""
    import multiprocessing

    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    processes = [
        context.Process(
            target=_fill_share,
            args=(share, workers, tutors, students, days, password_hash, now, queue),
        )
        for share in range(workers)
    ]
    for process in processes:
        process.start()
    slots, done = 0, 0
    while done < workers:
        kind, value = queue.get()
        if kind == "people":
            progress(value)
        else:
            slots += value
            done += 1
    for process in processes:
        process.join()
        if process.exitcode != 0:
            raise RuntimeError(f"a demo-data worker failed (exit code {process.exitcode})")
    return slots
