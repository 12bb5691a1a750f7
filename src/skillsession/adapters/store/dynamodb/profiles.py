"""Profiles on DynamoDB: the profile (USER#<id> PROFILE, GSI2 by e-mail) and the skill index
(SKILL#<key> TUTOR#<id>, each entry holding the tutor's skill keys) behind tutor search."""

from __future__ import annotations

from datetime import datetime

from skillsession.adapters.store.dynamodb import items
from skillsession.adapters.store.dynamodb.calls import (
    OPTIMISTIC_RETRIES,
    Expr,
    Table,
    TransactionCancelled,
    error_code,
)
from skillsession.adapters.store.dynamodb.items import decode, pad, ts
from skillsession.domain.errors import Conflict, NotFound
from skillsession.domain.model import Profile
from skillsession.domain.skills import skill_key


class DynamoProfiles:
    def __init__(self, db: Table):
        self.db = db

    def get_profile(self, user_id: str) -> Profile | None:
        found = self.db.get(items.profile_key(user_id))
        return items.profile(found) if found else None

    def get_profile_by_email(self, email: str) -> Profile | None:
        e = Expr()
        condition = f"{e.n('GSI2PK')} = {e.v(f'PEMAIL#{email}')}"
        found = next(self.db.query(condition, e, index="GSI2", page_size=1), None)
        return items.profile(found) if found else None

    def get_profiles(self, user_ids: list[str]) -> dict[str, Profile]:
        found = self.db.batch_get([items.profile_key(i) for i in user_ids])
        return {i["user_id"]: items.profile(i) for i in found}

    def save_profile(self, profile: Profile) -> None:
        """Upsert the profile and replace its skill index entries in one transaction, guarded
        by the profile's `version` (read first), so two concurrent saves cannot leave skill
        entries of both. An existing profile keeps `created_at` and `image_key`."""
        db = self.db
        fields = items.profile_fields(profile)
        keys = fields["skill_keys"]
        for attempt in range(OPTIMISTIC_RETRIES):
            old = db.get(items.profile_key(profile.user_id))
            e = Expr()
            version = (old or {}).get("version")
            if old is None:
                condition = "attribute_not_exists(PK)"
            elif version is None:
                condition = f"attribute_not_exists({e.n('version')})"
            else:
                condition = f"{e.n('version')} = {e.v(version)}"
            raw_set = ()
            if profile.created_at is not None:
                created = e.n("created_at")
                raw_set = (f"{created} = if_not_exists({created}, {e.v(ts(profile.created_at))})",)
            update = e.update({**fields, "version": (version or 0) + 1}, raw_set=raw_set)
            ops = [db.update(items.profile_key(profile.user_id), update, e, condition)]
            stale = set((old or {}).get("skill_keys") or []) - set(keys)
            ops += [db.delete(items.skill_item_key(k, profile.user_id)) for k in sorted(stale)]
            ops += [db.put(items.skill_item(k, profile)) for k in keys]
            try:
                db.transact(ops)
                return
            except TransactionCancelled as cancelled:
                if not cancelled.failed(0):
                    raise
                db.backoff(attempt)  # saved concurrently: read again
        raise Conflict("the profile is being changed concurrently", code="concurrent_update")

    def set_profile_image(self, user_id: str, image_key: str | None) -> str | None:
        e = Expr()
        op = self.db.update(
            items.profile_key(user_id),
            e.update({"image_key": image_key}),
            e,
            "attribute_exists(PK)",
        )
        try:
            answer = self.db.update_item(op, ReturnValues="ALL_OLD")
        except self.db.client_error as exc:
            if error_code(exc) == "ConditionalCheckFailedException":
                raise NotFound("no such profile", code="profile_not_found") from None
            raise
        return decode(answer.get("Attributes") or {}).get("image_key")

    def search_tutors(
        self,
        skill_keys: list[str],
        available_between: tuple[datetime, datetime] | None,
        limit: int,
        after_user_id: str | None,
    ) -> list[Profile]:
        """Walk the first skill's index partition in user_id order; each entry carries the
        tutor's skill keys, so the other skills are checked without reading the profile. With
        a range, one Limit-1 Query of the tutor's free-slot index per candidate."""
        keys = list(dict.fromkeys(skill_key(k) for k in skill_keys))
        if not keys or limit <= 0:
            return []
        wanted = set(keys)
        e = Expr()
        partition, after = f"SKILL#{keys[0]}", f"TUTOR#{after_user_id or ''}"
        condition = f"{e.n('PK')} = {e.v(partition)} AND {e.n('SK')} > {e.v(after)}"
        entries = self.db.query(condition, e, page_size=min(100, max(limit * 2, 20)))
        matches: list[str] = []
        for entry in entries:
            if not wanted <= set(entry.get("skill_keys") or []):
                continue
            if available_between and not self._has_free_slot(entry["tutor_id"], *available_between):
                continue
            matches.append(entry["tutor_id"])
            if len(matches) >= limit:
                break
        profiles = self.get_profiles(matches)
        return [profiles[m] for m in matches if m in profiles]

    def _has_free_slot(self, tutor_id: str, start: datetime, before: datetime) -> bool:
        free = self.db.index_range(
            "GSI4", f"FREE#{tutor_id}", pad(ts(start)), pad(ts(before)), page_size=1
        )
        return next(free, None) is not None
