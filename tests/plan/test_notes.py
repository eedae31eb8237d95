"""A plan's notes are typed values; `planner/render/` words them, and the CLI's JSON prints words."""

from __future__ import annotations

import json

import pytest
from plan_frames import offer_frame, service

from planner.placement import PlanOptions, plan_offers
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
from planner.render.plan import render_plan_json, render_plan_markdown, render_plan_table
from planner.render.plan_notes import render_note

WORDS: list[tuple[PlanNote, str]] = [
    (
        FleetsUnchecked(fleets=("inference", "team/gpu")),
        "fleets inference, team/gpu: without a fleet inventory (--fleet) planner cannot check "
        "which instances these fleets hold; the plan prices new catalog offers",
    ),
    (
        FleetMatched(matched=1, idle=3, busy=0),
        "fleet: 1 of 3 idle instance(s) satisfy the configuration",
    ),
    (
        FleetMatched(matched=0, idle=0, busy=3),
        "fleet: 0 of 0 idle instance(s) satisfy the configuration "
        "(3 busy instance(s) are never planned on)",
    ),
    (
        ReuseWithoutFleet(),
        "creation_policy: reuse places replicas only on idle fleet instances, and no fleet "
        "inventory was given (--fleet)",
    ),
    (
        ReservationWithoutCapacityFile("cr-1"),
        "reservation 'cr-1': no capacity file (--capacity) states its count and price, so no "
        "reserved capacity is planned",
    ),
    (
        ReservationNotInCapacityFile("cr-1"),
        "reservation 'cr-1': not in the capacity file, so no reserved capacity is planned",
    ),
    (
        ReservationMatchesNoOffer("cr-1", "capacity.csv:4", "aws", "us-east-1", "p4d.24xlarge"),
        "reservation 'cr-1' (capacity.csv:4): aws/us-east-1/p4d.24xlarge matches no offer that "
        "satisfies the configuration, so it is not used",
    ),
    (
        OnDemandFloorAboveReplicas(floor=3, replicas=2),
        "the on-demand floor (3) is above the 2 replica(s) planned: every one of them goes on "
        "never-interrupted capacity",
    ),
    (
        TimeLimitReached(time_limit_seconds=0.5),
        "the time limit (0.5 s) was reached before optimality was proven: the plan is valid but "
        "may not be the cheapest",
    ),
    (
        ScalingNotComputed(replicas_min=1, replicas_max=1000, max_steps=256),
        "the replica range 1..1000 has more than 256 counts: the cost per replica count was not "
        "computed",
    ),
    (
        HedgeReplicas(extra=2, expected_survival=True, wave_domain=None),
        "2 extra replica(s) hedge against interruption (expected survival)",
    ),
    (
        HedgeReplicas(extra=4, expected_survival=True, wave_domain="instance-type"),
        "4 extra replica(s) hedge against interruption (expected survival and surviving one "
        "preemption wave per failure domain, a (backend, region, instance type))",
    ),
    (
        HedgeReplicas(extra=1, expected_survival=False, wave_domain="region"),
        "1 extra replica(s) hedge against interruption (surviving one preemption wave per "
        "failure domain, a (backend, region; a zone counts in its region))",
    ),
    (
        DefaultProtectionDropped("wave_survival", "region", 2, 1, (2, 3)),
        "warning: wave survival, a default, cannot be met: the usable spot offers are in 1 "
        "failure domain(s) (backend, region; a zone counts in its region). At 2, 3 replica(s) the plan is the cheapest that "
        "meets your own constraints, and it does not survive a preemption wave: losing every "
        "spot replica of one failure domain leaves fewer than the target. What would protect "
        "it: spot offers in another failure domain (more regions or backends) or on-demand "
        "replicas (--on-demand-floor); --no-wave-survival plans without it knowingly",
    ),
    (
        DefaultProtectionDropped("failure_domain_spread", "region", 4, 1, (4,)),
        "warning: the default spread (half the spot replicas per failure domain), a default, "
        "cannot be met: the usable spot offers are in 1 failure domain(s) (backend, region; a "
        "zone counts in its region). At 4 replica(s) the plan is the cheapest that meets your own constraints, and one "
        "preemption wave can take more than half of its replicas. What would protect it: spot "
        "offers in another failure domain (more regions or backends) or on-demand replicas "
        "(--on-demand-floor)",
    ),
    (
        SpotWithoutRetry(spot_replicas=5, expected_lost=1.5, hedge_replicas=2),
        "warning: 5 spot replica(s) without retry on interruption: an interrupted replica is not "
        "replaced (about 1.50 interrupted per month at the assumed rates); the plan carries 2 "
        "extra replica(s) for them. Add `retry: {on_events: [interruption]}` to have interrupted "
        "replicas replaced",
    ),
    (
        SpotAssumptions(True, 10.0, 0.3, 3, 4.999796, 4),
        "hedge assumptions: an interrupted spot replica is replaced after 10 min "
        "(--replacement-minutes); 3 replica(s) are on spot pools at the default monthly "
        "interruption rate 0.3 (--interruption-rate, or a --capacity file); expected ready "
        "replicas 4.9998 for a target of 4",
    ),
    (
        SpotAssumptions(False, 10.0, 0.3, 0, 3.5, 3),
        "hedge assumptions: an interrupted spot replica is lost for the rest of the month; "
        "expected ready replicas 3.5000 for a target of 3",
    ),
    (
        RowMatchesNoOffer("capacity", "cap.csv:2", "region", "us-westt-2", "us-west-2"),
        "warning: capacity row cap.csv:2: no offer in the catalog has region 'us-westt-2' (did "
        "you mean 'us-west-2'?); the row changes nothing in this plan",
    ),
    (
        RowMatchesNoOffer("fleet", "fleet.yml:5", "provider", "nosuchcloud", None),
        "warning: fleet row fleet.yml:5: no offer in the catalog has backend 'nosuchcloud'; the "
        "row is matched by its own resources only",
    ),
    (
        ZoneCapacityIncomplete(
            ("cap.csv:2",), "gcp", "europe-west4", "g2-standard-4", ("europe-west4-b",)
        ),
        "warning: capacity row(s) cap.csv:2 name zones of gcp europe-west4 g2-standard-4, an "
        "offer dstack may start in any of its zones; europe-west4-b have no row, so the zone rows "
        "do not limit this offer (give every zone a row, or one row for the region)",
    ),
    (
        GroupSurvivalUnmet(("router",), "one-replica", "region"),
        "warning: replica group(s) router: one replica each, so losing its failure domain, a "
        "(backend, region; a zone counts in its region), takes that group down",
    ),
    (
        GroupSurvivalUnmet(("prefill", "decode"), "infeasible", "region"),
        "warning: replica group(s) prefill, decode cannot keep a replica outside every failure "
        "domain, a (backend, region; a zone counts in its region), with the offers and "
        "constraints given: one domain lost can take them down; the plan keeps the rule for the "
        "other groups",
    ),
    (
        RpsCurveTruncated(max_steps=48, rps_to=480.0),
        "the cost curve over the traffic level stops after 48 steps, at 480 requests per second",
    ),
]


@pytest.mark.parametrize(("note", "words"), WORDS, ids=lambda value: getattr(value, "kind", ""))
def test_each_note_reads_as_its_sentence(note: PlanNote, words: str) -> None:
    assert render_note(note) == words


def test_every_kind_of_note_has_words() -> None:
    assert {type(note) for note, _ in WORDS} == set(PlanNote.__args__)  # type: ignore[attr-defined]


def test_the_outputs_word_the_notes_and_the_plan_keeps_their_values() -> None:
    rows = [
        {"provider": "aws", "region": "a", "instance_type": "g5", "spot": False, "price": 1.0},
    ]
    result = plan_offers(
        offer_frame(rows), service(2), options=PlanOptions(on_demand_floor=3, explain=False)
    )
    note = OnDemandFloorAboveReplicas(floor=3, replicas=2)
    assert result.notes == (note,)
    assert result.to_json()["notes"] == [
        {"kind": "on-demand-floor-above-replicas", "floor": 3, "replicas": 2}
    ]
    words = render_note(note)
    assert json.loads(render_plan_json(result))["notes"] == [words]
    assert render_plan_table(result).endswith(f"Notes:\n{words}")
    assert render_plan_markdown(result).endswith(f"### Notes\n\n- {words}")
