"""Why-not: what each requirement cost, in offers and in dollars.

For every requirement that is set: how many catalog rows it excluded and the cheapest of them, and
the "near misses": rows that fail *only* that requirement (relaxing it alone would admit them).
That turns "no offers" into "max_price excluded 412 offers; the cheapest was $2.49".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from planner.match.masks import requirement_masks
from planner.match.view import CatalogView
from planner.requirements import Requirements


@dataclass(frozen=True)
class Exclusion:
    requirement: str  # the Requirements field group, e.g. "max_price" -> "price"
    condition: str  # human-readable, e.g. "price ≤ $2"
    excluded: int  # catalog rows this requirement rejects (whatever the others say)
    cheapest_excluded_price: float | None
    only_this: int  # rows rejected by this requirement and by no other one
    cheapest_only_this_price: float | None
    cheapest_only_this_row: int | None  # catalog row position of that near miss

    def to_json(self) -> dict[str, object]:
        return {
            "requirement": self.requirement,
            "condition": self.condition,
            "excluded": self.excluded,
            "cheapest_excluded_price": self.cheapest_excluded_price,
            "only_this": self.only_this,
            "cheapest_only_this_price": self.cheapest_only_this_price,
        }


def exclusions(
    requirements: Requirements,
    view: CatalogView,
    extra: Sequence[tuple[str, str, np.ndarray]] = (),
) -> tuple[Exclusion, ...]:
    """One ``Exclusion`` per set requirement, in evaluation order, then per ``extra`` rule.

    ``extra``: further rules as (name, condition, passed per row), e.g. dstack's backend rules.
    Relies on the catalog being sorted by price: the first rejected row is the cheapest one.
    """
    price = view.values("price")
    rejected_by = [
        (clause.name, clause.condition, ~passed)
        for clause, passed in requirement_masks(requirements, view)
    ] + [(name, condition, ~passed) for name, condition, passed in extra]
    failures = np.zeros(view.rows, dtype=np.uint8)
    for _, _, rejected in rejected_by:
        failures += rejected
    only_one_failure = failures == 1

    result = []
    for name, condition, rejected in rejected_by:
        excluded = int(np.count_nonzero(rejected))
        only = rejected & only_one_failure
        only_count = int(np.count_nonzero(only))
        first_excluded = int(np.argmax(rejected)) if excluded else None
        first_only = int(np.argmax(only)) if only_count else None
        result.append(
            Exclusion(
                requirement=name,
                condition=condition,
                excluded=excluded,
                cheapest_excluded_price=None
                if first_excluded is None
                else float(price[first_excluded]),
                only_this=only_count,
                cheapest_only_this_price=None if first_only is None else float(price[first_only]),
                cheapest_only_this_row=first_only,
            )
        )
    return tuple(result)
