"""Log records of one run, tagged with its run id and job id."""

from __future__ import annotations

import logging
from collections.abc import MutableMapping
from typing import Any


class RunLogContext:
    """Ids that every log line of the executor carries.

    The job id is unknown until the manifest arrives, so it is mutable and read at log time.
    """

    def __init__(self, run_id: str, job_id: str | None = None) -> None:
        self.run_id = run_id
        self.job_id = job_id


class RunLogAdapter(logging.LoggerAdapter):
    """Logger adapter that prefixes each message with `run_id=… job_id=…` and adds both as record fields."""

    def __init__(self, logger: logging.Logger, context: RunLogContext) -> None:
        super().__init__(logger, {})
        self.context = context

    def process(self, msg: Any, kwargs: MutableMapping[str, Any]) -> tuple[Any, MutableMapping[str, Any]]:
        run_id = self.context.run_id
        job_id = self.context.job_id or "-"
        extra = dict(kwargs.get("extra") or {})
        extra.update({"run_id": run_id, "job_id": job_id})
        kwargs["extra"] = extra

        # The ids go into the format string, so a literal "%" in them must not read as a placeholder.
        prefix = f"run_id={run_id} job_id={job_id} ".replace("%", "%%")
        return prefix + str(msg), kwargs
