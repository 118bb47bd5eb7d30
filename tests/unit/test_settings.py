"""Settings come from the environment and from the file PRAETOR_CONFIG_FILE names."""

import pytest

from praetor.infra.settings import ConfigurationError, Mode, load_settings


def test_config_file_read(tmp_path, monkeypatch) -> None:
    config = tmp_path / "praetor.env"
    config.write_text("PRAETOR_MODE=distributed\nPRAETOR_KAFKA_TOPIC_PREFIX=site-a.\n")
    monkeypatch.setenv("PRAETOR_CONFIG_FILE", str(config))
    monkeypatch.setenv("PRAETOR_KAFKA_TOPIC_PREFIX", "from-env.")

    settings = load_settings()

    assert settings.mode is Mode.DISTRIBUTED
    assert settings.kafka_topic_prefix == "from-env."


def test_missing_config_file_named(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("PRAETOR_CONFIG_FILE", str(tmp_path / "absent.env"))
    with pytest.raises(ConfigurationError) as raised:
        load_settings()
    assert "absent.env" in str(raised.value)


def test_distributed_needs_database(monkeypatch) -> None:
    monkeypatch.delenv("PRAETOR_DATABASE_URL", raising=False)
    monkeypatch.setenv("PRAETOR_MODE", "distributed")
    monkeypatch.setenv("PRAETOR_KAFKA_BOOTSTRAP_SERVERS", "127.0.0.1:9092")
    with pytest.raises(ConfigurationError) as raised:
        load_settings().require_distributed()
    assert "PRAETOR_DATABASE_URL" in str(raised.value)
