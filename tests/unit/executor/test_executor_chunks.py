from __future__ import annotations

import time
from pathlib import Path

from run_api_stub import StubRunApi

from praetor.executor.api import RunApiClient
from praetor.executor.chunks import ChunkPublisher, StdoutChunk, StdoutChunker, chunk_object_key
from praetor.executor.logs import RunLogContext
from praetor.executor.retry import Backoff
from praetor.infra.object_store import open_object_store

TOKEN = "test-run-token"


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def join_chunks(chunks: list[StdoutChunk]) -> bytes:
    return b"".join(chunk.data for chunk in chunks)


def test_chunker_seals_at_max_bytes() -> None:
    chunker = StdoutChunker(max_bytes=10, max_age_seconds=60)

    first = chunker.add(1, "abcd")
    second = chunker.add(2, "efgh")
    third = chunker.add(3, "ij")

    assert first is None
    assert second is not None
    assert second.data == b"abcd\nefgh\n"
    assert (second.index, second.first_seq, second.last_seq, second.byte_offset) == (0, 1, 2, 0)
    assert third is None


def test_chunker_byte_offsets_follow_sizes() -> None:
    chunker = StdoutChunker(max_bytes=8, max_age_seconds=60)
    chunks = [chunk for seq in range(1, 20) if (chunk := chunker.add(seq, f"line {seq}")) is not None]
    last = chunker.seal()
    if last is not None:
        chunks.append(last)

    offset = 0
    for index, chunk in enumerate(chunks):
        assert chunk.index == index
        assert chunk.byte_offset == offset
        offset += chunk.size
    assert join_chunks(chunks) == "".join(f"line {seq}\n" for seq in range(1, 20)).encode()
    assert chunker.total_bytes == offset
    assert chunker.chunk_count == len(chunks)


def test_chunker_counts_utf8_bytes() -> None:
    chunker = StdoutChunker(max_bytes=12, max_age_seconds=60)
    text = "héllo ✓"  # 7 characters, 10 bytes in UTF-8

    first = chunker.add(1, text)
    second = chunker.add(2, "é")

    assert first is None
    assert second is not None
    assert second.size == len("héllo ✓\né\n".encode())
    assert second.data.decode("utf-8") == "héllo ✓\né\n"


def test_chunker_keeps_long_line_whole() -> None:
    chunker = StdoutChunker(max_bytes=64 * 1024, max_age_seconds=60)
    long_line = "\x1b[0;32m" + "ä" * 20_000 + "\x1b[0m"

    sealed = chunker.add(1, long_line)
    last = chunker.seal()

    assert sealed is None
    assert last is not None
    assert last.data == (long_line + "\n").encode("utf-8")


def test_chunker_never_splits_an_event() -> None:
    chunker = StdoutChunker(max_bytes=100, max_age_seconds=60)
    chunker.add(1, "short")
    big = chunker.add(2, "y" * 1000)

    assert big is not None
    assert big.data == b"short\n" + b"y" * 1000 + b"\n"
    assert (big.first_seq, big.last_seq) == (1, 2)


def test_chunker_ignores_empty_stdout() -> None:
    chunker = StdoutChunker(max_bytes=100, max_age_seconds=60)
    chunker.add(1, "")
    chunker.add(2, "text")
    chunker.add(3, "")
    chunk = chunker.seal()

    assert chunk is not None
    assert chunk.data == b"text\n"
    assert (chunk.first_seq, chunk.last_seq) == (2, 2)
    assert chunker.seal() is None


def test_chunker_seals_after_max_age() -> None:
    clock = FakeClock()
    chunker = StdoutChunker(max_bytes=1000, max_age_seconds=1.0, clock=clock)
    chunker.add(1, "a")
    clock.now += 0.5
    chunker.add(2, "b")

    not_yet = chunker.seal_if_due()
    clock.now += 0.5
    due = chunker.seal_if_due()

    assert not_yet is None
    assert due is not None
    assert due.data == b"a\nb\n"


def test_chunker_age_starts_with_first_text() -> None:
    clock = FakeClock()
    chunker = StdoutChunker(max_bytes=1000, max_age_seconds=1.0, clock=clock)
    clock.now += 5.0
    chunker.add(1, "")
    assert chunker.seal_if_due() is None

    chunker.add(2, "a")
    assert chunker.seal_if_due() is None
    clock.now += 1.0
    assert chunker.seal_if_due() is not None


def test_chunk_object_key_format() -> None:
    assert chunk_object_key("r1", 7) == "runs/r1/stdout/00000007.log"


def make_publisher(stub: StubRunApi, tmp_path: Path, log_context: RunLogContext, chunker: StdoutChunker, failures: list[str]):
    client = RunApiClient(stub.url, stub.run_id, TOKEN, log_context, backoff=Backoff(initial=0.01, maximum=0.05))
    store = open_object_store((tmp_path / "objects").as_uri())
    publisher = ChunkPublisher(client, store, stub.run_id, log_context, on_fatal=failures.append, chunker=chunker)
    return client, store, publisher


def test_publisher_writes_and_announces(stub_api: StubRunApi, tmp_path: Path, log_context: RunLogContext) -> None:
    failures: list[str] = []
    chunker = StdoutChunker(max_bytes=1024, max_age_seconds=60)
    client, store, publisher = make_publisher(stub_api, tmp_path, log_context, chunker, failures)
    lines = [f"line {seq} ✓ " + "z" * (seq * 37 % 300) for seq in range(1, 200)]

    publisher.start()
    for seq, line in enumerate(lines, start=1):
        publisher.add(seq, line)
    drained = publisher.drain(10)
    client.close()

    assert drained
    assert failures == []
    expected = "".join(line + "\n" for line in lines).encode()
    keys = store.list(f"runs/{stub_api.run_id}/stdout/")
    assert len(keys) == publisher.announced_count
    assert sorted(stub_api.chunks) == list(range(len(keys)))
    assert b"".join(store.get(key) for key in keys) == expected

    offset = 0
    for index in range(len(keys)):
        announced = stub_api.chunks[index]
        assert announced["object_key"] == keys[index]
        assert announced["byte_offset"] == offset
        assert announced["size"] == len(store.get(keys[index]))
        offset += announced["size"]


def test_publisher_flushes_old_chunk_while_idle(stub_api: StubRunApi, tmp_path: Path, log_context: RunLogContext) -> None:
    failures: list[str] = []
    chunker = StdoutChunker(max_bytes=1024, max_age_seconds=0.2)
    client, store, publisher = make_publisher(stub_api, tmp_path, log_context, chunker, failures)

    publisher.start()
    publisher.add(1, "only line")
    deadline = time.monotonic() + 5
    while not stub_api.chunks and time.monotonic() < deadline:
        time.sleep(0.05)
    announced_before_drain = dict(stub_api.chunks)
    publisher.drain(5)
    client.close()

    assert list(announced_before_drain) == [0]
    assert store.get(announced_before_drain[0]["object_key"]) == b"only line\n"


def test_publisher_retries_announcement(stub_api: StubRunApi, tmp_path: Path, log_context: RunLogContext) -> None:
    failures: list[str] = []
    stub_api.fail_next("log-chunks", 503, 500, 429)
    chunker = StdoutChunker(max_bytes=10, max_age_seconds=60)
    client, store, publisher = make_publisher(stub_api, tmp_path, log_context, chunker, failures)

    publisher.start()
    publisher.add(1, "0123456789")
    drained = publisher.drain(10)
    client.close()

    assert drained
    assert failures == []
    assert stub_api.calls_to("log-chunks")[:4] == [503, 500, 429, 202]
    assert stub_api.chunks[0]["size"] == 11


def test_publisher_stops_on_client_error(stub_api: StubRunApi, tmp_path: Path, log_context: RunLogContext) -> None:
    failures: list[str] = []
    stub_api.fail_next("log-chunks", 400)
    chunker = StdoutChunker(max_bytes=10, max_age_seconds=60)
    client, store, publisher = make_publisher(stub_api, tmp_path, log_context, chunker, failures)

    publisher.start()
    publisher.add(1, "0123456789")
    drained = publisher.drain(10)
    publisher.add(2, "dropped after the failure")
    client.close()

    assert not drained
    assert len(failures) == 1
    assert "HTTP 400" in failures[0]
    assert publisher.announced_count == 0
