"""A faust Kafka transport whose consumer resumes each partition at the read models' position.

faust (faust-streaming 0.15.3) acks the events of a `take_events` batch in the generator's
`finally`, so also when the agent raised or was cancelled, and it acks messages it skips
during a rebalance. The Kafka committed offset can therefore pass messages that the read
models never applied. The transaction that changes the read models also stores the next
offset to apply, so that stored offset, not Kafka's, determines where to resume.

After each partition assignment faust seeks every assigned partition to its committed
offset through `seek_to_committed`. This consumer overrides that step and moves each
partition to its stored offset instead when the two differ. It returns the stored offsets
as the committed ones, so faust commits on from there.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterable, Mapping
from typing import Any, cast

from faust.transport.drivers import aiokafka as aiokafka_driver
from faust.types import TP

logger = logging.getLogger(__name__)

StoredOffsets = Callable[[Iterable[tuple[str, int]]], Mapping[tuple[str, int], int]]


class ResumingConsumer(aiokafka_driver.Consumer):
    async def seek_to_committed(self) -> Mapping[TP, int]:
        committed = dict(await super().seek_to_committed())
        transport = cast("ResumingTransport", self.transport)
        partitions = [tp for tp in committed if tp.topic in transport.topics]
        if not partitions:
            return committed

        try:
            stored = await asyncio.get_running_loop().run_in_executor(
                None, transport.stored_offsets, [(tp.topic, tp.partition) for tp in partitions]
            )
        except Exception:
            # Without the stored offsets, resuming at Kafka's could skip unapplied messages,
            # so the error stops the assignment and faust's worker with it.
            logger.exception("Reading the stored offsets of %s failed", ", ".join(_describe(tp) for tp in partitions))
            raise

        seeks: dict[TP, int] = {}
        unmoved: list[str] = []
        for tp in sorted(partitions):
            offset = stored[(tp.topic, tp.partition)]
            # aiokafka returns None for a partition with no committed offset.
            committed_offset = committed[tp] if committed[tp] is not None and committed[tp] > 0 else 0
            if offset != committed_offset:
                logger.info(
                    "Resuming %s at stored offset %s instead of committed offset %s", _describe(tp), offset, committed[tp]
                )
                seeks[tp] = offset
            else:
                unmoved.append(f"{_describe(tp)} at {offset}")
        if unmoved:
            logger.info("Resuming at the committed offsets, which equal the stored ones: %s", ", ".join(unmoved))

        if seeks:
            await self.seek_wait(seeks)
        committed.update(seeks)
        return committed


class ResumingTransport(aiokafka_driver.Transport):
    """The aiokafka transport of faust, with a consumer that resumes at stored offsets.

    `stored_offsets` returns the next offset to apply for each `(topic, partition)` and may
    block, so it runs in a worker thread. Only partitions of `topics` are moved.
    """

    Consumer = ResumingConsumer

    def __init__(self, *args: Any, stored_offsets: StoredOffsets, topics: Iterable[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stored_offsets = stored_offsets
        self.topics = frozenset(topics)


def _describe(tp: TP) -> str:
    return f"{tp.topic} partition {tp.partition}"
