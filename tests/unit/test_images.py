import random
import struct
import zlib
from io import BytesIO

import pytest
from PIL import ExifTags, Image, PngImagePlugin

from skillsession.domain.errors import PayloadTooLarge, UnsupportedMediaType, ValidationFailed
from skillsession.service.images import MAX_IMAGE_BYTES, MAX_PIXELS, MAX_SIDE, normalise_image

GPS = ExifTags.IFD.GPSInfo
XMP = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF>secret-xmp</rdf:RDF></x:xmpmeta>'


def encode(img: Image.Image, fmt: str, **params) -> bytes:
    buf = BytesIO()
    img.save(buf, fmt, **params)
    return buf.getvalue()


def noisy(mode: str = "RGB", size: tuple[int, int] = (64, 48)) -> Image.Image:
    """Random pixels (incompressible), with a varying alpha channel for RGBA/LA."""
    img = Image.frombytes("RGBA", size, random.Random(0).randbytes(size[0] * size[1] * 4))
    return img.convert(mode) if mode in ("RGBA", "LA") else img.convert("RGB").convert(mode)


def exif_with_gps() -> Image.Exif:
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "SpyCam"
    exif[ExifTags.Base.Orientation] = 1
    exif[GPS] = {ExifTags.GPS.GPSLatitudeRef: "N", ExifTags.GPS.GPSLatitude: (44.0, 38.0, 5.0)}
    return exif


def decode(data: bytes) -> Image.Image:
    img = Image.open(BytesIO(data))
    img.load()
    return img


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def png_bomb(width: int, height: int) -> bytes:
    """A real, valid 1-bit PNG of `width` x `height` black pixels, compressed to a few KiB."""
    row = b"\x00" + b"\x00" * ((width + 7) // 8)
    comp = zlib.compressobj(9)
    idat = b"".join(comp.compress(row) for _ in range(height)) + comp.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", ihdr)
        + png_chunk(b"IDAT", idat)
        + png_chunk(b"IEND", b"")
    )


# -- valid images -------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("fmt", "ctype", "ext"),
    [("PNG", "image/png", "png"), ("JPEG", "image/jpeg", "jpg"), ("WEBP", "image/webp", "webp")],
)
def test_round_trip_keeps_format_and_size(fmt, ctype, ext):
    data, out_type, out_ext = normalise_image(encode(noisy(), fmt), ctype)
    assert (out_type, out_ext) == (ctype, ext)
    img = decode(data)
    assert img.format == fmt and img.size == (64, 48)


def test_jpeg_exif_gps_comment_and_xmp_are_stripped():
    src = encode(noisy(), "JPEG", exif=exif_with_gps(), comment=b"secret-comment", xmp=XMP)
    assert b"SpyCam" in src and b"secret-comment" in src and b"secret-xmp" in src
    data, _, _ = normalise_image(src, "image/jpeg")
    img = decode(data)
    assert not img.getexif() and "exif" not in img.info and "comment" not in img.info
    for marker in (b"Exif", b"SpyCam", b"secret-comment", b"secret-xmp"):
        assert marker not in data


def test_jpeg_exif_orientation_is_applied_before_stripping():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # rotate 90 degrees clockwise to display
    data, _, _ = normalise_image(encode(noisy(size=(40, 20)), "JPEG", exif=exif), "image/jpeg")
    img = decode(data)
    assert img.size == (20, 40) and not img.getexif()


def test_png_text_chunks_and_exif_are_stripped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Alice Secret")
    info.add_text("Comment", "zipped secret", zip=True)
    info.add_itxt("Location", "itxt secret")
    src = encode(noisy(), "PNG", pnginfo=info, exif=exif_with_gps())
    assert b"tEXt" in src and b"eXIf" in src
    data, _, _ = normalise_image(src, "image/png")
    for marker in (b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"Alice", b"SpyCam"):
        assert marker not in data
    assert decode(data).text == {}


def test_webp_exif_and_xmp_are_stripped():
    src = encode(noisy(), "WEBP", exif=exif_with_gps(), xmp=XMP)
    assert b"SpyCam" in src and b"secret-xmp" in src
    data, ctype, _ = normalise_image(src, "image/webp")
    assert ctype == "image/webp"
    assert b"SpyCam" not in data and b"secret-xmp" not in data and b"EXIF" not in data


def test_trailing_payload_after_png_is_dropped():
    src = encode(noisy(), "PNG") + b"<script>alert(1)</script>"
    data, _, _ = normalise_image(src, "image/png")
    assert b"<script>" not in data


@pytest.mark.parametrize(
    ("mode", "fmt", "out_mode"),
    [
        ("RGBA", "PNG", "RGBA"),
        ("P", "PNG", "RGB"),
        ("LA", "PNG", "RGBA"),
        ("L", "PNG", "L"),
        ("1", "PNG", "L"),
        ("CMYK", "JPEG", "RGB"),
        ("RGBA", "WEBP", "RGBA"),
    ],
)
def test_modes_are_converted_to_web_friendly_ones(mode, fmt, out_mode):
    data, _, _ = normalise_image(encode(noisy(mode), fmt), f"image/{fmt.lower()}")
    assert decode(data).mode == out_mode


def test_palette_png_with_transparency_keeps_alpha():
    img = Image.new("P", (8, 8), 0)
    img.putpalette([255, 0, 0, 0, 255, 0])
    data, _, _ = normalise_image(encode(img, "PNG", transparency=0), "image/png")
    assert decode(data).getpixel((0, 0)) == (255, 0, 0, 0)


def test_sixteen_bit_grey_png_is_scaled_not_clipped():
    data, _, _ = normalise_image(encode(Image.new("I;16", (4, 4), 30000), "PNG"), "image/png")
    assert decode(data).getpixel((0, 0)) == 117


def test_large_image_is_downscaled_to_max_side():
    data, _, _ = normalise_image(encode(noisy(size=(2000, 1000)), "JPEG"), "image/jpeg")
    assert decode(data).size == (MAX_SIDE, MAX_SIDE // 2)


def test_content_type_parameters_and_case_are_ignored():
    _, ctype, _ = normalise_image(encode(noisy(), "PNG"), "IMAGE/PNG; charset=binary")
    assert ctype == "image/png"


def test_one_allowed_format_declared_as_another_keeps_its_real_type():
    assert normalise_image(encode(noisy(), "PNG"), "image/jpeg")[1:] == ("image/png", "png")


# -- refusals -----------------------------------------------------------------------------------
def test_more_than_5_mib_is_refused_before_decoding():
    with pytest.raises(PayloadTooLarge) as err:
        normalise_image(b"\x00" * (MAX_IMAGE_BYTES + 1), "image/png")
    assert err.value.code == "image_too_large"


def test_exactly_5_mib_is_not_too_large():
    with pytest.raises(ValidationFailed):
        normalise_image(b"\x00" * MAX_IMAGE_BYTES, "image/png")


@pytest.mark.parametrize(
    "ctype", ["image/gif", "image/svg+xml", "text/plain", "application/json", "", "png"]
)
def test_other_content_types_are_unsupported(ctype):
    with pytest.raises(UnsupportedMediaType) as err:
        normalise_image(encode(noisy(), "PNG"), ctype)
    assert err.value.code == "unsupported_image_type"


@pytest.mark.parametrize("fmt, ctype", [("PNG", "image/png"), ("JPEG", "image/jpeg")])
def test_octet_stream_is_read_as_what_the_bytes_are(fmt, ctype):
    """Generated clients send raw uploads as application/octet-stream (the OpenAPI document
    describes the upload so): the bytes say which of the three formats it is."""
    _, stored_type, _ = normalise_image(encode(noisy(), fmt), "application/octet-stream")
    assert stored_type == ctype
    with pytest.raises(ValidationFailed):
        normalise_image(SVG, "application/octet-stream")


SVG = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(SVG, id="svg"),
        pytest.param(b"hello, I am text", id="text"),
        pytest.param(b"", id="empty"),
        pytest.param(b"\x89PNG\r\n\x1a\n<html>", id="png-magic-then-html"),
        pytest.param(encode(noisy(), "GIF"), id="gif"),
        pytest.param(encode(noisy(), "BMP"), id="bmp"),
        pytest.param(encode(noisy(size=(300, 300)), "PNG")[:3000], id="truncated-png"),
        pytest.param(encode(noisy(size=(300, 300)), "JPEG")[:2000], id="truncated-jpeg"),
    ],
)
def test_non_images_are_invalid(data):
    with pytest.raises(ValidationFailed) as err:
        normalise_image(data, "image/png")
    assert err.value.code == "invalid_image"


@pytest.mark.parametrize(
    "size", [(8000, 6000), (20000, 20000)], ids=["over-our-limit", "over-pillow-limit"]
)
def test_decompression_bombs_are_refused(size):
    bomb = png_bomb(*size)
    assert len(bomb) < 200_000
    with pytest.raises(ValidationFailed) as err:
        normalise_image(bomb, "image/png")
    assert err.value.code == "invalid_image"


def test_bomb_dimensions_in_header_alone_are_refused():
    header = b"\x89PNG\r\n\x1a\n" + png_chunk(
        b"IHDR", struct.pack(">IIBBBBB", 65535, 65535, 8, 6, 0, 0, 0)
    )
    with pytest.raises(ValidationFailed):
        normalise_image(header + png_chunk(b"IEND", b""), "image/png")


# -- what a decode may cost (issue 11, item 8) -----------------------------------------------------
def test_more_pixels_than_a_profile_photo_needs_are_refused():
    """A 165 KiB PNG of 6300 x 6300 pixels was decoded (~400 MB); the bound is 4096 x 4096."""
    assert MAX_PIXELS <= 4096 * 4096
    for size in [(6300, 6300), (4097, 4096), (MAX_PIXELS // 2 + 1, 2)]:
        with pytest.raises(ValidationFailed) as err:
            normalise_image(png_bomb(*size), "image/png")
        assert err.value.code == "invalid_image" and err.value.details["max_pixels"] == MAX_PIXELS
    data, _, _ = normalise_image(png_bomb(4096, 4096), "image/png")
    assert decode(data).size == (MAX_SIDE, MAX_SIDE)


def test_a_progressive_jpeg_has_the_plain_bound():
    """libjpeg keeps a progressive JPEG's coefficients for the whole image while decoding."""
    src = encode(Image.new("RGB", (4200, 4100), "teal"), "JPEG", progressive=True, quality=20)
    with pytest.raises(ValidationFailed):
        normalise_image(src, "image/jpeg")


MEASURE = """
import resource, sys
from skillsession.service.images import normalise_image
import PIL.Image, PIL.JpegImagePlugin
data = sys.stdin.buffer.read()
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
out, _, _ = normalise_image(data, "image/jpeg")
print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) // 1024)
"""


def test_a_phone_sized_baseline_jpeg_is_decoded_at_a_reduced_scale():
    """A 48 Mpx phone photo is accepted, and decoded at 1/4 scale: its peak memory grows by a few
    MB, not the 146 MB its full pixels take (measured in a fresh process)."""
    import subprocess
    import sys

    src = encode(Image.new("RGB", (8064, 6048), "teal"), "JPEG", quality=30)
    grown = subprocess.run(
        [sys.executable, "-c", MEASURE], input=src, capture_output=True, check=True
    ).stdout
    assert int(grown) < 8064 * 6048 * 3 // (1024 * 1024) // 4, grown
    data, _, _ = normalise_image(src, "image/jpeg")
    assert decode(data).size == (MAX_SIDE, 768)


def test_decodes_take_turns_and_a_caller_that_waits_too_long_is_told_to_retry(monkeypatch):
    """At most MAX_DECODES at once per process (threads racing for real); past
    DECODE_WAIT_SECONDS of waiting, Busy (503) with a Retry-After."""
    import threading
    import time

    from skillsession.domain.errors import Busy
    from skillsession.service import images

    running, most, lock = 0, 0, threading.Lock()
    reencode = images._reencode

    def counted(img, fmt):
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.02)  # long enough for the others to pile up at the gate
        try:
            return reencode(img, fmt)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(images, "_reencode", counted)
    src = encode(noisy(), "PNG")
    threads = [threading.Thread(target=normalise_image, args=(src, "image/png")) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == images.MAX_DECODES

    monkeypatch.setattr(images, "DECODE_WAIT_SECONDS", 0.05)
    with images.decode_turn(), pytest.raises(Busy) as err:  # every turn taken (MAX_DECODES: 1)
        normalise_image(src, "image/png")
    assert err.value.code == "images_busy" and err.value.retry_after >= 1
    assert normalise_image(src, "image/png")[1] == "image/png"  # the turn is back
