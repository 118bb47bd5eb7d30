"""Ingestion rate: a recorded spool of job events sent through the executor's API path.

The spool is recorded from a real ansible-runner run of a small looping playbook and then
repeated, with fresh seqs, up to `--events` records. The records go to the embedded server's
`POST /internal/api/v1/runs/{run_id}/events` in batches (the path executors use), through the
job-event log and its consumer into the `job_events` table. The rate is measured from the
first POST until the last row is queryable.

Run: `make bench`, or `.venv/bin/python benchmarks/ingest.py --events 100000`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import ansible_runner
import httpx

from praetor.commands.inventories import AddHost, CreateInventory
from praetor.commands.job_templates import CreateJobTemplate
from praetor.commands.jobs import LaunchJob, ScheduleRun
from praetor.commands.organizations import CreateOrganization
from praetor.commands.projects import CreateProject
from praetor.executor.events import build_record
from praetor.infra.bootstrap import build_container
from praetor.infra.settings import Settings

PLAYBOOK = """\
- hosts: all
  gather_facts: false
  tasks:
    - ansible.builtin.debug:
        msg: "item {{ item }} on {{ inventory_hostname }}"
      loop: "{{ range(0, 30) | list }}"
"""
INVENTORY = {
    "all": {
        "hosts": {f"bench-{index}": {"ansible_connection": "local"} for index in range(3)},
        "vars": {"ansible_python_interpreter": sys.executable},
    }
}


def record_sample(workdir: Path) -> list[dict]:
    """Run the playbook for real and return its events as executor records."""
    private = workdir / "private"
    (private / "project").mkdir(parents=True)
    (private / "inventory").mkdir()
    (private / "project" / "loop.yml").write_text(PLAYBOOK)
    (private / "inventory" / "hosts.yml").write_text(json.dumps(INVENTORY))
    events: list[dict] = []
    ansible_runner.run(private_data_dir=str(private), playbook="loop.yml", quiet=True, event_handler=lambda event: events.append(event) or True)
    return [build_record(seq, event) for seq, event in enumerate(events, start=1)]


def repeat_to(sample: list[dict], count: int) -> list[dict]:
    body, stats = sample[:-1], sample[-1]
    records = []
    for seq in range(1, count):
        records.append({**body[(seq - 1) % len(body)], "seq": seq})
    records.append({**stats, "seq": count})
    return records


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=100_000, help="Number of job events to ingest.")
    parser.add_argument("--batch", type=int, default=500, help="Events per POST, as the executor sends them.")
    arguments = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="praetor-bench-") as workdir:
        work = Path(workdir)
        print("Recording a spool from a real ansible-runner run ...", flush=True)
        sample = record_sample(work)
        records = repeat_to(sample, arguments.events)
        spool_bytes = sum(len(json.dumps(record)) for record in records)
        print(f"Spool: {len(records):,} events ({spool_bytes / 1e6:.1f} MB of JSON), {len(sample)} distinct recorded events")

        settings = Settings(home=work / "home")
        container = build_container(settings)
        container.start(scheduler=False)
        project_dir = settings.resolved_projects_root / "bench"
        project_dir.mkdir(parents=True)
        (project_dir / "loop.yml").write_text(PLAYBOOK)
        bus = container.bus
        organization_id = bus.handle(CreateOrganization(name="bench"))
        project_id = bus.handle(CreateProject(name="bench", organization_id=organization_id, scm_type="local", local_path="bench"))
        inventory_id = bus.handle(CreateInventory(name="bench", organization_id=organization_id))
        bus.handle(AddHost(inventory_id=inventory_id, name="bench-0"))
        template_id = bus.handle(CreateJobTemplate(name="bench", project_id=project_id, inventory_id=inventory_id, playbook="loop.yml"))
        job_id = bus.handle(LaunchJob(job_template_id=template_id, launched_by="bench"))
        run_id = str(bus.handle(ScheduleRun(job_id=job_id, execution_pool="default")))

        token = container.signer.issue_run_token(run_id)
        container.stop()

        # The server runs in its own process, as in production, so the client's JSON
        # encoding does not share its interpreter lock.
        port = free_port()
        server = subprocess.Popen(
            [sys.executable, "-m", "praetor.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port), "--no-scheduler", "--log-level", "warning"],
            env={**os.environ, "PRAETOR_HOME": str(settings.resolved_home), "PRAETOR_ADMIN_PASSWORD": "benchmark-only"},
        )
        try:
            batches = [
                json.dumps({"events": records[index : index + arguments.batch]}).encode()
                for index in range(0, len(records), arguments.batch)
            ]
            client = httpx.Client(
                base_url=f"http://127.0.0.1:{port}",
                headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                timeout=60,
            )
            wait_until_up(client)

            started = time.perf_counter()
            for batch in batches:
                client.post(f"/internal/api/v1/runs/{run_id}/events", content=batch).raise_for_status()
            appended = time.perf_counter()
            while client.get(f"/internal/api/v1/runs/{run_id}").json()["stored_event_count"] < len(records):
                time.sleep(0.01)
            finished = time.perf_counter()
            client.close()
        finally:
            server.terminate()
            server.wait(timeout=30)

    total = finished - started
    print()
    print(f"Machine: {platform.processor() or platform.machine()}, {platform.system()} {platform.release()}, Python {platform.python_version()}")
    print(f"Appended to the log over HTTP: {len(records) / (appended - started):,.0f} events/s ({appended - started:.2f} s)")
    print(f"Queryable in job_events:       {len(records) / total:,.0f} events/s ({total:.2f} s end to end)")


def wait_until_up(client: httpx.Client) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if client.get("/api/v1/ping").status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.1)
    raise TimeoutError("the benchmark server did not start within 60 s")


if __name__ == "__main__":
    main()
