"""Ansible-style host patterns, as `--limit` evaluates them."""

import pytest

from praetor.domain.errors import InvalidValue
from praetor.domain.host_patterns import match_hosts

HOSTS = {"web-1", "web-2", "db-1", "cache"}
GROUPS = {"web": {"web-1", "web-2"}, "db": {"db-1"}, "prod": {"web-1", "db-1"}}


@pytest.mark.parametrize(
    ("pattern", "expected"),
    [
        pytest.param("", HOSTS, id="empty-is-all"),
        pytest.param("all", HOSTS, id="all"),
        pytest.param("*", HOSTS, id="star"),
        pytest.param("web-1", {"web-1"}, id="host-name"),
        pytest.param("web", {"web-1", "web-2"}, id="group-name"),
        pytest.param("web,db", {"web-1", "web-2", "db-1"}, id="comma-union"),
        pytest.param("web:db", {"web-1", "web-2", "db-1"}, id="colon-union"),
        pytest.param("web:&prod", {"web-1"}, id="intersection"),
        pytest.param("all:!web", {"db-1", "cache"}, id="exclusion"),
        pytest.param("!web", {"db-1", "cache"}, id="leading-exclusion"),
        pytest.param("web-*", {"web-1", "web-2"}, id="wildcard"),
        pytest.param("~(web|db)-1", {"web-1", "db-1"}, id="regex"),
        pytest.param("nothing", set(), id="unknown-name"),
    ],
)
def test_match_hosts(pattern: str, expected: set[str]) -> None:
    assert match_hosts(pattern, HOSTS, GROUPS) == expected


@pytest.mark.parametrize("pattern", [pytest.param("web[0:1]", id="subscript"), pytest.param("@retry.txt", id="file"), pytest.param("~(", id="bad-regex")])
def test_unsupported_patterns_rejected(pattern: str) -> None:
    with pytest.raises(InvalidValue) as raised:
        match_hosts(pattern, HOSTS, GROUPS)
    assert raised.value.field == "limit"
