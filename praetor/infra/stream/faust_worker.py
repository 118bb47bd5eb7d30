"""The stream worker: a faust-streaming app that builds the PostgreSQL read models from Kafka.

One agent per consumed topic takes batches of messages, groups them by partition and hands
each group to the `StreamProcessor` in a thread, because its database calls block. Every
worker started with the same group id joins one Kafka consumer group, so the partitions are
shared among them.

Delivery is at least once. faust commits an offset only after the agent has finished the
batch that contains it, and the processor drops what it has applied before. Where faust
commits further than the read models got (see `resuming_consumer`), the consumer resumes at
the offsets stored with the read models. No transactional producer and no `exactly_once`
guarantee are involved.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

import faust
from faust.types import TP, EventT, StreamT

from praetor.infra.database import create_read_model_engine, migrate, session_factory
from praetor.infra.stream.messages import decode_value
from praetor.infra.stream.processor import StreamProcessor
from praetor.infra.stream.records import StreamRecord
from praetor.infra.stream.resuming_consumer import ResumingTransport
from praetor.infra.stream.topics import ensure_topics

logger = logging.getLogger(__name__)

# A batch is split by partition and each part is one transaction, so a batch needs hundreds of
# records per partition to amortise the commit. The wait bounds the latency this adds.
DEFAULT_BATCH_SIZE = 5000
DEFAULT_BATCH_SECONDS = 0.2
# faust's default (faust-streaming 0.15.3): a worker that dies without leaving the group
# keeps its partitions, unread, for this long.
DEFAULT_SESSION_TIMEOUT_SECONDS = 60.0
RETRY_FIRST_DELAY_SECONDS = 0.5
RETRY_MAX_DELAY_SECONDS = 30.0


def run_worker(
    *,
    kafka_bootstrap: str,
    database_url: str,
    read_model_schema: str | None = None,
    group_id: str = "praetor-worker",
    data_dir: Path,
    topic_prefix: str = "",
    topic_partitions: int = 8,
    topic_replication_factor: int = 1,
    batch_size: int = DEFAULT_BATCH_SIZE,
    batch_seconds: float = DEFAULT_BATCH_SECONDS,
    session_timeout_seconds: float = DEFAULT_SESSION_TIMEOUT_SECONDS,
) -> None:
    """Apply the Kafka topics to the read models at `database_url` until SIGINT or SIGTERM.

    `kafka_bootstrap` is `host:port`, or several of them separated by commas. On PostgreSQL
    the read-model tables live in `read_model_schema`, by default in the `search_path` of the
    database user. `group_id` is the Kafka consumer group. `data_dir` is faust's local state directory, one per worker.
    The worker migrates the read-model schema and creates the consumed topics that are
    missing, with `topic_partitions` partitions and `topic_replication_factor` replicas.
    A batch contains at most `batch_size` messages and waits at most `batch_seconds` to fill.
    The group moves the partitions of a worker that stopped sending heartbeats after
    `session_timeout_seconds`.
    It must run in the main thread, which receives the signals. Raises RuntimeError when
    faust stops after a crash.
    """
    engine = create_read_model_engine(database_url, schema=read_model_schema)
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        migrate(engine)
        processor = StreamProcessor(session_factory(engine), topic_prefix=topic_prefix)
        ensure_topics(
            kafka_bootstrap, processor.topics, partitions=topic_partitions, replication_factor=topic_replication_factor
        )
        app = build_app(
            processor,
            kafka_bootstrap=kafka_bootstrap,
            group_id=group_id,
            data_dir=data_dir,
            batch_size=batch_size,
            batch_seconds=batch_seconds,
            session_timeout_seconds=session_timeout_seconds,
            loop=loop,
        )
        # faust's worker handles SIGINT and SIGTERM by stopping the app, which commits the
        # offsets of finished batches. Logging stays as the caller configured it.
        worker = faust.Worker(
            app, loop=loop, quiet=True, override_logging=False, redirect_stdouts=False, daemon=True
        )
        # The progress spinner writes terminal control codes into the log. faust itself
        # drops it when logging below WARN, so a worker without one is a supported state.
        worker.spinner = None

        logger.info(
            "Stream worker starting: group %s, topics %s, Kafka %s, read models on %s",
            group_id, ", ".join(processor.topics), kafka_bootstrap, engine.url.render_as_string(hide_password=True),
        )
        exit_code = _execute(worker)
    finally:
        asyncio.set_event_loop(None)
        if not loop.is_closed():
            loop.close()
        engine.dispose()

    if exit_code:
        logger.error("Stream worker of group %s stopped after a crash (exit code %s)", group_id, exit_code)
        raise RuntimeError(f"the stream worker of group {group_id} crashed; see the errors logged before this one")
    logger.info("Stream worker of group %s stopped", group_id)


def build_app(
    processor: StreamProcessor,
    *,
    kafka_bootstrap: str,
    group_id: str,
    data_dir: Path,
    batch_size: int = DEFAULT_BATCH_SIZE,
    batch_seconds: float = DEFAULT_BATCH_SECONDS,
    session_timeout_seconds: float = DEFAULT_SESSION_TIMEOUT_SECONDS,
    loop: asyncio.AbstractEventLoop | None = None,
) -> faust.App:
    """Build the faust app with one agent for each topic of `processor`."""
    app = faust.App(
        group_id,
        # faust lets environment variables such as WEB_PORT or BROKER_URL override the
        # arguments below, so the app gets an empty environment to read them from.
        env={},
        # The default "{id}-v{version}" would make the consumer group "<group_id>-v1".
        id_format="{id}",
        broker=broker_urls(kafka_bootstrap),
        datadir=str(data_dir),
        autodiscover=False,
        # No web server, so workers on one machine need no ports of their own.
        web_enabled=False,
        # The leader topic serves only `on_leader` timers, which the worker has none of.
        topic_disable_leader=True,
        key_serializer="raw",
        value_serializer="raw",
        consumer_auto_offset_reset="earliest",
        broker_session_timeout=session_timeout_seconds,
        # faust would otherwise hold a rebalance until the agents finish their batches, and
        # a batch that waits for the database could hold it for good. The processor keeps
        # read models right when two workers apply one partition during the handover.
        stream_wait_empty=False,
        # Bigger fetches and buffers than faust's defaults keep the agents fed: with the
        # defaults the loop idled between small fetches and applied about 3,000 events/s.
        broker_max_poll_records=batch_size,
        stream_buffer_maxsize=batch_size * 4,
        consumer_max_fetch_size=16 * 1024 * 1024,
        loop=loop,
    )
    app.transport = ResumingTransport(
        app.conf.broker_consumer, app, stored_offsets=processor.stored_offsets, topics=processor.topics
    )

    for name in processor.topics:
        topic = app.topic(name, key_serializer="raw", value_serializer="raw")
        app.agent(topic, name=f"praetor-apply-{name}")(_batch_agent(processor, batch_size, batch_seconds))

    app.on_partitions_assigned.connect(_log_assigned)
    app.on_partitions_revoked.connect(_log_revoked)
    return app


def broker_urls(kafka_bootstrap: str) -> list[str]:
    """Return faust broker URLs (`kafka://host:port`) for a comma-separated bootstrap list."""
    addresses = [address.strip() for address in kafka_bootstrap.split(",") if address.strip()]
    if not addresses:
        raise ValueError(f"invalid Kafka bootstrap list {kafka_bootstrap!r}; expected host:port[,host:port...]")
    return [f"kafka://{address}" for address in addresses]


def _batch_agent(
    processor: StreamProcessor, batch_size: int, batch_seconds: float
) -> Callable[[StreamT], Awaitable[None]]:
    async def apply_batches(stream: StreamT) -> None:
        # take_events acks a batch when the loop requests the next one, so the offsets of
        # a batch are committed only after every partition group in it was applied.
        async for events in stream.take_events(batch_size, within=batch_seconds):
            groups = _partition_groups(events)
            await asyncio.gather(*(_apply_until_done(processor, records) for records in groups))

    return apply_batches


def _partition_groups(events: Sequence[EventT]) -> list[list[StreamRecord]]:
    groups: dict[tuple[str, int], list[StreamRecord]] = {}
    for event in events:
        message = event.message
        try:
            value = decode_value(message.value)
        except ValueError as error:
            # A message that is not a JSON object can never be applied, and waiting for it
            # would stop its partition for good.
            logger.error(
                "Skipped %s partition %s offset %s: the value is not a JSON object (%s)",
                message.topic, message.partition, message.offset, error,
            )
            continue
        key = message.key.decode("utf-8", errors="replace") if message.key is not None else None
        record = StreamRecord(message.topic, message.partition, message.offset, key, value)
        groups.setdefault((record.topic, record.partition), []).append(record)
    return list(groups.values())


async def _apply_until_done(processor: StreamProcessor, records: list[StreamRecord]) -> None:
    """Apply one partition's records, retrying with growing delays until it succeeds.

    Skipping a batch would leave the read models without it for good, so a batch that
    keeps failing is retried, with an error logged at each attempt, until the worker stops.
    """
    # NOTE: the agent takes no new batch meanwhile, so a record that can never be applied
    # (a bug in a projection, say) stops its whole topic on this worker, not only its
    # partition. There is no dead-letter topic.
    loop = asyncio.get_running_loop()
    first, last = records[0], records[-1]
    delay = RETRY_FIRST_DELAY_SECONDS
    attempt = 1
    while True:
        try:
            applied = await loop.run_in_executor(None, processor.apply, records)
        except Exception:
            logger.exception(
                "Applying offsets %s to %s of %s partition %s failed (attempt %s); retrying in %.1f s",
                first.offset, last.offset, first.topic, first.partition, attempt, delay,
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX_DELAY_SECONDS)
            attempt += 1
            continue
        if attempt > 1:
            logger.info(
                "Applied offsets %s to %s of %s partition %s at attempt %s",
                first.offset, last.offset, first.topic, first.partition, attempt,
            )
        logger.debug("Applied %s of %s records of %s partition %s", applied, len(records), first.topic, first.partition)
        return


def _execute(worker: faust.Worker) -> int:
    """Run faust's worker until it stops, and return its exit code."""
    try:
        worker.execute_from_commandline()
    except SystemExit as exit_request:
        # execute_from_commandline always ends with sys.exit: 0 after a clean stop.
        code = exit_request.code
        return code if isinstance(code, int) else 1
    return 0


async def _log_assigned(app: Any, assigned: set[TP], **_: Any) -> None:
    logger.info("Assigned %s", _describe(assigned))


async def _log_revoked(app: Any, revoked: set[TP], **_: Any) -> None:
    logger.info("Revoked %s", _describe(revoked))


def _describe(partitions: set[TP]) -> str:
    if not partitions:
        return "no partitions"
    return ", ".join(f"{tp.topic} partition {tp.partition}" for tp in sorted(partitions))
