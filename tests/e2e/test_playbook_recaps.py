"""The expected tables of expected.py, checked against `ansible-playbook` run directly, without Praetor.

Each case's inventory is rendered to a YAML inventory file and the playbook is run with the
ansible-playbook of this Python environment. The PLAY RECAP lines and the exit code must equal
what the API tests expect from Praetor.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from expected import PLAYBOOK_CASES, PlaybookCase
from inventory_files import PLAYBOOKS_DIR, ansible_inventory, load_inventory

pytestmark = pytest.mark.e2e

ANSIBLE_TIMEOUT_SECONDS = 120
# A recap line, e.g. "web-1   : ok=3    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0".
RECAP_LINE = re.compile(r"^(?P<host>\S+)\s+:\s+(?P<counts>(?:\w+=\d+\s*)+)$")
RECAP_COUNT = re.compile(r"(\w+)=(\d+)")


@dataclass(frozen=True)
class AnsibleRun:
    exit_code: int
    output: str
    recap: dict[str, dict[str, int]]


def parse_recap(output: str) -> dict[str, dict[str, int]]:
    """Return the counts of each host in the PLAY RECAP section of ansible-playbook's output."""
    lines = output.splitlines()
    starts = [index for index, line in enumerate(lines) if line.startswith("PLAY RECAP")]
    if not starts:
        return {}
    recap = {}
    for line in lines[starts[-1] + 1 :]:
        match = RECAP_LINE.match(line.strip())
        if match is None:
            break
        recap[match["host"]] = {name: int(value) for name, value in RECAP_COUNT.findall(match["counts"])}
    return recap


@pytest.fixture(scope="module")
def ansible_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, AnsibleRun]:
    """Run every case's playbook with ansible-playbook, all at once, and return the results by case id."""
    base = tmp_path_factory.mktemp("ansible-recaps")
    scratch_dir = base / "scratch"
    scratch_dir.mkdir()
    env = {name: value for name, value in os.environ.items() if not name.startswith("ANSIBLE_")}
    env.update(
        {
            "PATH": os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")]),
            "ANSIBLE_NOCOLOR": "1",
            "TMPDIR": str(scratch_dir),
        }
    )

    processes = {}
    for case in PLAYBOOK_CASES:
        inventory_path = base / f"{case.id}.inventory.yml"
        # JSON is valid YAML, so the yaml inventory plugin reads this file.
        inventory_path.write_text(json.dumps(ansible_inventory(load_inventory(case.inventory))), encoding="utf-8")
        processes[case.id] = subprocess.Popen(
            ["ansible-playbook", "-i", str(inventory_path), str(PLAYBOOKS_DIR / case.playbook)],
            env=env,
            cwd=base,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )

    runs = {}
    for case_id, process in processes.items():
        try:
            output, _ = process.communicate(timeout=ANSIBLE_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            process.kill()
            output, _ = process.communicate()
        text = output.decode("utf-8", errors="replace")
        runs[case_id] = AnsibleRun(exit_code=process.returncode, output=text, recap=parse_recap(text))
    return runs


CASES = [pytest.param(case, id=case.id) for case in PLAYBOOK_CASES]


@pytest.mark.parametrize("case", CASES)
def test_recap_matches(case: PlaybookCase, ansible_runs: dict[str, AnsibleRun]) -> None:
    run = ansible_runs[case.id]
    expected = {host.host: host.as_recap_counts() for host in case.hosts}
    assert run.recap == expected, run.output[-3000:]


@pytest.mark.parametrize("case", CASES)
def test_exit_code_matches(case: PlaybookCase, ansible_runs: dict[str, AnsibleRun]) -> None:
    run = ansible_runs[case.id]
    assert run.exit_code == case.exit_code, run.output[-3000:]


def test_parse_recap() -> None:
    output = (
        "TASK [x] ***\nok: [a]\n\n"
        "PLAY RECAP *********\n"
        "a                          : ok=3    changed=1    unreachable=0    failed=0    skipped=0    rescued=0    ignored=0   \n"
        "b-2                        : ok=0    changed=0    unreachable=1    failed=0    skipped=0    rescued=0    ignored=0   \n"
        "\n"
    )
    assert parse_recap(output) == {
        "a": {"ok": 3, "changed": 1, "unreachable": 0, "failed": 0, "skipped": 0, "rescued": 0, "ignored": 0},
        "b-2": {"ok": 0, "changed": 0, "unreachable": 1, "failed": 0, "skipped": 0, "rescued": 0, "ignored": 0},
    }
