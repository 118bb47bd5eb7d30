"""Check that the services from scripts/services/ accept real client traffic.

Each test reads the connection settings that the matching script prints on
`start`, and fails with the command to run when a setting is missing.
"""

import os
import uuid

import boto3
import psycopg
import pytest
import s3fs
import sqlalchemy
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer

pytestmark = pytest.mark.services

KAFKA_TIMEOUT_S = 30


def require_env(name: str, script: str) -> str:
    """Return the environment variable `name`, or fail the test naming `script`."""
    value = os.environ.get(name)
    if not value:
        pytest.fail(f'{name} is not set; start the service with: eval "$(scripts/services/{script} start)"')
    return value


def test_postgres_select_one():
    dsn = require_env("PRAETOR_TEST_PG_DSN", "postgres.sh")

    with psycopg.connect(dsn, connect_timeout=10) as connection:
        row = connection.execute("SELECT 1").fetchone()
        user = connection.execute("SELECT current_user").fetchone()

    assert row == (1,)
    assert user == ("praetor",)


def test_postgres_sqlalchemy_url_connects():
    url = require_env("PRAETOR_TEST_DATABASE_URL", "postgres.sh")

    engine = sqlalchemy.create_engine(url)
    try:
        with engine.connect() as connection:
            database = connection.execute(sqlalchemy.text("SELECT current_database()")).scalar_one()
    finally:
        engine.dispose()

    assert database == "praetor_test"


def test_kafka_message_round_trip():
    bootstrap = require_env("PRAETOR_TEST_KAFKA_BOOTSTRAP", "kafka.sh")
    topic = f"praetor-services-check-{uuid.uuid4().hex}"
    payload = uuid.uuid4().bytes

    admin = KafkaAdminClient(bootstrap_servers=bootstrap, request_timeout_ms=KAFKA_TIMEOUT_S * 1000)
    try:
        assert topic not in admin.list_topics()

        # The broker creates the topic on the first send (auto.create.topics.enable).
        producer = KafkaProducer(bootstrap_servers=bootstrap)
        try:
            producer.send(topic, payload).get(timeout=KAFKA_TIMEOUT_S)
        finally:
            producer.close()
        assert topic in admin.list_topics()

        # A consumer group also exercises the single-replica __consumer_offsets topic.
        consumer = KafkaConsumer(
            topic,
            bootstrap_servers=bootstrap,
            group_id=f"{topic}-group",
            auto_offset_reset="earliest",
            consumer_timeout_ms=KAFKA_TIMEOUT_S * 1000,
        )
        try:
            # Iteration stops after consumer_timeout_ms without a message.
            received = next((message.value for message in consumer), None)
        finally:
            consumer.close()
        assert received == payload
    finally:
        if topic in admin.list_topics():
            admin.delete_topics([topic])
        admin.close()


def test_s3_bucket_put_get_boto3():
    endpoint_url = require_env("PRAETOR_TEST_S3_ENDPOINT_URL", "moto.sh")
    bucket = f"praetor-services-check-{uuid.uuid4().hex}"
    body = uuid.uuid4().bytes

    s3 = boto3.client("s3", endpoint_url=endpoint_url, region_name="us-east-1")
    s3.create_bucket(Bucket=bucket)
    try:
        s3.put_object(Bucket=bucket, Key="check/object.bin", Body=body)
        fetched = s3.get_object(Bucket=bucket, Key="check/object.bin")["Body"].read()
    finally:
        s3.delete_object(Bucket=bucket, Key="check/object.bin")
        s3.delete_bucket(Bucket=bucket)

    assert fetched == body


def test_s3_bucket_put_get_s3fs():
    endpoint_url = require_env("PRAETOR_TEST_S3_ENDPOINT_URL", "moto.sh")
    bucket = f"praetor-services-check-{uuid.uuid4().hex}"
    body = uuid.uuid4().bytes

    filesystem = s3fs.S3FileSystem(endpoint_url=endpoint_url, skip_instance_cache=True)
    filesystem.mkdir(bucket)
    try:
        filesystem.pipe(f"{bucket}/check/object.bin", body)
        fetched = filesystem.cat(f"{bucket}/check/object.bin")
    finally:
        filesystem.rm(bucket, recursive=True)

    assert fetched == body
