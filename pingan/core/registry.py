"""Start-up registries: what apps contribute to shared lists (inbox sources, indicator
queries, menus, access policies). Apps register in ``AppConfig.ready()``; the last
installed app (``pingan.site``) freezes them, so nothing changes behind a running server.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")


class RegistryFrozen(RuntimeError):
    pass


class Registry(Generic[T]):
    """A named, ordered mapping of key -> entry that can be frozen."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._entries: dict[str, T] = {}
        self._frozen = False

    def register(self, key: str, entry: T) -> T:
        if self._frozen:
            raise RegistryFrozen(f"registry {self.name!r} is frozen; register in AppConfig.ready()")
        if key in self._entries and self._entries[key] is not entry:
            raise KeyError(f"registry {self.name!r}: {key!r} registered twice")
        self._entries[key] = entry
        return entry

    def decorator(self, key: str) -> Callable[[T], T]:
        def wrap(entry: T) -> T:
            return self.register(key, entry)

        return wrap

    def freeze(self) -> None:
        self._frozen = True

    @contextlib.contextmanager
    def unfrozen(self) -> Iterator[None]:
        """Tests only: register temporarily, then restore the frozen registry as it was."""
        saved, was_frozen = dict(self._entries), self._frozen
        self._frozen = False
        try:
            yield
        finally:
            self._entries, self._frozen = saved, was_frozen

    @property
    def frozen(self) -> bool:
        return self._frozen

    def get(self, key: str) -> T:
        try:
            return self._entries[key]
        except KeyError:
            raise KeyError(f"registry {self.name!r} has no {key!r}") from None

    def __contains__(self, key: object) -> bool:
        return key in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def items(self) -> list[tuple[str, T]]:
        return list(self._entries.items())

    def values(self) -> list[T]:
        return list(self._entries.values())

    def __len__(self) -> int:
        return len(self._entries)


# The registries every app may contribute to.
inbox_sources: Registry = Registry("inbox_sources")
indicator_queries: Registry = Registry("indicator_queries")
menu_items: Registry = Registry("menu_items")
access_policies: Registry = Registry("access_policies")
workflow_guards: Registry = Registry("workflow_guards")
# Steps of `manage.py seed` (the demo province): pingan.core.seeding.SeedStep entries.
seed_steps: Registry = Registry("seed_steps")
# Jobs `manage.py worker` runs on every pass (besides the deadline sweep): name -> callable().
periodic_jobs: Registry = Registry("periodic_jobs")

# Things citizens may rate (好差评): subject type -> resolver (pingan.ratings.subjects).
rating_subjects: Registry = Registry("rating_subjects")

ALL = [
    rating_subjects,
    inbox_sources,
    indicator_queries,
    menu_items,
    access_policies,
    workflow_guards,
    seed_steps,
    periodic_jobs,
]


def freeze_all() -> None:
    for registry in ALL:
        registry.freeze()
