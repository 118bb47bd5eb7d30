"""Text with NUL characters: commands reject it, job events store it with U+FFFD."""

import pytest

from praetor.commands.base import reject_nul_characters
from praetor.commands.inventories import CreateInventory
from praetor.domain.errors import InvalidValue
from praetor.projections.json_text import dump_jsonb


def test_command_with_nul_rejected() -> None:
    command = CreateInventory(name="lab", organization_id=None, variables={"motd": ["hello\x00"]})  # type: ignore[arg-type]
    with pytest.raises(InvalidValue) as raised:
        reject_nul_characters(command)
    assert raised.value.field == "variables"


def test_jsonb_text_replaces_nul() -> None:
    assert dump_jsonb({"stdout": "a\x00b"}) == '{"stdout":"a\ufffdb"}'


def test_jsonb_text_keeps_escaped_backslash() -> None:
    assert dump_jsonb({"stdout": "\\u0000"}) == '{"stdout":"\\\\u0000"}'
