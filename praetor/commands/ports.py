"""Interfaces the command handlers depend on, implemented in `praetor.infra`."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Mapping, Set
from uuid import UUID


class ProjectSources(ABC):
    """The source of a project's playbooks, read to validate templates and launches."""

    @abstractmethod
    def check_source(self, scm_type: str, local_path: str | None, scm_url: str | None, scm_branch: str | None) -> str | None:
        """Check that the source can be read; return the normalised local path for local projects.

        Raises InvalidValue naming the field at fault.
        """

    @abstractmethod
    def playbooks(self, scm_type: str, local_path: str | None, scm_url: str | None, scm_branch: str | None) -> Set[str]:
        """Return the playbook paths (relative to the project root) that the source contains."""


class ReadModelWaiter(ABC):
    @abstractmethod
    def wait_for(self, notification_id: int, versions: Mapping[UUID, int]) -> None:
        """Block until the domain read models include what one command saved.

        `notification_id` is the newest notification the command recorded, and `versions`
        the version each aggregate it saved reached; a waiter uses whichever its runner
        tracks. Raises TimeoutError when the read models do not catch up within its timeout.
        """
