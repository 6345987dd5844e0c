"""The connector registry: built-in connectors and any installed package that declares an
entry point in the group ``enforcement.connectors`` pointing at a ``ConnectorSpec``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from importlib.metadata import entry_points

from connectors.sdk.errors import ConfigurationError
from connectors.sdk.protocol import ConnectorSpec

ENTRY_POINT_GROUP = "enforcement.connectors"


class Registry(Mapping[str, ConnectorSpec]):
    """An immutable name -> ConnectorSpec mapping."""

    def __init__(self, specs: Iterable[ConnectorSpec]) -> None:
        self._specs: dict[str, ConnectorSpec] = {}
        for spec in specs:
            if spec.name in self._specs:
                raise ConfigurationError(f"two connectors are named {spec.name!r}")
            self._specs[spec.name] = spec

    def __getitem__(self, name: str) -> ConnectorSpec:
        try:
            return self._specs[name]
        except KeyError:
            raise KeyError(f"no connector named {name!r}; known: {sorted(self._specs)}") from None

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._specs))

    def __len__(self) -> int:
        return len(self._specs)

    def only(self, names: Iterable[str]) -> Registry:
        wanted = list(names)
        return Registry(self[n] for n in wanted) if wanted else self

    @classmethod
    def discover(cls) -> Registry:
        """Load every connector declared under the entry-point group."""
        specs: list[ConnectorSpec] = []
        for ep in entry_points(group=ENTRY_POINT_GROUP):
            spec = ep.load()
            if not isinstance(spec, ConnectorSpec):
                raise ConfigurationError(
                    f"entry point {ep.name!r} ({ep.value}) is not a ConnectorSpec",
                    code="bad_entry_point",
                )
            if spec.name != ep.name:
                raise ConfigurationError(
                    f"entry point {ep.name!r} loads a connector named {spec.name!r}",
                    code="bad_entry_point",
                )
            specs.append(spec)
        return cls(specs)


__all__ = ["ENTRY_POINT_GROUP", "Registry"]
