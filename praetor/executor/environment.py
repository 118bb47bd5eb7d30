"""The executor's environment variables, read once at start."""

from __future__ import annotations

import re
import uuid
from collections.abc import MutableMapping
from dataclasses import dataclass, field
from pathlib import Path

from praetor.infra.event_log import JOB_EVENTS_TOPIC, LOG_CHUNKS_TOPIC

# Secrets that ansible and the playbook's commands must not inherit. They are removed from the
# environment as soon as they are read, and the AWS ones are handed to the object store instead.
TOKEN_VARIABLE = "PRAETOR_RUN_TOKEN"
AWS_CREDENTIAL_VARIABLES = ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN")

# Setting the bootstrap servers selects the distributed mode, where events go to Kafka.
KAFKA_BOOTSTRAP_VARIABLE = "PRAETOR_KAFKA_BOOTSTRAP_SERVERS"
KAFKA_TOPIC_PREFIX_VARIABLE = "PRAETOR_KAFKA_TOPIC_PREFIX"

# Kafka's rules for topic names: these characters, and at most 249 of them.
TOPIC_NAME_PATTERN = re.compile(r"[A-Za-z0-9._-]*")
MAX_TOPIC_NAME_LENGTH = 249
MAX_UNPREFIXED_TOPIC_LENGTH = max(len(JOB_EVENTS_TOPIC), len(LOG_CHUNKS_TOPIC))


class InvalidEnvironment(ValueError):
    """A required variable is missing or invalid."""


@dataclass(frozen=True)
class KafkaSettings:
    """The Kafka cluster that receives the run's events and chunk announcements in the distributed mode."""

    bootstrap_servers: tuple[str, ...]
    topic_prefix: str = ""

    def topic(self, name: str) -> str:
        return self.topic_prefix + name


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
    kafka: KafkaSettings | None = None


def read_environment(environ: MutableMapping[str, str]) -> ExecutorEnvironment:
    """Read the executor's variables and remove the run token, AWS credentials and Kafka settings from `environ`."""
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

    kafka = _read_kafka_settings(environ)

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
        kafka=kafka,
    )


def _read_kafka_settings(environ: MutableMapping[str, str]) -> KafkaSettings | None:
    """Read and remove the Kafka variables, and return None when the bootstrap servers are not set.

    The variables carry no credentials, but ansible has no use for them either. NOTE: SASL is not
    supported yet. SASL variables, once added, must be removed here like the run token.
    """
    bootstrap = environ.pop(KAFKA_BOOTSTRAP_VARIABLE, "").strip()
    prefix = environ.pop(KAFKA_TOPIC_PREFIX_VARIABLE, "")
    if not bootstrap:
        return None

    servers = tuple(server.strip() for server in bootstrap.split(","))
    for server in servers:
        host, _, port = server.rpartition(":")
        if not host or not (port.isascii() and port.isdigit()) or not 0 < int(port) < 65536:
            raise InvalidEnvironment(
                f"{KAFKA_BOOTSTRAP_VARIABLE} {bootstrap!r} contains {server!r}, which is not host:port; "
                "list the brokers as host:port, separated by commas"
            )

    if not TOPIC_NAME_PATTERN.fullmatch(prefix) or len(prefix) + MAX_UNPREFIXED_TOPIC_LENGTH > MAX_TOPIC_NAME_LENGTH:
        raise InvalidEnvironment(
            f"{KAFKA_TOPIC_PREFIX_VARIABLE} {prefix!r} is not a valid start of a Kafka topic name; "
            f"use at most {MAX_TOPIC_NAME_LENGTH - MAX_UNPREFIXED_TOPIC_LENGTH} characters of A-Z, a-z, 0-9, '.', '_' and '-'"
        )
    return KafkaSettings(bootstrap_servers=servers, topic_prefix=prefix)
