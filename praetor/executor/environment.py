"""The executor's environment variables, read once at start."""

from __future__ import annotations

import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

# Secrets that ansible and the playbook's commands must not inherit. They are removed from the
# environment as soon as they are read, and the AWS ones are handed to the object store instead.
TOKEN_VARIABLE = "PRAETOR_RUN_TOKEN"
AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")


class InvalidEnvironment(ValueError):
    """A required variable is missing or invalid."""


@dataclass(frozen=True)
class ExecutorEnvironment:
    run_id: str
    api_url: str
    token: str = field(repr=False)
    object_store_url: str
    spool_dir: Path
    s3_endpoint_url: str | None = None
    s3_key: str | None = field(default=None, repr=False)
    s3_secret: str | None = field(default=None, repr=False)
    s3_token: str | None = field(default=None, repr=False)


def read_environment(environ: MutableMapping[str, str]) -> ExecutorEnvironment:
    """Read the executor's variables and remove the run token and AWS credentials from `environ`."""
    token = environ.pop(TOKEN_VARIABLE, "")
    object_store_url = environ.get("PRAETOR_OBJECT_STORE_URL", "")
    aws = {name: environ.pop(name, None) for name in AWS_CREDENTIAL_VARIABLES}
    if not object_store_url.startswith("s3://"):
        # A local store needs no AWS credentials, so they stay in the environment for the playbook.
        for name, value in aws.items():
            if value is not None:
                environ[name] = value
        aws = dict.fromkeys(AWS_CREDENTIAL_VARIABLES)

    missing = [
        name
        for name, value in (
            ("RUN_ID", environ.get("RUN_ID", "")),
            ("PRAETOR_API_URL", environ.get("PRAETOR_API_URL", "")),
            (TOKEN_VARIABLE, token),
            ("PRAETOR_OBJECT_STORE_URL", object_store_url),
            ("PRAETOR_SPOOL_DIR", environ.get("PRAETOR_SPOOL_DIR", "")),
        )
        if not value
    ]
    if missing:
        raise InvalidEnvironment(f"missing environment variables: {', '.join(missing)}")

    run_id = environ["RUN_ID"]
    try:
        uuid.UUID(run_id)
    except ValueError as error:
        raise InvalidEnvironment(f"RUN_ID {run_id!r} is not a UUID") from error

    spool_dir = Path(environ["PRAETOR_SPOOL_DIR"])
    if not spool_dir.is_absolute():
        raise InvalidEnvironment(f"PRAETOR_SPOOL_DIR {str(spool_dir)!r} is not an absolute path")

    return ExecutorEnvironment(
        run_id=run_id,
        api_url=environ["PRAETOR_API_URL"],
        token=token,
        object_store_url=object_store_url,
        spool_dir=spool_dir,
        s3_endpoint_url=environ.get("PRAETOR_S3_ENDPOINT_URL") or None,
        s3_key=aws["AWS_ACCESS_KEY_ID"],
        s3_secret=aws["AWS_SECRET_ACCESS_KEY"],
        s3_token=aws["AWS_SESSION_TOKEN"],
    )
