"""Expected outcomes of the playbook runs, shared by the API tests and the direct Ansible runs.

test_playbook_recaps.py checks every table here against the PLAY RECAP of `ansible-playbook`
itself, so the numbers the API tests expect come from Ansible, not from Praetor.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

# Summary fields of GET /api/v1/jobs/{id}/hosts, without the row's ids and times.
SUMMARY_FIELDS = ("host", "ok", "changed", "failures", "dark", "skipped", "rescued", "ignored", "failed")

# ansible-playbook exit codes (ansible-core 2.19): 2 when a host failed, 4 when a host was unreachable.
EXIT_OK = 0
EXIT_HOST_FAILED = 2
EXIT_HOST_UNREACHABLE = 4


@dataclass(frozen=True)
class HostSummary:
    """One host's counters, named as in the API; `dark` is the recap's `unreachable`, `failures` its `failed`."""

    host: str
    ok: int = 0
    changed: int = 0
    failures: int = 0
    dark: int = 0
    skipped: int = 0
    rescued: int = 0
    ignored: int = 0
    failed: bool = False

    def as_api_row(self) -> dict[str, object]:
        return asdict(self)

    def as_recap_counts(self) -> dict[str, int]:
        return {
            "ok": self.ok,
            "changed": self.changed,
            "unreachable": self.dark,
            "failed": self.failures,
            "skipped": self.skipped,
            "rescued": self.rescued,
            "ignored": self.ignored,
        }


@dataclass(frozen=True)
class PlaybookCase:
    """A playbook run on an inventory from tests/data, with the job status and summaries it must produce."""

    id: str
    playbook: str
    inventory: str
    status: str
    exit_code: int
    hosts: tuple[HostSummary, ...]


CHANGES_A_FILE = PlaybookCase(
    id="changes-a-file",
    playbook="changes_a_file.yml",
    inventory="three_local",
    status="successful",
    exit_code=EXIT_OK,
    hosts=tuple(HostSummary(name, ok=3, changed=1) for name in ("local-1", "local-2", "local-3")),
)

# The stable hosts skip two tasks: `when: false` and the failure meant for breakable hosts.
# The ignored failure of `command: false` counts as ok, ignored and changed, because the
# command module reports every command it runs as changed.
EVERY_RESULT_KIND = PlaybookCase(
    id="every-result-kind",
    playbook="every_result_kind.yml",
    inventory="one_breakable",
    status="failed",
    exit_code=EXIT_HOST_FAILED,
    hosts=(
        HostSummary("fragile-1", ok=4, changed=2, failures=1, skipped=1, rescued=1, ignored=1, failed=True),
        HostSummary("stable-1", ok=5, changed=2, skipped=2, rescued=1, ignored=1),
        HostSummary("stable-2", ok=5, changed=2, skipped=2, rescued=1, ignored=1),
    ),
)

UNREACHABLE = PlaybookCase(
    id="unreachable",
    playbook="ping.yml",
    inventory="one_unreachable",
    status="failed",
    exit_code=EXIT_HOST_UNREACHABLE,
    hosts=(
        HostSummary("reachable-1", ok=1),
        HostSummary("unreachable-1", dark=1, failed=True),
    ),
)

ODD_OUTPUT = PlaybookCase(
    id="odd-output",
    playbook="odd_output.yml",
    inventory="three_local",
    status="successful",
    exit_code=EXIT_OK,
    hosts=tuple(HostSummary(name, ok=4) for name in ("local-1", "local-2", "local-3")),
)

# Ansible counts a looped task once per host in the recap, however many items it has.
MANY_EVENTS = PlaybookCase(
    id="many-events",
    playbook="many_events.yml",
    inventory="three_local",
    status="successful",
    exit_code=EXIT_OK,
    hosts=tuple(HostSummary(name, ok=1) for name in ("local-1", "local-2", "local-3")),
)

PLAYBOOK_CASES = (CHANGES_A_FILE, EVERY_RESULT_KIND, UNREACHABLE, ODD_OUTPUT, MANY_EVENTS)

# Text that odd_output.yml prints, and the number of result events many_events.yml makes.
NON_ASCII_TEXT = "Grüße — 你好 — привет — 🚀"
LONG_LINE_LENGTH = 20_000
LOOP_ITEM_EVENTS = 500 * 3
