"""S3MediaStore specifics beyond the MediaStore contract (which runs it too), against moto."""

from __future__ import annotations

import uuid

import boto3
import httpx
import pytest
from moto_server import REGION, endpoint_url

from skillsession.adapters.media.s3 import S3MediaStore


def _store(prefix: str = "media") -> S3MediaStore:
    bucket = f"test-{uuid.uuid4().hex[:12]}"
    store = S3MediaStore.from_url(
        f"s3://{bucket}/{prefix}?region={REGION}&endpoint_url={endpoint_url()}"
    )
    store.ensure_bucket()
    return store


def test_from_url_parses_bucket_prefix_and_options():
    store = S3MediaStore.from_url("s3://bkt/a/b/?region=eu-central-1&endpoint_url=http://x:1")
    assert (store.bucket, store.prefix, store.region, store.endpoint_url) == (
        "bkt",
        "a/b",
        "eu-central-1",
        "http://x:1",
    )
    assert S3MediaStore.from_url("s3://bkt").prefix == ""
    with pytest.raises(ValueError):
        S3MediaStore.from_url("file://bkt/x")


def test_objects_live_under_the_prefix_with_their_content_type():
    store = _store("uploads")
    store.put("profile-images/u1/i1.png", b"png", "image/png")
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint_url())
    head = s3.head_object(Bucket=store.bucket, Key="uploads/profile-images/u1/i1.png")
    assert head["ContentType"] == "image/png"


def test_ensure_bucket_is_idempotent_and_blocks_public_access():
    store = _store()
    store.ensure_bucket()
    s3 = boto3.client("s3", region_name=REGION, endpoint_url=endpoint_url())
    block = s3.get_public_access_block(Bucket=store.bucket)["PublicAccessBlockConfiguration"]
    assert all(block.values())


def test_objects_are_private_without_a_signature():
    store = _store()
    store.put("k/a.png", b"secret", "image/png")
    signed = store.signed_url("k/a.png", 60).url
    unsigned = signed.split("?", 1)[0]
    assert httpx.get(signed).content == b"secret"
    assert httpx.get(unsigned).status_code == 403


def test_invalid_keys_are_refused():
    store = _store()
    for key in ("../x", "/abs", "a//b", ""):
        with pytest.raises(ValueError):
            store.put(key, b"x", "image/png")


def test_bootstrap_builds_s3_media(monkeypatch, tmp_path):
    from skillsession.bootstrap import build_media
    from skillsession.settings import Settings

    monkeypatch.setenv("SKILLSESSION_MEDIA", "s3://bkt/p?region=eu-west-1")
    monkeypatch.setenv("SKILLSESSION_DATA_DIR", str(tmp_path))
    media = build_media(Settings(), b"secret")
    assert isinstance(media, S3MediaStore) and media.backend_name == "s3"
