"""Event latency: from ansible-runner emitting an event to the event being in the API.

Starts `praetor serve` (embedded mode, with its scheduler and local executor) on a free port,
launches a looping playbook over three local hosts, and polls
`GET /api/v1/jobs/{id}/events?seq__gt=N` every `--poll` seconds. The delay of an event is
the time it was first seen minus its `created_at` (the time ansible-runner stamped it), so
the figures include up to one poll interval.

Run: `make bench`, or `.venv/bin/python benchmarks/latency.py --items 300`.
"""

from __future__ import annotations

import argparse
import os
import platform
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path

from praetor.cli.client import FINISHED_STATUSES, ApiClient

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  vars:
    item_count: 300
  tasks:
    - ansible.builtin.debug:
        msg: "item {{ item }} on {{ inventory_hostname }}"
      loop: "{{ range(0, item_count | int) | list }}"
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=300, help="Loop items per host (three hosts).")
    parser.add_argument("--poll", type=float, default=0.05, help="Seconds between polls of the events endpoint.")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="praetor-latency-") as workdir:
        home = Path(workdir) / "home"
        (home / "projects" / "loop").mkdir(parents=True)
        (home / "projects" / "loop" / "loop.yml").write_text(PLAYBOOK)
        password = secrets.token_urlsafe(12)
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "praetor.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"],
            env={**os.environ, "PRAETOR_HOME": str(home), "PRAETOR_ADMIN_PASSWORD": password},
        )
        client = ApiClient(f"http://127.0.0.1:{port}")
        try:
            client.wait_until_up()
            client.sign_in("admin", password)
            delays, job = follow_one_job(client, home, arguments)
        finally:
            client.close()
            server.terminate()
            server.wait(timeout=30)

    print(f"Machine: {platform.machine()}, {os.cpu_count()} CPUs, Linux {platform.release()}, Python {platform.python_version()}")
    print(f"Job {job['status']}: {len(delays)} events, polled every {arguments.poll * 1000:.0f} ms")
    print(f"Delay from emit to queryable: p50 {statistics.median(delays) * 1000:.0f} ms, "
          f"p95 {percentile(delays, 0.95) * 1000:.0f} ms, max {max(delays) * 1000:.0f} ms")


def follow_one_job(client: ApiClient, home: Path, arguments: argparse.Namespace) -> tuple[list[float], dict]:
    organization = client.create("organizations", name="bench")
    project = client.create("projects", name="loop", organization_id=organization["id"], scm_type="local", local_path="loop")
    inventory = client.create("inventories", name="local", organization_id=organization["id"])
    for index in range(3):
        client.create(
            "hosts",
            name=f"bench-{index}",
            inventory_id=inventory["id"],
            variables={"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        )
    template = client.create(
        "job-templates", name="loop", project_id=project["id"], inventory_id=inventory["id"], playbook="loop.yml",
        extra_vars={"item_count": arguments.items},
    )
    job = client.launch(template["id"])

    delays: list[float] = []
    last_seq = 0
    while True:
        job = client.get(f"jobs/{job['id']}")
        for event in client.iter_events(job["id"], after_seq=last_seq):
            seen = time.time()
            last_seq = event["seq"]
            created = datetime.fromisoformat(event["created_at"].replace("Z", "+00:00")).timestamp()
            delays.append(seen - created)
        if job["status"] in FINISHED_STATUSES:
            return delays, job
        time.sleep(arguments.poll)


if __name__ == "__main__":
    main()
