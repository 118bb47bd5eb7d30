"""Commands racing on one aggregate all take effect: the bus decides again on a conflict."""

from __future__ import annotations

import threading

from praetor.commands.base import CommandBus
from praetor.commands.inventories import AddHost
from praetor.infra.event_store import open_sqlite_event_store


def test_concurrent_hosts_all_added(fixtures, settings) -> None:
    container = fixtures.container
    # Separate applications, as separate API processes would have, so their caches differ.
    buses = [
        CommandBus(open_sqlite_event_store(settings.resolved_home / "events.sqlite"), container.bus._project_sources, container.runner)
        for _ in range(4)
    ]
    start = threading.Barrier(len(buses))
    errors: list[Exception] = []

    def add_hosts(index: int, bus: CommandBus) -> None:
        start.wait()
        for number in range(10):
            try:
                bus.handle(AddHost(inventory_id=fixtures.inventory_id, name=f"node-{index}-{number}"))
            except Exception as error:  # noqa: BLE001 - collected for the assertion below
                errors.append(error)

    threads = [threading.Thread(target=add_hosts, args=(index, bus)) for index, bus in enumerate(buses)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    inventory = container.app.repository.get(fixtures.inventory_id)
    assert errors == []
    assert len(inventory.hosts) == 1 + 4 * 10
