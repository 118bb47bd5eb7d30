"""Object store for run output, over fsspec: a local directory or an S3 bucket prefix.

Keys are `/`-separated paths relative to the store root, such as `runs/<run id>/stdout/00000000.log`.
"""

from __future__ import annotations

import logging
from pathlib import PurePosixPath
from typing import Any
from urllib.parse import urlsplit

from fsspec import AbstractFileSystem
from fsspec.implementations.dirfs import DirFileSystem
from fsspec.implementations.local import LocalFileSystem

logger = logging.getLogger(__name__)


class ObjectStore:
    """Reads and writes whole objects by key under one root of a filesystem."""

    def __init__(self, fs: AbstractFileSystem, url: str) -> None:
        self._fs = fs
        self.url = url

    def put(self, key: str, data: bytes) -> None:
        """Write `data` as the object `key`, replacing any object of that key."""
        self._fs.pipe_file(_check_key(key), data)

    def get(self, key: str) -> bytes:
        """Read the object `key`. Raises FileNotFoundError when it does not exist."""
        return self._fs.cat_file(_check_key(key))

    def exists(self, key: str) -> bool:
        self._fs.invalidate_cache()
        return self._fs.isfile(_check_key(key))

    def list(self, prefix: str = "") -> list[str]:
        """Return the sorted keys that start with `prefix`."""
        # Other processes write to the store, so a cached listing may be stale.
        self._fs.invalidate_cache()
        directory = prefix.rsplit("/", 1)[0] if "/" in prefix else ""
        try:
            found = self._fs.find(directory)
        except FileNotFoundError:
            return []
        keys = (path.lstrip("/") for path in found)
        return sorted(key for key in keys if key.startswith(prefix))


def open_object_store(
    url: str,
    *,
    s3_endpoint_url: str | None = None,
    s3_key: str | None = None,
    s3_secret: str | None = None,
    s3_token: str | None = None,
    create_bucket: bool = False,
) -> ObjectStore:
    """Open the store at `file:///abs/dir` or `s3://bucket/prefix`.

    With `create_bucket`, a missing S3 bucket is created (servers do; executors need not).

    For S3, credentials come from `s3_key`/`s3_secret`/`s3_token` when given, and from the usual
    AWS environment variables and config files otherwise. A local store's directory is created
    when missing.
    """
    parts = urlsplit(url)
    if parts.scheme == "file":
        return _open_local(url, parts.netloc, parts.path)
    if parts.scheme == "s3":
        return _open_s3(url, parts.netloc, parts.path, s3_endpoint_url, s3_key, s3_secret, s3_token, create_bucket)
    raise ValueError(f"object store URL {url!r} is not supported. Use file:///absolute/dir or s3://bucket/prefix")


def _open_local(url: str, host: str, path: str) -> ObjectStore:
    if host not in ("", "localhost"):
        raise ValueError(f"object store URL {url!r} names host {host!r}, but a file URL must be file:///absolute/dir")
    if not path.startswith("/"):
        raise ValueError(f"object store URL {url!r} has no absolute path. Use file:///absolute/dir")

    local = LocalFileSystem(auto_mkdir=True)
    local.makedirs(path, exist_ok=True)
    logger.info("opened local object store at %s", path)
    return ObjectStore(DirFileSystem(path=path, fs=local), url)


def _open_s3(
    url: str,
    bucket: str,
    path: str,
    endpoint_url: str | None,
    key: str | None,
    secret: str | None,
    token: str | None,
    create_bucket: bool = False,
) -> ObjectStore:
    # Imported here so that a process with a local store does not load botocore.
    import s3fs

    if not bucket:
        raise ValueError(f"object store URL {url!r} has no bucket. Use s3://bucket/prefix")

    options: dict[str, Any] = {"skip_instance_cache": True}
    if endpoint_url:
        options["endpoint_url"] = endpoint_url
    if key is not None:
        options["key"] = key
    if secret is not None:
        options["secret"] = secret
    if token is not None:
        options["token"] = token
    s3 = s3fs.S3FileSystem(**options)
    if create_bucket and not s3.exists(bucket):
        s3.mkdir(bucket)
        logger.info("created S3 bucket %s", bucket)

    root = f"{bucket}/{path.strip('/')}".rstrip("/")
    logger.info("opened S3 object store at s3://%s (endpoint %s)", root, endpoint_url or "default")
    return ObjectStore(DirFileSystem(path=root, fs=s3), url)


def _check_key(key: str) -> str:
    parts = PurePosixPath(key).parts
    if not key or key.startswith("/") or ".." in parts or "." in key.split("/"):
        raise ValueError(f"object key {key!r} is invalid. Use a relative path without '.' or '..' parts")
    return key
