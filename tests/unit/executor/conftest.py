"""Fixtures of the executor unit tests."""

from __future__ import annotations

import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

# run_api_stub lives next to this file; the path entry makes it importable whatever
# pytest's import mode is.
sys.path.insert(0, str(Path(__file__).parent))

from run_api_stub import StubRunApi  # noqa: E402

from praetor.executor.logs import RunLogContext  # noqa: E402

TOKEN = "test-run-token"


@pytest.fixture
def run_id() -> str:
    return str(uuid.uuid4())


@pytest.fixture
def log_context(run_id: str) -> RunLogContext:
    return RunLogContext(run_id, job_id=str(uuid.uuid4()))


@pytest.fixture
def stub_api(run_id: str) -> Iterator[StubRunApi]:
    with StubRunApi(run_id, TOKEN) as stub:
        yield stub
