"""SQL lives in ``.sql`` files as named blocks, parsed once into a dict.

A block starts with a line ``-- name --``, then a one-line description naming the parameters
``$1..$n`` in order, then the statement. Only the store calls these.

A rule two statements share is written once, as a fragment of the same file: a block whose header is
``-- fragment name --`` (a description, then its text: not a statement, not loaded as one), which
a statement takes in where it writes ``{{name}}``; the loader composes them, so what is sent (and
planned) is the statement as if written out. A fragment no statement uses, or a ``{{name}}`` the
file does not define, is refused.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

# Each package keeps its SQL beside its store, in a folder named ``sql``; the loader reads them all.
SQL_DIR = Path(__file__).resolve().parents[1]
_HEADER = re.compile(r"^-- (fragment )?([a-z][a-z0-9_]*) --$", re.MULTILINE)
_USE = re.compile(r"\{\{([a-z][a-z0-9_]*)\}\}")


def parse_blocks(text: str, *, source: str = "<sql>") -> dict[str, str]:
    """The named statements of one ``.sql`` text (``-- name --``, then a description line), with
    the file's fragments (``-- fragment name --``) composed in where they write ``{{name}}``;
    raises ValueError on a block without description or text, a name defined twice, a fragment
    used but not defined, defined but not used, or taking in another."""
    parts = _HEADER.split(text)
    blocks: dict[str, str] = {}
    fragments: dict[str, str] = {}
    for fragment, name, body in zip(parts[1::3], parts[2::3], parts[3::3], strict=True):
        lines = body.strip("\n").splitlines()
        if not lines or not lines[0].startswith("--"):
            raise ValueError(f"{source}: block {name!r} lacks its one-line description")
        statement = "\n".join(lines[1:]).strip().rstrip(";")
        if not statement:
            raise ValueError(f"{source}: block {name!r} is empty")
        if name in blocks or name in fragments:
            raise ValueError(f"{source}: block {name!r} defined twice")
        if fragment and _USE.search(statement):
            raise ValueError(f"{source}: fragment {name!r} takes in another (fragments do not nest)")
        (fragments if fragment else blocks)[name] = statement
    used: set[str] = set()

    def compose(match: re.Match[str]) -> str:
        if match[1] not in fragments:
            raise ValueError(f"{source}: no fragment {match[1]!r} in this file")
        used.add(match[1])
        return fragments[match[1]]

    blocks = {name: _USE.sub(compose, statement) for name, statement in blocks.items()}
    if unused := sorted(set(fragments) - used):
        raise ValueError(f"{source}: fragment {unused[0]!r} is used by no statement")
    return blocks


@cache
def load_queries(directory: Path = SQL_DIR) -> dict[str, str]:
    """Every named block of every ``.sql`` file in a ``sql`` folder below ``directory`` (the
    ``enforcement`` package: kernel, features); names are unique across them all."""
    queries: dict[str, str] = {}
    for path in sorted(directory.glob("**/sql/*.sql")):
        for name, statement in parse_blocks(path.read_text(encoding="utf-8"), source=path.name).items():
            if name in queries:
                raise ValueError(f"query {name!r} is defined in two files (second: {path.name})")
            queries[name] = statement
    return queries


class Queries:
    """Attribute and item access to the named statements: ``Q.claim_tasks``."""

    def __init__(self, directory: Path = SQL_DIR) -> None:
        self._q = load_queries(directory)

    def __getattr__(self, name: str) -> str:
        try:
            return self._q[name]
        except KeyError:
            raise AttributeError(f"no SQL block named {name!r}") from None

    def __getitem__(self, name: str) -> str:
        return self.__getattr__(name)

    def names(self) -> list[str]:
        """Every block's name."""
        return sorted(self._q)


Q = Queries()

__all__ = ["Q", "Queries", "load_queries", "parse_blocks"]
