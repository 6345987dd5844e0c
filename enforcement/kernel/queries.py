"""SQL lives in ``.sql`` files as named blocks, parsed once into a dict.

A block starts with a line ``-- name --``, then a one-line description naming the parameters
``$1..$n`` in order, then the statement. Only the store calls these.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path

# Each package keeps its SQL beside its store, in a folder named ``sql``; the loader reads them all.
SQL_DIR = Path(__file__).resolve().parents[1]
_HEADER = re.compile(r"^-- ([a-z][a-z0-9_]*) --$", re.MULTILINE)


def parse_blocks(text: str, *, source: str = "<sql>") -> dict[str, str]:
    """The named blocks of one ``.sql`` text (``-- name --``, then a description line); raises
    ValueError on a block without description or statement, or defined twice."""
    parts = _HEADER.split(text)
    blocks: dict[str, str] = {}
    for name, body in zip(parts[1::2], parts[2::2], strict=True):
        lines = body.strip("\n").splitlines()
        if not lines or not lines[0].startswith("--"):
            raise ValueError(f"{source}: block {name!r} lacks its one-line description")
        statement = "\n".join(lines[1:]).strip().rstrip(";")
        if not statement:
            raise ValueError(f"{source}: block {name!r} is empty")
        if name in blocks:
            raise ValueError(f"{source}: block {name!r} defined twice")
        blocks[name] = statement
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
