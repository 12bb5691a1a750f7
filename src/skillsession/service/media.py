"""Profile images: validated, stripped, stored; read through signed, expiring URLs."""

from __future__ import annotations

from skillsession.domain.errors import NotFound
from skillsession.domain.ids import new_id
from skillsession.ports import Identity, SignedUrl
from skillsession.service.deps import Deps
from skillsession.service.images import normalise_image
from skillsession.service.profiles import find_target, require_profile

URL_TTL_SECONDS = 15 * 60
# a signed URL's parameters as given back, at most (a Unix time; a hex HMAC)
MAX_EXPIRES_LENGTH, MAX_SIGNATURE_LENGTH = 20, 128


def save_profile_image(deps: Deps, identity: Identity, data: bytes, content_type: str) -> SignedUrl:
    require_profile(deps, identity)
    image, stored_type, extension = normalise_image(data, content_type)
    key = f"profile-images/{identity.user_id}/{new_id()}.{extension}"
    deps.media.put(key, image, stored_type)
    previous = deps.stores.profiles.set_profile_image(identity.user_id, key)
    if previous and previous != key:
        deps.media.delete(previous)
    return deps.media.signed_url(key, URL_TTL_SECONDS)


def profile_image_url(
    deps: Deps, identity: Identity, email: str | None, user_id: str | None
) -> SignedUrl:
    profile = find_target(deps, identity, email, user_id)
    if profile is None:
        raise NotFound("no such profile", code="profile_not_found")
    if not profile.image_key:
        raise NotFound("this user has no profile image", code="no_profile_image")
    return deps.media.signed_url(profile.image_key, URL_TTL_SECONDS)
