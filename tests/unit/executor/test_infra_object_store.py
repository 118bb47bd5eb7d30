from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from praetor.infra.object_store import ObjectStore, open_object_store

ANSI_TEXT = "\x1b[0;32mok: [web-1] ✓ héllo\x1b[0m\r\n".encode()


def exercise_store(store: ObjectStore) -> None:
    store.put("runs/a/stdout/00000001.log", b"second")
    store.put("runs/a/stdout/00000000.log", ANSI_TEXT)
    store.put("runs/b/stdout/00000000.log", b"other run")

    assert store.get("runs/a/stdout/00000000.log") == ANSI_TEXT
    assert store.exists("runs/a/stdout/00000001.log")
    assert not store.exists("runs/a/stdout/00000002.log")
    assert store.list("runs/a/") == ["runs/a/stdout/00000000.log", "runs/a/stdout/00000001.log"]
    assert store.list("runs/a/stdout/0000000") == ["runs/a/stdout/00000000.log", "runs/a/stdout/00000001.log"]
    assert store.list("runs/c/") == []
    assert len(store.list()) == 3

    store.put("runs/a/stdout/00000001.log", b"replaced")
    assert store.get("runs/a/stdout/00000001.log") == b"replaced"

    with pytest.raises(FileNotFoundError):
        store.get("runs/a/stdout/missing.log")


def test_file_store_operations(tmp_path: Path) -> None:
    store = open_object_store((tmp_path / "objects").as_uri())

    exercise_store(store)

    assert (tmp_path / "objects" / "runs" / "a" / "stdout" / "00000000.log").read_bytes() == ANSI_TEXT


def test_file_store_sees_other_writers(tmp_path: Path) -> None:
    url = (tmp_path / "objects").as_uri()
    reader = open_object_store(url)
    writer = open_object_store(url)
    assert reader.list("runs/") == []

    writer.put("runs/x/stdout/00000000.log", b"x")

    assert reader.list("runs/") == ["runs/x/stdout/00000000.log"]


@pytest.mark.parametrize("key", ["", "/abs/key", "runs/../escape", "runs/./x"])
def test_store_rejects_invalid_keys(tmp_path: Path, key: str) -> None:
    store = open_object_store((tmp_path / "objects").as_uri())

    with pytest.raises(ValueError, match="invalid"):
        store.put(key, b"x")


@pytest.mark.parametrize("url", ["http://example.com/x", "file://host/dir", "file:relative", "s3:///prefix"])
def test_open_rejects_invalid_urls(url: str) -> None:
    with pytest.raises(ValueError):
        open_object_store(url)


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_s3_store_operations(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import s3fs

    bucket = f"praetor-{uuid.uuid4().hex[:12]}"
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    s3fs.S3FileSystem(endpoint_url=moto_endpoint, skip_instance_cache=True).mkdir(bucket)

    store = open_object_store(f"s3://{bucket}/praetor/objects", s3_endpoint_url=moto_endpoint)
    exercise_store(store)

    raw = s3fs.S3FileSystem(endpoint_url=moto_endpoint, skip_instance_cache=True)
    assert raw.cat_file(f"{bucket}/praetor/objects/runs/a/stdout/00000000.log") == ANSI_TEXT


def test_s3_store_explicit_credentials(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import s3fs

    bucket = f"praetor-{uuid.uuid4().hex[:12]}"
    monkeypatch.delenv("AWS_ACCESS_KEY_ID", raising=False)
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY", raising=False)
    s3fs.S3FileSystem(endpoint_url=moto_endpoint, key="testing", secret="testing", skip_instance_cache=True).mkdir(bucket)

    store = open_object_store(f"s3://{bucket}", s3_endpoint_url=moto_endpoint, s3_key="testing", s3_secret="testing")
    store.put("runs/r/stdout/00000000.log", b"data")

    assert store.list("runs/") == ["runs/r/stdout/00000000.log"]
