"""Profile image intake: prove the bytes are an image, strip metadata, re-encode.

The output is rebuilt from decoded pixels only, so EXIF (GPS included), XMP, comments, text
chunks and anything appended to the file are gone; only the ICC colour profile is carried over.
A JPEG, PNG or WebP declared as one of the other two is accepted and keeps its real format: the
returned content type is the one of the bytes returned.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from io import BytesIO
from typing import TYPE_CHECKING

from skillsession.domain.errors import (
    Busy,
    DomainError,
    PayloadTooLarge,
    UnsupportedMediaType,
    ValidationFailed,
)

if TYPE_CHECKING:
    from PIL import Image

MAX_IMAGE_BYTES = 5 * 1024 * 1024
# Decoding is where an image costs memory (a 165 KiB PNG of 6300 x 6300 pixels held ~400 MB), so
# what is decoded at full size is bounded by what a profile photo needs: 4096 x 4096 (16.8 Mpx;
# a 12 Mpx phone photo fits). A baseline JPEG is decoded at a reduced scale (1/2..1/8, libjpeg's
# own, through `Image.draft`), so a phone's 48..108 Mpx JPEG is accepted and costs a few Mpx; a
# progressive JPEG keeps all of its coefficients while it decodes, so it has the plain bound.
MAX_PIXELS = 4096 * 4096
MAX_JPEG_PIXELS = 120_000_000  # baseline JPEG only; Pillow's own bomb limit is 179 Mpx
MAX_SIDE = 1024  # stored images are downscaled to fit in MAX_SIDE x MAX_SIDE
RESAMPLED_MODES = frozenset({"L", "LA", "RGB", "RGBA", "I"})  # resized as they are
ORIENTATION = 0x0112  # the EXIF tag

# Decodes at once per process (each holds up to ~250 MB at the bounds above; a worker serves
# other requests meanwhile). Another upload waits up to DECODE_WAIT_SECONDS for its turn, then
# gets a 503 with Retry-After. Decodes run on MAX_DECODES threads of their own: the C allocator
# keeps what a thread freed in that thread's arena, so decodes spread over the request threads
# left each of them holding a decode's worth (16 uploads at once: 650 MB, one decode at a time).
# bench/hostile.py measures a worker under 16 uploads at once.
MAX_DECODES = 1
DECODE_WAIT_SECONDS = 5.0
RETRY_AFTER_SECONDS = 2

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

    def decode() -> tuple[bytes, str, str]:
        try:
            with Image.open(BytesIO(data), formats=_FORMATS) as img:
                fmt, out_type, ext = _OUTPUT[img.format or ""]
                return _reencode(img, fmt), out_type, ext
        except DomainError:
            raise
        except Exception as exc:  # Pillow raises many types on hostile input
            raise ValidationFailed("not a decodable image", code="invalid_image") from exc

    with decode_turn():
        return _decoders().submit(decode).result()


@functools.cache
def _decode_turns() -> threading.BoundedSemaphore:
    return threading.BoundedSemaphore(MAX_DECODES)  # per process: made on first use


@functools.cache
def _decoders() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(MAX_DECODES, thread_name_prefix="image-decode")


@contextlib.contextmanager
def decode_turn() -> Iterator[None]:
    """One of this process's MAX_DECODES turns to decode an image, or Busy (503) after waiting
    DECODE_WAIT_SECONDS."""
    turns = _decode_turns()
    if not turns.acquire(timeout=DECODE_WAIT_SECONDS):
        raise Busy(
            "too many images are being processed; try again shortly",
            code="images_busy",
            retry_after=RETRY_AFTER_SECONDS,
        )
    try:
        yield
    finally:
        turns.release()


def _reencode(img: Image.Image, fmt: str) -> bytes:
    """Pixels only, at most MAX_SIDE a side, in a web-friendly mode. Memory: the decoded image,
    and until it is released, at most one converted copy; everything after works on the
    reduced image."""
    from PIL import Image

    width, height = img.size
    progressive = fmt == "JPEG" and bool(img.info.get("progressive") or img.info.get("progression"))
    limit = MAX_JPEG_PIXELS if fmt == "JPEG" and not progressive else MAX_PIXELS
    if width < 1 or height < 1 or width * height > limit:
        raise ValidationFailed(
            "image has too many pixels",
            code="invalid_image",
            details={"pixels": width * height, "max_pixels": limit},
        )
    if fmt == "JPEG":
        img.draft(None, (MAX_SIDE, MAX_SIDE))  # libjpeg decodes at the smallest scale >= this
    img.load()
    icc = img.info.get("icc_profile") if img.mode != "CMYK" else None
    orientation = 1
    with contextlib.suppress(Exception):  # a broken EXIF block must not reject a good picture
        orientation = int(img.getexif().get(ORIENTATION, 1))

    if fmt != "JPEG" and img.has_transparency_data:
        mode = "RGBA"
    else:
        mode = "L" if img.mode in ("1", "L") or img.mode.startswith("I") else "RGB"
    small = img
    if img.mode.startswith("I;16"):
        small = img.convert("I")  # 16-bit grey: resized as 32-bit, scaled down below
    elif img.mode not in RESAMPLED_MODES:
        small = img.convert(mode)  # palette, 1-bit, CMYK...: Pillow resizes these poorly or not
    if small is not img:
        img.close()  # the decoded pixels: released before the next copy is made
    small.thumbnail((MAX_SIDE, MAX_SIDE), Image.Resampling.LANCZOS)
    upright = {  # EXIF orientation -> the transpose that shows the picture upright
        2: Image.Transpose.FLIP_LEFT_RIGHT,
        3: Image.Transpose.ROTATE_180,
        4: Image.Transpose.FLIP_TOP_BOTTOM,
        5: Image.Transpose.TRANSPOSE,
        6: Image.Transpose.ROTATE_270,
        7: Image.Transpose.TRANSVERSE,
        8: Image.Transpose.ROTATE_90,
    }.get(orientation)
    if upright is not None:
        small = small.transpose(upright)
    if small.mode == "I":  # 16-bit grey: scale down, do not clip to white
        small = small.point(lambda v: v / 256).convert("L")
    if small.mode != mode:
        small = small.convert(mode)

    clean = Image.frombytes(small.mode, small.size, small.tobytes())  # pixels only, no info/EXIF
    out = BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    clean.save(out, fmt, **_SAVE_OPTIONS[fmt], **extra)
    return out.getvalue()
