"""Object storage (S3 or any S3-compatible store) through boto3: the landing zone, senders' buckets,
the validated Parquet.

Plain classes with the boto3 client injected; credentials come from the standard AWS chain
(environment, profile, instance role), never from code. We only ever write under our own prefixes:
objects in a sender's bucket are listed and read, never deleted nor modified.
"""

from __future__ import annotations

import fnmatch
import hashlib
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator
from urllib.parse import urlparse

import boto3
from boto3.s3.transfer import TransferConfig
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError

from connectors.landing_store import (CHUNK, LandedObject, land_hashed_first, landing_suffix, put_bytes_via_file,
                                      sha256_file)

MULTIPART_THRESHOLD = 16 * 1024 * 1024
MULTIPART_CHUNK = 8 * 1024 * 1024


class StorageError(RuntimeError):
    """Object storage failed; the message names the bucket, the key and what was being done."""


@dataclass(frozen=True)
class S3Url:
    bucket: str
    prefix: str

    @classmethod
    def parse(cls, url: str) -> "S3Url":
        u = urlparse(url)
        if u.scheme != "s3" or not u.netloc:
            raise ValueError(f"{url!r} is not an s3://bucket/prefix URL")
        return cls(u.netloc, u.path.strip("/"))

    def key(self, *parts: str) -> str:
        return "/".join(p.strip("/") for p in (self.prefix, *parts) if p)

    @property
    def listing_prefix(self) -> str:
        return f"{self.prefix}/" if self.prefix else ""

    def __str__(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}".rstrip("/")


def make_client(endpoint_url: str | None, region: str | None, connect_timeout_s: float = 5,
                read_timeout_s: float = 60):
    """A boto3 S3 client with explicit timeouts and standard retries; credentials from the AWS chain."""
    config = Config(connect_timeout=connect_timeout_s, read_timeout=read_timeout_s,
                    retries={"max_attempts": 3, "mode": "standard"},
                    s3={"addressing_style": "path" if endpoint_url else "auto"})
    return boto3.session.Session().client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                                          config=config)


def multipart_etag(path: Path, chunk: int) -> str:
    """The ETag S3 gives an object uploaded in parts of `chunk` bytes (MD5 of the parts' MD5s, '-N')."""
    digests = []
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digests.append(hashlib.md5(block).digest())
    return f"{hashlib.md5(b''.join(digests)).hexdigest()}-{len(digests)}"


def _md5(path: Path) -> str:
    h = hashlib.md5()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def _wrap(action: str, bucket: str, key: str, e: Exception) -> StorageError:
    code = e.response.get("Error", {}).get("Code") if isinstance(e, ClientError) else type(e).__name__
    return StorageError(f"S3 {action} s3://{bucket}/{key} failed: {code}: {e}")


class S3LandingStore:
    """The landing zone in a bucket: `<prefix>/<source>/<sha256><suffix>`, same naming and same no-op
    on identical bytes as the local folder. Large files go up in parts; the stored object is checked
    (size, ETag computed from our bytes, our sha256 in its metadata) before it counts as landed."""

    def __init__(self, client, url: S3Url, cache_dir: Path, multipart_threshold: int = MULTIPART_THRESHOLD,
                 multipart_chunk: int = MULTIPART_CHUNK):
        self.client, self.url, self.cache_dir = client, url, Path(cache_dir)
        self.transfer = TransferConfig(multipart_threshold=multipart_threshold,
                                       multipart_chunksize=multipart_chunk, use_threads=False)
        self.chunk = multipart_chunk
        self.threshold = multipart_threshold

    def _exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.url.bucket, Key=key)
            return True
        except ClientError as e:
            if e.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise _wrap("HEAD", self.url.bucket, key, e)
        except BotoCoreError as e:
            raise _wrap("HEAD", self.url.bucket, key, e)

    def put(self, source: str, path: Path, sha256: str, suffix: str | None = None) -> LandedObject:
        path = Path(path)
        key = self.url.key(source, f"{sha256}{suffix if suffix is not None else landing_suffix(path)}")
        size = path.stat().st_size
        if self._exists(key):
            return LandedObject(source, sha256, key, size, is_new=False)
        try:
            self.client.upload_file(str(path), self.url.bucket, key, Config=self.transfer,
                                    ExtraArgs={"Metadata": {"sha256": sha256}})
            head = self.client.head_object(Bucket=self.url.bucket, Key=key)
        except (ClientError, BotoCoreError) as e:
            # an object appears only once complete (multipart parts are invisible until then)
            raise _wrap("upload to", self.url.bucket, key, e) from None
        expected = multipart_etag(path, self.chunk) if size >= self.threshold else _md5(path)
        got = head.get("ETag", "").strip('"')
        if head.get("ContentLength") != size or got != expected or head.get("Metadata", {}).get("sha256") != sha256:
            self.client.delete_object(Bucket=self.url.bucket, Key=key)  # our own prefix: never a sender's
            raise StorageError(f"S3 upload s3://{self.url.bucket}/{key}: stored object does not match the file"
                               f" (size {head.get('ContentLength')} vs {size}, ETag {got} vs {expected});"
                               " removed, will be retried next run")
        return LandedObject(source, sha256, key, size, is_new=True)

    def land(self, source: str, path: Path, known: set[str]) -> tuple[str, LandedObject | None]:
        return land_hashed_first(self, source, path, known)

    def put_bytes(self, source: str, data: bytes, suffix: str) -> LandedObject:
        return put_bytes_via_file(self, source, data, suffix)

    def fetch(self, key: str) -> Path:
        """A local copy to read (cached: landed objects never change)."""
        target = self.cache_dir / key
        if target.exists():
            return target
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.part")
        try:
            self.client.download_file(self.url.bucket, key, str(tmp))
        except (ClientError, BotoCoreError) as e:
            tmp.unlink(missing_ok=True)
            raise _wrap("download of", self.url.bucket, key, e) from None
        os.replace(tmp, target)
        return target

    def discard_partial(self, source: str) -> int:
        """Nothing to do: an object appears whole or not at all (a multipart upload never completed is the
        bucket's lifecycle rule to abort)."""
        return 0


@dataclass(frozen=True)
class RemoteObject:
    bucket: str
    key: str
    etag: str
    size: int

    @property
    def name(self) -> str:
        return self.key.rsplit("/", 1)[-1]


class S3Inbox:
    """A sender's bucket prefix laid out like the inbox (`<prefix>/<source>/...`). Read-only."""

    def __init__(self, client, url: S3Url):
        self.client, self.url = client, url

    def list(self, source: str, patterns: tuple[str, ...]) -> Iterator[RemoteObject]:
        prefix = self.url.key(source) + "/"
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.url.bucket,
                                                                             Prefix=prefix):
                for obj in page.get("Contents", []):
                    name = obj["Key"].rsplit("/", 1)[-1]
                    if not name.startswith(".") and any(fnmatch.fnmatch(name, p) for p in patterns):
                        yield RemoteObject(self.url.bucket, obj["Key"], obj["ETag"].strip('"'), obj["Size"])
        except (ClientError, BotoCoreError) as e:
            raise _wrap("listing of", self.url.bucket, prefix, e) from None

    def download(self, obj: RemoteObject, target: Path) -> str:
        """Download to `target`; returns the sha256 of the bytes."""
        try:
            self.client.download_file(obj.bucket, obj.key, str(target))
        except (ClientError, BotoCoreError) as e:
            raise _wrap("download of", obj.bucket, obj.key, e) from None
        return sha256_file(target)


class S3Mirror:
    """Copies a local folder's new files under an S3 prefix (the validated Parquet, read by dbt there)."""

    def __init__(self, client, url: S3Url):
        self.client, self.url = client, url

    def push(self, folder: Path) -> int:
        existing = set()
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(Bucket=self.url.bucket,
                                                                             Prefix=self.url.listing_prefix):
                existing.update(o["Key"] for o in page.get("Contents", []))
            pushed = 0
            for path in sorted(Path(folder).rglob("*.parquet")):
                if path.name.startswith("."):
                    continue
                key = self.url.key(str(path.relative_to(folder)))
                if key not in existing:
                    self.client.upload_file(str(path), self.url.bucket, key)
                    pushed += 1
            return pushed
        except (ClientError, BotoCoreError) as e:
            raise _wrap("push to", self.url.bucket, self.url.prefix, e) from None
