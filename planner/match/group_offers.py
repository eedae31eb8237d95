"""``find_group_offers``: the matching offers of each replica group of a service.

A service with replica groups asks for different machines per group (a CPU router, prefill on
one GPU, decode on another): each group is matched on its own requirements, in the order the
groups are written. A service without groups is one unnamed group, whose offers are exactly
``find_offers``'s.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from planner.errors import ConfigError
from planner.match.find import find_offers
from planner.match.offers import Offers
from planner.requirements import GroupRequirements, group_requirements

if TYPE_CHECKING:
    from planner.catalog import Catalog
    from planner.config.dstack_settings import DstackServerSettings
    from planner.config.load import LoadedConfig
    from planner.config.normalized import NormalizedService


@dataclass(frozen=True, eq=False)
class GroupOffers:
    """One replica group and the offers its replicas can run on (cheapest first)."""

    group: GroupRequirements
    offers: Offers

    @property
    def name(self) -> str | None:
        return self.group.name


def has_groups(groups: Sequence[GroupRequirements]) -> bool:
    """Whether the service was written with replica groups (not one unnamed group)."""
    return any(group.name is not None for group in groups)


def find_group_offers(
    config: LoadedConfig | NormalizedService | Sequence[GroupRequirements] | str | os.PathLike[str],
    catalog: Catalog,
    *,
    rows: bool = False,
    dstack_config: DstackServerSettings | str | os.PathLike[str] | None = None,
) -> tuple[GroupOffers, ...]:
    """One ``GroupOffers`` per replica group of ``config``, in the order the groups are written.

    ``config``: a service configuration (path, ``LoadedConfig``, ``NormalizedService``) or the
    groups themselves (``GroupRequirements``, as ``planner.requirements.group_requirements``
    gives them). ``rows``, ``dstack_config``: as ``find_offers`` (dstack-level by default).
    """
    groups: tuple[GroupRequirements, ...]
    if isinstance(config, str | os.PathLike):
        from planner.config.load import service_argument

        groups = group_requirements(service_argument(config, "find_group_offers"))
    elif isinstance(config, list | tuple):
        groups = tuple(config)
        wrong = [
            type(group).__name__ for group in groups if not isinstance(group, GroupRequirements)
        ]
        if wrong:
            raise ConfigError(
                "find_group_offers takes a service configuration or a sequence of "
                f"GroupRequirements, not a sequence holding {wrong[0]}"
            )
    else:
        from planner.config.load import service_argument

        groups = group_requirements(service_argument(config, "find_group_offers"))
    if not groups:
        raise ConfigError("find_group_offers: the service has no replica group")
    return tuple(
        GroupOffers(
            group=group,
            offers=find_offers(group.requirements, catalog, rows=rows, dstack_config=dstack_config),
        )
        for group in groups
    )
