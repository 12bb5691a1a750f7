"""Profile image intake: prove the bytes are an image, strip metadata, re-encode.

The output is rebuilt from decoded pixels only, so EXIF (GPS included), XMP, comments, text
chunks and anything appended to the file are gone; only the ICC colour profile is carried over.
A JPEG, PNG or WebP declared as one of the other two is accepted and keeps its real format: the
returned content type is the one of the bytes returned.
"""

from __future__ import annotations

import contextlib
from io import BytesIO
from typing import TYPE_CHECKING

from skillsession.domain.errors import (
    DomainError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

if TYPE_CHECKING:
    from PIL import Image

MAX_IMAGE_BYTES = 5 * 1024 * 1024
MAX_PIXELS = 40_000_000  # decoded size guard, well below Pillow's global bomb limit
MAX_SIDE = 1024  # stored images are downscaled to fit in MAX_SIDE x MAX_SIDE

# application/octet-stream: raw bytes as generated clients send them (the format is read from them)
ALLOWED_TYPES = {"image/jpeg", "image/jpg", "image/png", "image/webp", "application/octet-stream"}
_FORMATS = ("JPEG", "PNG", "WEBP")
# Pillow format -> (format to write, content type, file extension). MPO = multi-picture JPEG.
_OUTPUT = {
    "JPEG": ("JPEG", "image/jpeg", "jpg"),
    "MPO": ("JPEG", "image/jpeg", "jpg"),
    "PNG": ("PNG", "image/png", "png"),
    "WEBP": ("WEBP", "image/webp", "webp"),
}
_SAVE_OPTIONS = {
    "JPEG": {"quality": 88, "optimize": True},
    "PNG": {"optimize": False},
    "WEBP": {"quality": 85},
}


def normalise_image(data: bytes, content_type: str) -> tuple[bytes, str, str]:
    """Return `(image_bytes, content_type, extension)` (extension without the dot).

    Raises PayloadTooLarge("image_too_large"), UnsupportedMediaType("unsupported_image_type")
    or ValidationFailed("invalid_image"); never a Pillow exception."""
    if len(data) > MAX_IMAGE_BYTES:
        raise PayloadTooLarge("image is larger than 5 MiB", code="image_too_large")
    declared = (content_type or "").split(";")[0].strip().lower()
    if declared not in ALLOWED_TYPES:
        raise UnsupportedMediaType(
            "image must be image/jpeg, image/png or image/webp", code="unsupported_image_type"
        )
    from PIL import Image  # only image uploads need Pillow: kept off the Lambda cold start

    try:
        with Image.open(BytesIO(data), formats=_FORMATS) as img:
            fmt, out_type, ext = _OUTPUT[img.format or ""]
            return _reencode(img, fmt), out_type, ext
    except DomainError:
        raise
    except Exception as exc:  # Pillow raises many types on hostile input
        raise ValidationFailed("not a decodable image", code="invalid_image") from exc


def _reencode(img: Image.Image, fmt: str) -> bytes:
    from PIL import Image, ImageOps

    width, height = img.size
    if width < 1 or height < 1 or width * height > MAX_PIXELS:
        raise ValidationFailed("image has too many pixels", code="invalid_image")
    if fmt == "JPEG":
        img.draft(None, (MAX_SIDE, MAX_SIDE))  # let libjpeg decode at a reduced scale
    img.load()
    icc = img.info.get("icc_profile") if img.mode != "CMYK" else None
    with contextlib.suppress(Exception):  # a broken EXIF block must not reject a good picture
        img = ImageOps.exif_transpose(img)

    if img.mode.startswith("I"):  # 16-bit greyscale PNG: scale down, do not clip to white
        img = img.convert("I").point(lambda v: v / 256).convert("L")
    if fmt != "JPEG" and img.has_transparency_data:
        mode = "RGBA"
    else:
        mode = "L" if img.mode in ("1", "L") else "RGB"
    if img.mode != mode:
        img = img.convert(mode)
    img.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)

    clean = Image.frombytes(img.mode, img.size, img.tobytes())  # pixels only, no info/EXIF
    out = BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    clean.save(out, fmt, **_SAVE_OPTIONS[fmt], **extra)
    return out.getvalue()
