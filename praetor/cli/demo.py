"""`praetor demo`: a real playbook through the REST API, from an empty data directory.

It starts `praetor serve` as a child process and creates an organization, a project, an
inventory of three local hosts and a job template. It launches the job, prints the output
as the events arrive and the per-host summary at the end, then stops the server it started.
"""

from __future__ import annotations

import os
import secrets
import shutil
import subprocess
import sys
import time
from importlib import resources
from pathlib import Path

from rich.console import Console
from rich.table import Table

from praetor.cli.client import FINISHED_STATUSES, ApiClient

console = Console()
SUMMARY_COLUMNS = ("ok", "changed", "failures", "dark", "skipped", "rescued", "ignored")


def run_demo(*, port: int, home: str) -> int:
    home_path = Path(home).resolve()
    shutil.rmtree(home_path, ignore_errors=True)
    project_dir = home_path / "projects" / "demo"
    project_dir.mkdir(parents=True)
    playbook = resources.files("praetor.demo").joinpath("hello.yml").read_text()
    (project_dir / "hello.yml").write_text(playbook)

    password = secrets.token_urlsafe(12)
    env = {**os.environ, "PRAETOR_HOME": str(home_path), "PRAETOR_ADMIN_PASSWORD": password}
    log_path = home_path / "server.log"
    console.print(f"[bold]Starting Praetor[/] on http://127.0.0.1:{port} (data in {home_path}, log in {log_path})")
    with log_path.open("ab") as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "praetor.cli.main", "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    client = ApiClient(f"http://127.0.0.1:{port}")
    try:
        try:
            client.wait_until_up(server_alive=lambda: server.poll() is None)
        except RuntimeError:
            console.print(f"[red]The server exited at start-up.[/] Its log, {log_path}, ends with:")
            console.print(_tail(log_path), markup=False, highlight=False)
            console.print(f"If port {port} is in use, run `praetor demo --port N` or `make demo DEMO_PORT=N`.")
            return 1
        client.sign_in("admin", password)
        return _launch_and_follow(client, project_dir)
    finally:
        client.close()
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
        console.print("Server stopped.")


def _tail(path: Path, lines: int = 5) -> str:
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def _launch_and_follow(client: ApiClient, project_dir: Path) -> int:
    organization = client.create("organizations", name="Demo")
    project = client.create(
        "projects", name="Demo project", organization_id=organization["id"], scm_type="local", local_path=str(project_dir)
    )
    inventory = client.create("inventories", name="Demo hosts", organization_id=organization["id"])
    for name in ("demo-1", "demo-2", "demo-3"):
        client.create(
            "hosts",
            name=name,
            inventory_id=inventory["id"],
            variables={"ansible_connection": "local", "ansible_python_interpreter": "{{ ansible_playbook_python }}"},
        )
    template = client.create(
        "job-templates", name="Say hello", project_id=project["id"], inventory_id=inventory["id"], playbook="hello.yml"
    )
    job = client.launch(template["id"])
    console.print(f"[bold]Launched job[/] {job['id']}\n")

    last_seq = 0
    while True:
        job = client.get(f"jobs/{job['id']}")
        for event in client.iter_events(job["id"], after_seq=last_seq):
            last_seq = event["seq"]
            if event["stdout"]:
                # Written as-is, so the terminal shows Ansible's own colours.
                sys.stdout.write(event["stdout"] + "\n")
        sys.stdout.flush()
        if job["status"] in FINISHED_STATUSES:
            break
        time.sleep(0.3)

    table = Table(title=f"Job {job['id']}: {job['status']}")
    table.add_column("host")
    for column in SUMMARY_COLUMNS:
        table.add_column(column, justify="right")
    for summary in client.get(f"jobs/{job['id']}/hosts", limit=1000)["items"]:
        table.add_row(summary["host"], *(str(summary[column]) for column in SUMMARY_COLUMNS))
    console.print(table)
    return 0 if job["status"] == "successful" else 1
