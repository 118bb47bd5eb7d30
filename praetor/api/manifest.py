"""The run manifest: what an executor needs to carry out one run, read from the read models."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from praetor.api.errors import ApiError
from praetor.projections import tables


def build_manifest(session: Session, run: tables.Run) -> dict[str, Any]:
    job = session.get(tables.Job, run.job_id)
    project = session.get(tables.Project, job.project_id) if job else None
    if job is None or project is None:
        raise ApiError(409, f"run {run.id} refers to a job or project that no longer exists; launch the job again")
    return {
        "run_id": str(run.id),
        "job_id": str(job.id),
        "attempt_number": run.attempt_number,
        "project": {
            "id": str(project.id),
            "name": project.name,
            "scm_type": project.scm_type,
            "local_path": project.local_path,
            "scm_url": project.scm_url,
            "scm_branch": project.scm_branch,
        },
        "playbook": job.playbook,
        "inventory": render_inventory(session, job.inventory_id),
        "extra_vars": job.extra_vars,
        "limit": job.limit or None,
        "forks": job.forks,
        "verbosity": job.verbosity,
        "timeout_seconds": job.timeout_seconds,
    }


def render_inventory(session: Session, inventory_id: Any) -> dict[str, Any]:
    """Render an inventory in Ansible's YAML inventory structure (which JSON also satisfies).

    Disabled hosts are left out, as are group memberships that point at them.
    """
    inventory = session.get(tables.Inventory, inventory_id)
    hosts = session.scalars(
        select(tables.Host).where(tables.Host.inventory_id == inventory_id, tables.Host.enabled.is_(True)).order_by(tables.Host.name)
    ).all()
    groups = session.scalars(select(tables.Group).where(tables.Group.inventory_id == inventory_id).order_by(tables.Group.name)).all()
    host_names = {host.id: host.name for host in hosts}
    members: dict[Any, list[str]] = {group.id: [] for group in groups}
    for group_id, host_id in session.execute(
        select(tables.GroupHost.group_id, tables.GroupHost.host_id).where(tables.GroupHost.group_id.in_(list(members)))
    ):
        if host_id in host_names:
            members[group_id].append(host_names[host_id])

    return {
        "all": {
            "vars": inventory.variables if inventory else {},
            "hosts": {host.name: host.variables for host in hosts},
            "children": {
                group.name: {"vars": group.variables, "hosts": {name: {} for name in sorted(members[group.id])}}
                for group in groups
            },
        }
    }
