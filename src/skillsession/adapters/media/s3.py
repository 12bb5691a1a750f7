"""MediaStore on S3: private objects under a key prefix, served through presigned GET URLs.

URL: `s3://BUCKET/PREFIX?region=eu-west-1&endpoint_url=http://127.0.0.1:5000`. boto3 is imported
on first use only (cold start). Credentials come from the standard AWS chain.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from skillsession.adapters import aws_clients
from skillsession.adapters.media.disk import check_key
from skillsession.ports import SignedUrl

_MAX_PRESIGN_SECONDS = 7 * 24 * 3600  # SigV4 limit


class S3MediaStore:
    backend_name = "s3"

    def __init__(
        self,
        bucket: str,
        prefix: str = "",
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
    ):
        if not bucket:
            raise ValueError("S3MediaStore needs a bucket")
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.region = region
        self.endpoint_url = endpoint_url
        self._client: Any = None

    @classmethod
    def from_url(cls, url: str) -> S3MediaStore:
        parts = urlsplit(url)
        if parts.scheme != "s3" or not parts.netloc:
            raise ValueError(f"not an s3:// media URL: {url}")
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        return cls(
            parts.netloc,
            parts.path,
            region=query.get("region"),
            endpoint_url=query.get("endpoint_url"),
        )

    @property
    def client(self) -> Any:
        if self._client is None:
            from botocore.config import Config

            self._client = aws_clients.client(
                "s3",
                region_name=self.region,
                endpoint_url=self.endpoint_url,
                config=Config(signature_version="s3v4", retries={"mode": "standard"}),
            )
        return self._client

    def ensure_bucket(self) -> None:
        """Create the bucket (private, public access blocked) if it does not exist."""
        from botocore.exceptions import ClientError

        try:
            self.client.head_bucket(Bucket=self.bucket)
            return
        except ClientError as exc:
            if _code(exc) not in {"404", "NoSuchBucket", "NotFound"}:
                raise
        kwargs: dict[str, Any] = {"Bucket": self.bucket}
        region = self.client.meta.region_name
        if region and region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        try:
            self.client.create_bucket(**kwargs)
        except ClientError as exc:
            if _code(exc) != "BucketAlreadyOwnedByYou":
                raise
        self.client.put_public_access_block(
            Bucket=self.bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )

    # -- MediaStore -------------------------------------------------------------------------
    def put(self, key: str, data: bytes, content_type: str) -> None:
        self.client.put_object(
            Bucket=self.bucket, Key=self._key(key), Body=data, ContentType=content_type
        )

    def get(self, key: str) -> tuple[bytes, str] | None:
        from botocore.exceptions import ClientError

        try:
            obj = self.client.get_object(Bucket=self.bucket, Key=self._key(key))
        except ClientError as exc:
            if _code(exc) in {"NoSuchKey", "404", "NotFound"}:
                return None
            raise
        return obj["Body"].read(), obj.get("ContentType") or "application/octet-stream"

    def delete(self, key: str) -> None:
        self.client.delete_object(Bucket=self.bucket, Key=self._key(key))

    def signed_url(self, key: str, expires_in_seconds: int) -> SignedUrl:
        seconds = max(1, min(int(expires_in_seconds), _MAX_PRESIGN_SECONDS))
        now = datetime.now(UTC).replace(microsecond=0)
        url = self.client.generate_presigned_url(
            "get_object",
            Params={"Bucket": self.bucket, "Key": self._key(key)},
            ExpiresIn=seconds,
        )
        return SignedUrl(url=url, expires_at=now + timedelta(seconds=seconds))

    def _key(self, key: str) -> str:
        check_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))
