"""Profile images: upload (raw bytes or base64 JSON), signed URL, and the signed media files."""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import orjson
from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from skillsession.domain.errors import BadRequest, NotFound, ValidationFailed
from skillsession.domain.ids import MAX_ID_LENGTH
from skillsession.http import schemas as S
from skillsession.http import views
from skillsession.http.responses import OrjsonResponse
from skillsession.http.schemas import documented
from skillsession.http.security import AUTHENTICATED, AppDeps, CurrentUser
from skillsession.service import media
from skillsession.service.images import MAX_JPEG_PIXELS, MAX_PIXELS

router = APIRouter(tags=["profile images"], dependencies=AUTHENTICATED)
public = APIRouter(tags=["profile images"])

UPLOAD_DOC = {
    "requestBody": {
        "required": True,
        "description": "The image file as raw bytes, sent with `Content-Type: image/jpeg`, "
        "`image/png`, `image/webp` or `application/octet-stream` (the format is read from the "
        "bytes; only these three are accepted), or as JSON with the file in base64. "
        "At most 5 MiB.",
        # the raw upload is documented under application/octet-stream only: client generators
        # (openapi-python-client, ...) take that as a file parameter and skip image/* bodies
        "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            **S.content(S.ImageUpload),
        },
    }
}


def _decode_json_upload(raw: bytes) -> tuple[bytes, str]:
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise BadRequest("the request body is not valid JSON", code="malformed_json") from exc
    if not isinstance(body, dict) or not isinstance(body.get("image_base64"), str):
        raise ValidationFailed("image_base64 is required", details={"image_base64": "required"})
    content_type = body.get("content_type")
    if not isinstance(content_type, str):
        raise ValidationFailed("content_type is required", details={"content_type": "required"})
    encoded = body["image_base64"]
    if "," in encoded[:100] and encoded.startswith("data:"):
        encoded = encoded.split(",", 1)[1]  # tolerate data: URLs
    try:
        return base64.b64decode(encoded, validate=True), content_type
    except (binascii.Error, ValueError) as exc:
        raise ValidationFailed(
            "image_base64 is not base64", details={"image_base64": "invalid"}
        ) from exc


@router.put(
    "/save-profile-img",
    operation_id="saveProfileImage",
    description="The image is decoded to prove it is one (decompression bombs refused), its "
    "metadata stripped, re-encoded and stored as the caller's profile image, replacing the "
    "old one. 413 above 5 MiB, 415 for other types, 422 if it is not a decodable image or "
    f"has more than {MAX_PIXELS / 1e6:.1f} Mpx (a baseline JPEG, decoded at a reduced scale: "
    f"{MAX_JPEG_PIXELS / 1e6:.0f} Mpx). Images are decoded one at a time per worker: 503 "
    "(`images_busy`, with Retry-After) when one waited too long for its turn.",
    summary="Upload the caller's profile image (jpeg/png/webp, at most 5 MiB)",
    openapi_extra=UPLOAD_DOC,
    responses={**documented(S.SignedUrlOut)["responses"], **S.BUSY},
)
async def save_profile_img(request: Request, deps: AppDeps, identity: CurrentUser):
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    raw = await request.body()
    if content_type == "application/json":
        data, content_type = _decode_json_upload(raw)
    else:
        data = raw
    url = await run_in_threadpool(media.save_profile_image, deps, identity, data, content_type)
    return OrjsonResponse(views.signed_url(url, deps.settings.public_url))


@router.get(
    "/get-profile-img-url",
    operation_id="getProfileImageUrl",
    description="The caller's by default, or another user's by `email` or `user_id`. The URL "
    "is signed and expires after 15 minutes (an S3 presigned URL in the AWS shape). 404 if the "
    "user has no image.",
    summary="A signed, 15-minute URL of a profile image",
    **documented(S.SignedUrlOut),
)
async def get_profile_img_url(
    deps: AppDeps,
    identity: CurrentUser,
    email: Annotated[S.Email | None, Query()] = None,
    user_id: Annotated[str | None, Query(max_length=MAX_ID_LENGTH)] = None,
):
    url = media.profile_image_url(deps, identity, email, user_id)
    return OrjsonResponse(views.signed_url(url, deps.settings.public_url))


@public.get(
    "/media/{key:path}",
    operation_id="getMediaFile",
    response_class=Response,  # image bytes: no application/json in the document
    summary="A stored image, through a signed URL only",
    responses={
        200: {
            "description": "the image",
            "content": {t: {} for t in ("image/jpeg", "image/png", "image/webp")},
        },
        **{status: S.ERRORS[status] for status in (403, 404, 422)},
    },
)
async def media_file(
    key: str,
    deps: AppDeps,
    expires: Annotated[str, Query(max_length=media.MAX_EXPIRES_LENGTH)] = "",
    signature: Annotated[str, Query(max_length=media.MAX_SIGNATURE_LENGTH)] = "",
):
    verify = getattr(deps.media, "verify", None)
    if verify is None:
        raise NotFound("media are served by the storage backend", code="not_found")
    verify(key, expires, signature, deps.now())
    try:
        found = deps.media.get(key)
    except ValueError as exc:
        raise NotFound("no such file", code="media_not_found") from exc
    if found is None:
        raise NotFound("no such file", code="media_not_found")
    data, content_type = found
    return Response(
        data,
        media_type=content_type,
        headers={
            "Cache-Control": "private, max-age=900",
            "Content-Security-Policy": "default-src 'none'",
        },
    )
