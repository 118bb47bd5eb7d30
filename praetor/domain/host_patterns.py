"""Ansible host patterns (`--limit`), evaluated against an inventory's hosts and groups.

Supported: names of hosts and groups, `all` and `*`, shell wildcards (`web-*`), regular
expressions (`~web-\\d+`), and terms joined by `,` or `:` with `&` (intersection) and `!`
(exclusion), applied in Ansible's order: union of plain terms, then intersections, then
exclusions. A pattern that starts with `&` or `!` starts from all hosts, as in Ansible.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Set

from praetor.domain.errors import InvalidValue

# Outside brackets, `:` separates terms as `,` does (Ansible's older syntax).
_COLON_OUTSIDE_BRACKETS = re.compile(r":(?![^\[]*\])")


def match_hosts(pattern: str, hosts: Set[str], groups: Mapping[str, Set[str]]) -> set[str]:
    """Return the host names that `pattern` selects.

    NOTE: subscripts (`webservers[0:2]`) and patterns read from files (`@file`) are not
    supported; they raise InvalidValue rather than match silently.
    """
    terms = [term.strip() for term in _split_terms(pattern) if term.strip()]
    if not terms:
        return set(hosts)

    selected: set[str] = set()
    intersections: list[set[str]] = []
    exclusions: list[set[str]] = []
    for term in terms:
        if term.startswith("&"):
            intersections.append(_match_term(term[1:], hosts, groups))
        elif term.startswith("!"):
            exclusions.append(_match_term(term[1:], hosts, groups))
        else:
            selected |= _match_term(term, hosts, groups)

    if terms[0][0] in "&!":
        selected |= set(hosts)
    for intersection in intersections:
        selected &= intersection
    for exclusion in exclusions:
        selected -= exclusion
    return selected


def _split_terms(pattern: str) -> list[str]:
    if "," in pattern:
        return pattern.split(",")
    return _COLON_OUTSIDE_BRACKETS.split(pattern)


def _match_term(term: str, hosts: Set[str], groups: Mapping[str, Set[str]]) -> set[str]:
    if term.startswith("@") or ("[" in term and term.endswith("]")):
        raise InvalidValue("limit", f"{term!r} uses a form Praetor does not evaluate; use host or group names, wildcards or ~regex")
    if term in ("all", "*"):
        return set(hosts)
    if term.startswith("~"):
        try:
            regex = re.compile(term[1:])
        except re.error as error:
            raise InvalidValue("limit", f"{term!r} is not a valid regular expression: {error}") from error
        names = [name for name in (*hosts, *groups) if regex.match(name)]
    elif any(char in term for char in "*?["):
        names = fnmatch.filter([*hosts, *groups], term)
    else:
        names = [term]

    matched: set[str] = set()
    for name in names:
        if name in groups:
            matched |= set(groups[name])
        elif name in hosts:
            matched.add(name)
    return matched
