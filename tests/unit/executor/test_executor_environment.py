from __future__ import annotations

import uuid

import pytest

from praetor.executor.environment import InvalidEnvironment, read_environment

RUN_ID = str(uuid.uuid4())


def base_environ(**changes: str) -> dict[str, str]:
    environ = {
        "RUN_ID": RUN_ID,
        "PRAETOR_API_URL": "http://127.0.0.1:8123",
        "PRAETOR_RUN_TOKEN": "secret-token",
        "PRAETOR_OBJECT_STORE_URL": "file:///srv/objects",
        "PRAETOR_SPOOL_DIR": "/srv/spool",
        "AWS_ACCESS_KEY_ID": "key",
        "AWS_SECRET_ACCESS_KEY": "secret",
    }
    environ.update(changes)
    return environ


def test_environment_removes_token() -> None:
    environ = base_environ()

    env = read_environment(environ)

    assert env.token == "secret-token"
    assert "PRAETOR_RUN_TOKEN" not in environ
    assert "secret-token" not in repr(env)


def test_environment_keeps_aws_keys_for_file_store() -> None:
    environ = base_environ()

    env = read_environment(environ)

    assert env.s3_key is None
    assert environ["AWS_ACCESS_KEY_ID"] == "key"


def test_environment_moves_aws_keys_for_s3_store() -> None:
    environ = base_environ(PRAETOR_OBJECT_STORE_URL="s3://bucket/prefix", PRAETOR_S3_ENDPOINT_URL="http://127.0.0.1:9000")

    env = read_environment(environ)

    assert (env.s3_key, env.s3_secret, env.s3_token) == ("key", "secret", None)
    assert env.s3_endpoint_url == "http://127.0.0.1:9000"
    assert "AWS_ACCESS_KEY_ID" not in environ
    assert "AWS_SECRET_ACCESS_KEY" not in environ


def test_environment_lists_missing_variables() -> None:
    environ = base_environ()
    del environ["PRAETOR_API_URL"]
    del environ["PRAETOR_SPOOL_DIR"]

    with pytest.raises(InvalidEnvironment, match="PRAETOR_API_URL, PRAETOR_SPOOL_DIR"):
        read_environment(environ)


def test_environment_rejects_invalid_run_id() -> None:
    with pytest.raises(InvalidEnvironment, match="not a UUID"):
        read_environment(base_environ(RUN_ID="run-1"))


def test_environment_rejects_relative_spool_dir() -> None:
    with pytest.raises(InvalidEnvironment, match="not an absolute path"):
        read_environment(base_environ(PRAETOR_SPOOL_DIR="spool"))


def test_environment_without_kafka() -> None:
    env = read_environment(base_environ())

    assert env.kafka is None


def test_environment_reads_kafka_settings() -> None:
    environ = base_environ(PRAETOR_KAFKA_BOOTSTRAP_SERVERS=" kafka-1:9092, kafka-2:9093 ,[::1]:9094", PRAETOR_KAFKA_TOPIC_PREFIX="tenant-a.")

    env = read_environment(environ)

    assert env.kafka is not None
    assert env.kafka.bootstrap_servers == ("kafka-1:9092", "kafka-2:9093", "[::1]:9094")
    assert env.kafka.topic("praetor.job-events") == "tenant-a.praetor.job-events"
    assert "PRAETOR_KAFKA_BOOTSTRAP_SERVERS" not in environ
    assert "PRAETOR_KAFKA_TOPIC_PREFIX" not in environ


def test_environment_kafka_prefix_defaults_to_empty() -> None:
    env = read_environment(base_environ(PRAETOR_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9092"))

    assert env.kafka is not None
    assert env.kafka.topic_prefix == ""
    assert env.kafka.topic("praetor.log-chunks") == "praetor.log-chunks"


def test_environment_empty_bootstrap_means_http() -> None:
    env = read_environment(base_environ(PRAETOR_KAFKA_BOOTSTRAP_SERVERS="  ", PRAETOR_KAFKA_TOPIC_PREFIX="tenant-a."))

    assert env.kafka is None


@pytest.mark.parametrize("servers", ["kafka-1", "kafka-1:", ":9092", "kafka-1:port", "kafka-1:0", "kafka-1:70000", "kafka-1:9092,,kafka-2:9092"])
def test_environment_rejects_invalid_bootstrap(servers: str) -> None:
    with pytest.raises(InvalidEnvironment, match="PRAETOR_KAFKA_BOOTSTRAP_SERVERS .* is not host:port"):
        read_environment(base_environ(PRAETOR_KAFKA_BOOTSTRAP_SERVERS=servers))


@pytest.mark.parametrize("prefix", ["tenant a.", "tenant/a.", "ü.", "x" * 232])
def test_environment_rejects_invalid_topic_prefix(prefix: str) -> None:
    with pytest.raises(InvalidEnvironment, match="PRAETOR_KAFKA_TOPIC_PREFIX .* is not a valid start of a Kafka topic name"):
        read_environment(base_environ(PRAETOR_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9092", PRAETOR_KAFKA_TOPIC_PREFIX=prefix))


def test_environment_accepts_longest_topic_prefix() -> None:
    env = read_environment(base_environ(PRAETOR_KAFKA_BOOTSTRAP_SERVERS="127.0.0.1:9092", PRAETOR_KAFKA_TOPIC_PREFIX="x" * 231))

    assert env.kafka is not None
    assert len(env.kafka.topic("praetor.job-events")) == 249
