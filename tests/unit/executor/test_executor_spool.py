from __future__ import annotations

import json
import threading
from pathlib import Path

import pytest

from praetor.executor.spool import SpoolCorruptError, SpoolTail, SpoolWriter, encode_record, read_spool


def make_record(seq: int, stdout: str = "") -> dict:
    return {"seq": seq, "event_type": "runner_on_ok", "stdout": stdout, "event_data": {"host": "web-1"}}


def test_spool_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    writer = SpoolWriter(path)
    records = [make_record(1, "héllo wörld ✓"), make_record(2, "\x1b[0;32mok\x1b[0m"), make_record(3, "x" * 20_000)]
    for record in records:
        writer.append(record)
    writer.close()

    assert list(read_spool(path)) == records
    assert len(path.read_bytes().splitlines()) == 3


def test_spool_writes_utf8_not_escapes(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    writer = SpoolWriter(path)
    writer.append(make_record(1, "héllo"))
    writer.close()

    assert "héllo".encode() in path.read_bytes()


def test_spool_lone_surrogate_stays_valid_json() -> None:
    line = encode_record(make_record(1, "bad \udc80 byte"))

    assert line.endswith(b"\n")
    assert json.loads(line)["stdout"] == "bad \udc80 byte"


def test_spool_rejects_seq_gap(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path / "events.jsonl")
    writer.append(make_record(1))

    with pytest.raises(ValueError, match="does not follow 1"):
        writer.append(make_record(3))
    assert writer.last_seq == 1


def test_spool_rejects_existing_file(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"")

    with pytest.raises(FileExistsError):
        SpoolWriter(path)


def test_spool_append_after_close_raises(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path / "events.jsonl")
    writer.close()

    with pytest.raises(ValueError, match="closed"):
        writer.append(make_record(1))


def test_read_spool_skips_torn_last_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(encode_record(make_record(1)) + encode_record(make_record(2)) + b'{"seq": 3, "stdo')

    assert [record["seq"] for record in read_spool(path)] == [1, 2]


def test_read_spool_raises_on_corrupt_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(encode_record(make_record(1)) + b"not json\n" + encode_record(make_record(3)))

    with pytest.raises(SpoolCorruptError, match="line 2"):
        list(read_spool(path))


def test_read_spool_raises_on_non_object_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"[1, 2]\n")

    with pytest.raises(SpoolCorruptError, match="not a JSON object"):
        list(read_spool(path))


def test_spool_tail_waits_for_complete_line(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(encode_record(make_record(1)) + b'{"seq": 2')
    tail = SpoolTail(path)

    first = tail.read_lines(10)
    with path.open("ab") as spool:
        spool.write(b"}\n")
    second = tail.read_lines(10)
    tail.close()

    assert [json.loads(line)["seq"] for line in first] == [1]
    assert [json.loads(line)["seq"] for line in second] == [2]


def test_spool_tail_respects_max_lines(tmp_path: Path) -> None:
    path = tmp_path / "events.jsonl"
    writer = SpoolWriter(path)
    for seq in range(1, 8):
        writer.append(make_record(seq))
    tail = SpoolTail(path)

    batches = [tail.read_lines(3), tail.read_lines(3), tail.read_lines(3), tail.read_lines(3)]
    tail.close()
    writer.close()

    assert [len(batch) for batch in batches] == [3, 3, 1, 0]


def test_spool_wait_for_records_wakes_on_append(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path / "events.jsonl")
    timer = threading.Timer(0.05, writer.append, args=(make_record(1),))
    timer.start()

    last_seq = writer.wait_for_records(0, 1, timeout=5.0)
    timer.join()
    writer.close()

    assert last_seq == 1


def test_spool_wait_for_records_returns_on_close(tmp_path: Path) -> None:
    writer = SpoolWriter(tmp_path / "events.jsonl")
    writer.append(make_record(1))
    timer = threading.Timer(0.05, writer.close)
    timer.start()

    last_seq = writer.wait_for_records(0, 500, timeout=5.0)
    timer.join()

    assert last_seq == 1
    assert writer.closed
