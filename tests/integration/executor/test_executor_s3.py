from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from praetor.infra.object_store import open_object_store

ACCESS_KEY = "moto-access-key"
SECRET_KEY = "moto-secret-key"


@pytest.fixture(scope="module")
def moto_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def test_executor_writes_chunks_to_s3(executor_run, moto_endpoint: str) -> None:
    import s3fs

    bucket = f"praetor-{uuid.uuid4().hex[:12]}"
    s3fs.S3FileSystem(endpoint_url=moto_endpoint, key=ACCESS_KEY, secret=SECRET_KEY, skip_instance_cache=True).mkdir(bucket)
    store = open_object_store(f"s3://{bucket}/objects", s3_endpoint_url=moto_endpoint, s3_key=ACCESS_KEY, s3_secret=SECRET_KEY)
    run = executor_run("env.yml", store=store, limit="web-1")

    run.start(
        {
            "PRAETOR_S3_ENDPOINT_URL": moto_endpoint,
            "AWS_ACCESS_KEY_ID": ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        }
    )
    exit_code = run.wait(120)

    assert exit_code == 0, run.log_text()
    assert run.stub.finish_bodies[-1]["state"] == "successful"
    keys = store.list(f"runs/{run.run_id}/stdout/")
    assert len(keys) == run.stub.finish_bodies[-1]["chunk_count"]
    text = b"".join(store.get(key) for key in keys).decode("utf-8")
    assert "token=[] aws=[]" in text
