"""A plan's notes in words: one English sentence per typed note (``planner.placement.notes``)."""

from __future__ import annotations

from planner.placement.kinds import FailureDomain
from planner.placement.notes import (
    DefaultProtectionDropped,
    FleetMatched,
    FleetsUnchecked,
    GroupSurvivalUnmet,
    HedgeReplicas,
    OnDemandFloorAboveReplicas,
    PlanNote,
    ReservationMatchesNoOffer,
    ReservationNotInCapacityFile,
    ReservationWithoutCapacityFile,
    ReuseWithoutFleet,
    RowMatchesNoOffer,
    RpsCurveTruncated,
    ScalingNotComputed,
    SpotAssumptions,
    SpotWithoutRetry,
    TimeLimitReached,
    ZoneCapacityIncomplete,
)


def domain_words(failure_domain: FailureDomain) -> str:
    """What one failure domain is, in words."""
    if failure_domain == "instance-type":
        return "(backend, region, instance type)"
    return "(backend, region; a zone counts in its region)"


def render_note(note: PlanNote) -> str:
    """The sentence the plan's Notes section (and the CLI's JSON ``notes``) prints for ``note``."""
    match note:
        case FleetMatched(matched=matched, idle=idle, busy=busy):
            return f"fleet: {matched} of {idle} idle instance(s) satisfy the configuration" + (
                f" ({busy} busy instance(s) are never planned on)" if busy else ""
            )
        case ReuseWithoutFleet():
            return (
                "creation_policy: reuse places replicas only on idle fleet instances, and no fleet "
                "inventory was given (--fleet)"
            )
        case FleetsUnchecked(fleets=fleets):
            return (
                f"fleets {', '.join(fleets)}: without a fleet inventory (--fleet) planner cannot "
                "check which instances these fleets hold; the plan prices new catalog offers"
            )
        case ReservationWithoutCapacityFile(reservation_id=reservation_id):
            return (
                f"reservation {reservation_id!r}: no capacity file (--capacity) states its count "
                "and price, so no reserved capacity is planned"
            )
        case ReservationNotInCapacityFile(reservation_id=reservation_id):
            return (
                f"reservation {reservation_id!r}: not in the capacity file, so no reserved "
                "capacity is planned"
            )
        case ReservationMatchesNoOffer():
            return (
                f"reservation {note.reservation_id!r} ({note.source}): "
                f"{note.provider}/{note.region}/{note.instance_type} matches no offer that "
                "satisfies the configuration, so it is not used"
            )
        case OnDemandFloorAboveReplicas(floor=floor, replicas=replicas):
            return (
                f"the on-demand floor ({floor}) is above the {replicas} replica(s) planned: "
                "every one of them goes on never-interrupted capacity"
            )
        case TimeLimitReached(time_limit_seconds=seconds):
            return (
                f"the time limit ({seconds:g} s) was reached before optimality was proven: the "
                "plan is valid but may not be the cheapest"
            )
        case ScalingNotComputed(replicas_min=low, replicas_max=high, max_steps=max_steps):
            return (
                f"the replica range {low}..{high} has more than {max_steps} counts: the cost per "
                "replica count was not computed"
            )
        case HedgeReplicas(extra=extra, expected_survival=expected, wave_domain=domain):
            guarantees = []
            if expected:
                guarantees.append("expected survival")
            if domain is not None:
                guarantees.append(
                    "surviving one preemption wave per failure domain, a " + domain_words(domain)
                )
            return (
                f"{extra} extra replica(s) hedge against interruption ({' and '.join(guarantees)})"
            )
        case DefaultProtectionDropped():
            return _dropped_words(note)
        case ZoneCapacityIncomplete():
            return (
                f"warning: capacity row(s) {', '.join(note.sources)} name zones of "
                f"{note.backend} {note.region} {note.instance_type}, an offer dstack may start in "
                f"any of its zones; {', '.join(note.unstated)} have no row, so the zone rows do "
                "not limit this offer (give every zone a row, or one row for the region)"
            )
        case RowMatchesNoOffer():
            field = "backend" if note.field == "provider" else note.field
            hint = f" (did you mean {note.suggestion!r}?)" if note.suggestion else ""
            # A capacity row only ever applies to catalog pools; a fleet instance may still be
            # planned on (its resources are its own), but its place is likely mistyped.
            effect = (
                "changes nothing in this plan"
                if note.file_kind == "capacity"
                else "is matched by its own resources only"
            )
            return (
                f"warning: {note.file_kind} row {note.source}: no offer in the catalog has "
                f"{field} {note.value!r}{hint}; the row {effect}"
            )
        case SpotWithoutRetry(spot_replicas=spot, expected_lost=lost, hedge_replicas=hedge):
            return (
                f"warning: {spot} spot replica(s) without retry on interruption: an interrupted "
                f"replica is not replaced (about {lost:.2f} interrupted per month at the assumed "
                f"rates); the plan carries {hedge} extra replica(s) for them. Add `retry: "
                "{on_events: [interruption]}` to have interrupted replicas replaced"
            )
        case GroupSurvivalUnmet(groups=groups, reason=reason, failure_domain=domain):
            names = ", ".join(groups)
            if reason == "one-replica":
                return (
                    f"warning: replica group(s) {names}: one replica each, so losing its failure "
                    f"domain, a {domain_words(domain)}, takes that group down"
                )
            return (
                f"warning: replica group(s) {names} cannot keep a replica outside every failure "
                f"domain, a {domain_words(domain)}, with the offers and constraints given: one "
                "domain lost can take them down; the plan keeps the rule for the other groups"
            )
        case RpsCurveTruncated(max_steps=steps, rps_to=rps_to):
            return (
                f"the cost curve over the traffic level stops after {steps} steps, at "
                f"{rps_to:g} requests per second"
            )
        case SpotAssumptions():
            return _assumption_words(note)
    raise AssertionError(f"a plan note without words: {note!r}")


def _assumption_words(note: SpotAssumptions) -> str:
    """The hedge's assumptions and what the user can set."""
    if note.replaced:
        replacement = (
            f"an interrupted spot replica is replaced after {note.replacement_minutes:g} min "
            "(--replacement-minutes)"
        )
    else:
        replacement = "an interrupted spot replica is lost for the rest of the month"
    default = (
        f"; {note.default_rate_replicas} replica(s) are on spot pools at the default "
        f"monthly interruption rate {note.default_rate:g} (--interruption-rate, "
        "or a --capacity file)"
        if note.default_rate_replicas
        else ""
    )
    return (
        f"hedge assumptions: {replacement}{default}; expected ready replicas "
        f"{note.expected_ready:.4f} for a target of {note.target}"
    )


def _dropped_words(note: DefaultProtectionDropped) -> str:
    """What is not protected, at which counts, and what would protect it."""
    counts = ", ".join(str(count) for count in note.replica_counts)
    domains = f"{note.spot_domains} failure domain(s) {domain_words(note.failure_domain)}"
    if note.protection == "wave_survival":
        what, unprotected, accept = (
            "wave survival",
            "it does not survive a preemption wave: losing every spot replica of one failure "
            "domain leaves fewer than the target",
            "; --no-wave-survival plans without it knowingly",
        )
    else:
        what, unprotected, accept = (
            "the default spread (half the spot replicas per failure domain)",
            "one preemption wave can take more than half of its replicas",
            "",
        )
    return (
        f"warning: {what}, a default, cannot be met: the usable spot offers are in {domains}. "
        f"At {counts} replica(s) the plan is the cheapest that meets your own constraints, and "
        f"{unprotected}. What would protect it: spot offers in another failure domain (more "
        f"regions or backends) or on-demand replicas (--on-demand-floor){accept}"
    )


def render_notes(notes: tuple[PlanNote, ...]) -> list[str]:
    return [render_note(note) for note in notes]
