"""Fixtures of the end-to-end tests: one `praetor serve` process for the session, driven over HTTP.

The server runs with a fresh PRAETOR_HOME, its own projects root and its own TMPDIR, all under
pytest's temporary directory. Its output goes to a log file whose tail is added to the report
of every failed e2e test.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest

# The helper modules live next to this file; the path entry makes them importable whatever
# pytest's import mode is.
sys.path.insert(0, str(Path(__file__).parent))

from distributed import distributed_environment  # noqa: E402
from expected import PLAYBOOK_CASES  # noqa: E402
from harness import LOG_TAIL_LINES, Praetor, ServerProcess, start_server  # noqa: E402

from praetor.cli.client import ApiClient  # noqa: E402

SERVER_KEY = pytest.StashKey[ServerProcess]()


@pytest.fixture(scope="session", params=["embedded", "distributed"])
def server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One server per mode: every end-to-end test runs against both."""
    with ExitStack() as stack:
        extra_env = stack.enter_context(distributed_environment()) if request.param == "distributed" else {}
        running = start_server(tmp_path_factory.mktemp(f"praetor-e2e-{request.param}"), extra_env)
        request.config.stash[SERVER_KEY] = running
        try:
            running.wait_until_up()
            yield running
        finally:
            running.stop()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    report = yield
    running = item.config.stash.get(SERVER_KEY, None)
    if report.failed and running is not None and item.get_closest_marker("e2e") is not None:
        report.sections.append((f"praetor serve log, last {LOG_TAIL_LINES} lines of {running.log_path}", running.log_tail()))
    return report


@pytest.fixture(scope="session")
def api(server: ServerProcess) -> Iterator[ApiClient]:
    """An API client signed in as the admin user."""
    client = ApiClient(server.base_url)
    client.sign_in("admin", server.admin_password)
    yield client
    client.close()


@pytest.fixture(scope="session")
def praetor(api: ApiClient, server: ServerProcess) -> Praetor:
    return Praetor(api=api, server=server)


@pytest.fixture(scope="session")
def organization(praetor: Praetor) -> dict[str, Any]:
    return praetor.create_organization("End-to-end tests")


@pytest.fixture(scope="session")
def playbooks_project(praetor: Praetor, organization: dict[str, Any]) -> dict[str, Any]:
    """A local project with every playbook of tests/data/playbooks."""
    return praetor.create_local_project("Test playbooks", organization["id"])


@pytest.fixture(scope="session")
def scenario_jobs(praetor: Praetor, organization: dict[str, Any], playbooks_project: dict[str, Any]) -> dict[str, str]:
    """Launch every case of expected.PLAYBOOK_CASES at once and return their job ids by case id.

    The jobs run side by side while the first test that needs one waits for it.
    """
    job_ids = {}
    for case in PLAYBOOK_CASES:
        inventory = praetor.inventory(case.inventory, organization["id"])
        template = praetor.create_template(case.id, playbooks_project["id"], inventory.id, case.playbook)
        job_ids[case.id] = praetor.api.launch(template["id"])["id"]
    return job_ids
