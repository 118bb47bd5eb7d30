"""Job output through the API: the text log in both formats, and the event stream page by page."""

from __future__ import annotations

from typing import Any

import pytest
from expected import LONG_LINE_LENGTH, LOOP_ITEM_EVENTS, MANY_EVENTS, NON_ASCII_TEXT, ODD_OUTPUT
from harness import Praetor

from praetor.cli.client import ApiClient

pytestmark = pytest.mark.e2e

ESC = "\x1b"
EVENT_PAGE_SIZE = 400


@pytest.fixture(scope="module")
def odd_output_job(praetor: Praetor, scenario_jobs: dict[str, str]) -> dict[str, Any]:
    return praetor.wait(scenario_jobs[ODD_OUTPUT.id])


@pytest.fixture(scope="module")
def odd_output_log(api: ApiClient, odd_output_job: dict[str, Any]) -> str:
    return api.logs(odd_output_job["id"])


@pytest.fixture(scope="module")
def many_events_job(praetor: Praetor, scenario_jobs: dict[str, str]) -> dict[str, Any]:
    return praetor.wait(scenario_jobs[MANY_EVENTS.id])


def test_odd_output_successful(odd_output_job: dict[str, Any]) -> None:
    assert odd_output_job["status"] == "successful"


def test_log_keeps_non_ascii(odd_output_log: str) -> None:
    assert NON_ASCII_TEXT in odd_output_log


def test_log_non_ascii_bytes(api: ApiClient, odd_output_job: dict[str, Any]) -> None:
    response = api.http.get(f"/api/v1/jobs/{odd_output_job['id']}/logs")
    assert response.status_code == 200
    assert "charset=utf-8" in response.headers["content-type"]
    assert NON_ASCII_TEXT.encode("utf-8") in response.content


def test_log_keeps_long_line(odd_output_log: str) -> None:
    assert any("x" * LONG_LINE_LENGTH in line for line in odd_output_log.splitlines())


def test_text_log_has_no_escapes(odd_output_log: str) -> None:
    assert ESC not in odd_output_log
    assert "Print red text and blank lines" in odd_output_log


def test_ansi_log_keeps_colour(api: ApiClient, odd_output_job: dict[str, Any]) -> None:
    ansi_log = api.logs(odd_output_job["id"], ansi=True)
    assert "\x1b[31m" in ansi_log
    assert NON_ASCII_TEXT in ansi_log


def test_log_unknown_format(api: ApiClient, odd_output_job: dict[str, Any]) -> None:
    response = api.http.get(f"/api/v1/jobs/{odd_output_job['id']}/logs", params={"format": "html"})
    assert response.status_code == 400
    assert "format" in response.json()["detail"]


def test_events_keep_non_ascii(api: ApiClient, odd_output_job: dict[str, Any]) -> None:
    events = api.get(f"jobs/{odd_output_job['id']}/events", search="привет", limit=100)
    assert events["total"] >= 1
    assert any(NON_ASCII_TEXT in event["stdout"] for event in events["items"])


def test_many_events_successful(many_events_job: dict[str, Any]) -> None:
    assert many_events_job["status"] == "successful"


def test_event_pages_by_offset(api: ApiClient, many_events_job: dict[str, Any]) -> None:
    run = api.get(f"runs/{many_events_job['current_run_id']}")
    seqs: list[int] = []
    offset = 0
    while True:
        page = api.get(f"jobs/{many_events_job['id']}/events", limit=EVENT_PAGE_SIZE, offset=offset, order_by="seq")
        assert page["total"] == run["event_count"]
        seqs += [event["seq"] for event in page["items"]]
        offset += EVENT_PAGE_SIZE
        if offset >= page["total"]:
            break

    assert run["event_count"] >= LOOP_ITEM_EVENTS
    assert len(seqs) == run["event_count"]
    assert seqs == list(range(1, run["event_count"] + 1))


def test_event_pages_by_seq(api: ApiClient, many_events_job: dict[str, Any]) -> None:
    run = api.get(f"runs/{many_events_job['current_run_id']}")
    seqs = [event["seq"] for event in api.all_events(many_events_job["id"])]
    assert seqs == list(range(1, run["event_count"] + 1))


def test_loop_item_events(api: ApiClient, many_events_job: dict[str, Any]) -> None:
    items = api.get(f"jobs/{many_events_job['id']}/events", event_type="runner_item_on_ok", limit=1)
    assert items["total"] == LOOP_ITEM_EVENTS


def test_events_end_with_stats(api: ApiClient, many_events_job: dict[str, Any]) -> None:
    last = api.get(f"jobs/{many_events_job['id']}/events", order_by="-seq", limit=1)["items"][0]
    assert last["event_type"] == "playbook_on_stats"
