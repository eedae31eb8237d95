"""Build the bundled offer snapshot (catalogs/snapshot/) from the hand-compiled source tables.

    python3 tools/snapshot/build.py            # rewrite catalogs/snapshot/
    python3 tools/snapshot/build.py --out DIR  # write somewhere else (tests compare the bytes)
    python3 tools/snapshot/build.py --check    # exit 1 if the committed files are stale

Writing the default output also writes ``catalogs/snapshot-<digest>.arrow``, the snapshot as
planner loads it (``planner.catalog.prebuilt``), and ``--check`` also checks that one.

The output is gpuhunt's v2 CSV format, one ``<provider>.csv`` per provider, written the way
gpuhunt's collectors write it (csv.DictWriter, CRLF, rows ascending by price with a stable sort),
plus ``provenance.json``. The build is deterministic: same tables, same bytes.

Source tables (next to this file; lines starting with ``#`` are comments):
- list_prices.csv: one row per instance type (and region set) with its reference-region list price.
- regions.csv: the locations of each region set, with regional price and spot factors.
- gcp_n1_machines.csv, gcp_n1_gpus.csv: GCP N1 machines and the GPUs that attach to them.
- vastai_offers.csv: illustrative vast.ai marketplace listings.
- nebius_fabrics.csv: Nebius InfiniBand fabrics (go into provider_data).
- providers.csv: per provider, where the figures come from and as of when.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import math
import sys
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path

from planner.catalog.columns import GPUHUNT_FIELDS

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent
DEFAULT_OUT = REPOSITORY / "catalogs" / "snapshot"

# gpuhunt's storage.CATALOG_V2_FIELDS, in order (the one copy is planner's column contract).
FIELDS = GPUHUNT_FIELDS

# Decimals each provider's collector keeps in prices (aws 4, gcp 6, vastai 5, lambda cents).
PRICE_DECIMALS = {
    "aws": 4,
    "gcp": 6,
    "azure": 4,
    "lambdalabs": 2,
    "runpod": 4,
    "oci": 4,
    "nebius": 4,
    "verda": 4,
    "vastai": 5,
    "cloudrift": 4,
}
OCI_SPOT_RATIO = 0.5  # OCI: "preemptible capacity costs 50% less than on-demand capacity"
OCI_SPOT_FLAG = "oci-spot"
VASTAI_HOURS_PER_MONTH = 30 * 24  # vast.ai storage_cost is $/GB/month; gpuhunt divides by 720
TPU_VERSIONS = ("v2", "v3", "v4", "v5p", "v5litepod", "v6e")


class SourceError(ValueError):
    """A source table is inconsistent; the message names the file and line."""


@dataclass(frozen=True)
class Offer:
    provider: str
    instance_name: str
    location: str
    price: float
    cpu: int
    memory: float
    gpu_count: int
    gpu_name: str
    gpu_memory: float | None
    spot: bool
    disk_size: float | None
    gpu_vendor: str
    flags: tuple[str, ...] = ()
    cpu_arch: str = "x86"
    provider_data: dict[str, object] = field(default_factory=dict)

    def row(self) -> dict[str, str]:
        return {
            "instance_name": self.instance_name,
            "location": self.location,
            "price": str(self.price),
            "cpu": str(self.cpu),
            "memory": str(self.memory),
            "gpu_count": str(self.gpu_count),
            "gpu_name": self.gpu_name,
            "gpu_memory": "" if self.gpu_memory is None else str(self.gpu_memory),
            "spot": str(self.spot),
            "disk_size": "" if self.disk_size is None else str(self.disk_size),
            "gpu_vendor": self.gpu_vendor,
            "flags": " ".join(self.flags),
            "cpu_arch": self.cpu_arch,
            "provider_data": json.dumps(self.provider_data),
        }


@dataclass(frozen=True)
class Location:
    name: str
    price_factor: float
    spot_factor: float


@dataclass(frozen=True)
class Schema:
    """A source table's columns; integer/float columns are checked before anything reads them."""

    columns: tuple[str, ...]
    integers: frozenset[str] = frozenset()
    floats: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()  # may be left empty


SCHEMAS = {
    "regions.csv": Schema(
        ("provider", "region_set", "location", "price_factor", "spot_factor"),
        floats=frozenset({"price_factor", "spot_factor"}),
    ),
    "list_prices.csv": Schema(
        (
            "provider",
            "instance_name",
            "region_set",
            "price",
            "spot_ratio",
            "cpu",
            "memory",
            "gpu_count",
            "gpu_name",
            "gpu_memory",
            "gpu_vendor",
            "disk",
            "cpu_arch",
            "flags",
            "provider_data",
            "scales",
        ),
        integers=frozenset({"cpu", "gpu_count"}),
        floats=frozenset({"price", "spot_ratio", "memory", "gpu_memory", "disk"}),
        optional=frozenset(
            {
                "spot_ratio",
                "gpu_name",
                "gpu_memory",
                "gpu_vendor",
                "disk",
                "cpu_arch",
                "flags",
                "provider_data",
                "scales",
            }
        ),
    ),
    "gcp_n1_machines.csv": Schema(
        ("instance_name", "cpu", "memory", "price", "spot_ratio"),
        integers=frozenset({"cpu"}),
        floats=frozenset({"memory", "price", "spot_ratio"}),
    ),
    "gcp_n1_gpus.csv": Schema(
        ("gpu_name", "gpu_memory", "price_per_gpu", "spot_ratio", "region_set", "limits"),
        floats=frozenset({"gpu_memory", "price_per_gpu", "spot_ratio"}),
    ),
    "vastai_offers.csv": Schema(
        (
            "id",
            "location",
            "gpu_name",
            "gpu_count",
            "gpu_memory",
            "cpu",
            "memory",
            "disk",
            "dph_base",
            "storage_cost",
            "min_bid",
        ),
        integers=frozenset({"gpu_count", "cpu"}),
        floats=frozenset({"gpu_memory", "memory", "disk", "dph_base", "storage_cost", "min_bid"}),
        optional=frozenset({"min_bid"}),
    ),
    "nebius_fabrics.csv": Schema(("platform", "region", "fabric")),
    "providers.csv": Schema(("provider", "as_of", "source")),
}


def read_table(tables: Path, name: str) -> Iterator[tuple[int, dict[str, str]]]:
    """Rows of a source table with their line numbers, comment lines skipped, values checked."""
    schema = SCHEMAS[name]
    path = tables / name
    if not path.is_file():
        raise SourceError(f"{path}: source table not found")
    with path.open(newline="") as f:
        lines = list(f)
    header = lines[0] if lines else ""
    found = next(csv.reader([header]), [])
    if tuple(found) != schema.columns:
        raise SourceError(f"{name}:1: the header must be {','.join(schema.columns)}")
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip() or line.startswith("#"):
            continue
        row = next(csv.DictReader(io.StringIO(header + line)))
        if None in row or any(value is None for value in row.values()):
            raise SourceError(f"{name}:{number}: expected {len(schema.columns)} fields")
        for column, value in row.items():
            check_value(schema, column, value, f"{name}:{number}")
        yield number, row


def check_value(schema: Schema, column: str, value: str, where: str) -> None:
    if not value:
        if column not in schema.optional:
            raise SourceError(f"{where}: {column} is empty")
        return
    try:
        if column in schema.integers:
            int(value)
        elif column in schema.floats and not math.isfinite(float(value)):
            raise ValueError
    except ValueError:
        kind = "an integer" if column in schema.integers else "a number"
        raise SourceError(f"{where}: {column} {value!r} is not {kind}") from None


def integers(text: str, where: str, separator: str | None = None) -> list[int]:
    try:
        return [int(part) for part in text.split(separator)]
    except ValueError:
        raise SourceError(f"{where}: {text!r} is not a list of integers") from None


def optional_float(text: str) -> float | None:
    return float(text) if text else None


def load_regions(tables: Path) -> dict[tuple[str, str], list[Location]]:
    regions: dict[tuple[str, str], list[Location]] = defaultdict(list)
    for number, row in read_table(tables, "regions.csv"):
        location = Location(row["location"], float(row["price_factor"]), float(row["spot_factor"]))
        if location.price_factor <= 0 or location.spot_factor <= 0:
            raise SourceError(f"regions.csv:{number}: factors must be positive")
        regions[row["provider"], row["region_set"]].append(location)
    return regions


def load_fabrics(tables: Path) -> dict[tuple[str, str], list[str]]:
    fabrics: dict[tuple[str, str], list[str]] = defaultdict(list)
    for _, row in read_table(tables, "nebius_fabrics.csv"):
        fabrics[row["platform"], row["region"]].append(row["fabric"])
    return fabrics


def priced(provider: str, value: float) -> float:
    return round(value, PRICE_DECIMALS[provider])


def spot_twin(offer: Offer, price: float, where: str, *, flat_rate: bool = False) -> Offer:
    """The spot copy of an on-demand offer: cheaper, or the same price when billed at a flat rate."""
    if flat_rate and price != offer.price:
        raise SourceError(f"{where}: a flat-rate spot price must equal on-demand {offer.price}")
    if not flat_rate and price >= offer.price:
        raise SourceError(f"{where}: spot price {price} not below on-demand {offer.price}")
    return replace(offer, spot=True, price=price)


def list_price_offers(
    tables: Path,
    regions: dict[tuple[str, str], list[Location]],
    fabrics: dict[tuple[str, str], list[str]],
) -> Iterator[Offer]:
    for number, row in read_table(tables, "list_prices.csv"):
        where = f"list_prices.csv:{number}"
        provider = row["provider"]
        if provider not in PRICE_DECIMALS:
            raise SourceError(f"{where}: unknown provider {provider!r}")
        locations = regions.get((provider, row["region_set"]))
        if not locations:
            raise SourceError(f"{where}: unknown region set {row['region_set']!r}")
        spot_ratio = optional_float(row["spot_ratio"])
        if provider == "oci" and spot_ratio not in (None, OCI_SPOT_RATIO):
            raise SourceError(f"{where}: OCI preemptible is always {OCI_SPOT_RATIO}x")
        if spot_ratio is not None and not 0 < spot_ratio <= 1:
            raise SourceError(f"{where}: spot_ratio must be in (0, 1]")
        if spot_ratio == 1 and provider != "nebius":
            raise SourceError(f"{where}: only Nebius bills some preemptible GPUs at a flat rate")
        scales = integers(row["scales"], where) or [1]
        for scale in scales:
            unit = scaled_offer(row, scale, where)
            for location in locations:
                on_demand = replace(
                    unit,
                    location=location.name,
                    price=priced(provider, unit.price * location.price_factor),
                )
                if provider == "nebius":
                    on_demand = with_nebius_data(on_demand, fabrics, flat_rate=False)
                elif provider == "gcp":
                    on_demand = with_gcp_data(on_demand)
                yield on_demand
                if spot_ratio is None:
                    continue
                if provider == "oci":
                    # Halving is exact in binary floating point: no rounding, exactly 0.5x.
                    spot = spot_twin(on_demand, on_demand.price * OCI_SPOT_RATIO, where)
                    yield replace(spot, flags=(*spot.flags, OCI_SPOT_FLAG))
                    continue
                ratio = spot_ratio * location.spot_factor
                if spot_ratio < 1 and ratio >= 1:
                    raise SourceError(f"{where}: spot ratio x factor >= 1 in {location.name}")
                # spot_ratio 1: preemptible billed at the on-demand ("flat") rate.
                flat_rate = spot_ratio == 1
                spot_price = (
                    on_demand.price if flat_rate else priced(provider, on_demand.price * ratio)
                )
                spot = spot_twin(on_demand, spot_price, where, flat_rate=flat_rate)
                if provider == "nebius":
                    spot = with_nebius_data(spot, fabrics, flat_rate=flat_rate)
                yield spot


def scaled_offer(row: dict[str, str], scale: int, where: str) -> Offer:
    """The offer of one table row at one scale, before a location is chosen."""
    gpu_count = int(row["gpu_count"]) * scale
    cpu = int(row["cpu"]) * scale
    memory = float(row["memory"]) * scale
    disk = optional_float(row["disk"])
    name_values = {"cpu": cpu, "memory": int(memory), "gpu_count": gpu_count}
    try:
        instance_name = row["instance_name"].format(**name_values)
    except (KeyError, IndexError, ValueError):
        raise SourceError(
            f"{where}: an instance name may only use the placeholders {{cpu}}, {{memory}}, "
            "{gpu_count}"
        ) from None
    try:
        provider_data = json.loads(row["provider_data"] or "{}")
    except ValueError as error:
        raise SourceError(f"{where}: provider_data is not JSON: {error}") from None
    if not isinstance(provider_data, dict):
        raise SourceError(f"{where}: provider_data must be a JSON object")
    offer = Offer(
        provider=row["provider"],
        instance_name=instance_name,
        location="",
        price=float(row["price"]) * scale,
        cpu=cpu,
        memory=memory,
        gpu_count=gpu_count,
        gpu_name=row["gpu_name"],
        gpu_memory=optional_float(row["gpu_memory"]),
        spot=False,
        disk_size=None if disk is None else disk * scale,
        gpu_vendor=row["gpu_vendor"],
        flags=tuple(row["flags"].split()),
        cpu_arch=row["cpu_arch"] or "x86",
        provider_data=provider_data,
    )
    check_offer(offer, where)
    return offer


def check_offer(offer: Offer, where: str) -> None:
    if offer.price <= 0 or offer.cpu <= 0 or offer.memory <= 0:
        raise SourceError(f"{where}: price, cpu and memory must be positive")
    has_gpu_fields = bool(offer.gpu_name or offer.gpu_vendor or offer.gpu_memory)
    if offer.gpu_count == 0 and has_gpu_fields:
        raise SourceError(f"{where}: a CPU-only row has GPU fields")
    if offer.gpu_count > 0 and not (offer.gpu_name and offer.gpu_vendor and offer.gpu_memory):
        raise SourceError(f"{where}: a GPU row needs gpu_name, gpu_vendor and gpu_memory")
    if offer.gpu_vendor == "google":
        version, _, cores = offer.gpu_name.rpartition("-")
        if version not in TPU_VERSIONS or not cores.isdigit() or offer.gpu_count != 1:
            raise SourceError(f"{where}: a TPU row is one '<version>-<cores>' slice")
        if offer.instance_name != offer.gpu_name:
            raise SourceError(f"{where}: a TPU's instance name is its slice name")
    if offer.cpu_arch not in ("x86", "arm"):
        raise SourceError(f"{where}: cpu_arch must be x86 or arm")


def with_gcp_data(offer: Offer) -> Offer:
    # gpuhunt's GCP collector marks every VM offer; TPU offers carry no provider data.
    if offer.gpu_vendor == "google":
        return offer
    return replace(offer, provider_data={"is_dws_calendar_mode": False})


def with_nebius_data(
    offer: Offer, fabrics: dict[tuple[str, str], list[str]], *, flat_rate: bool
) -> Offer:
    platform = offer.instance_name.split(" ", 1)[0]
    clustered = offer.gpu_count == 8  # only the 8-GPU presets allow GPU clustering
    data: dict[str, object] = {
        "fabrics": list(fabrics.get((platform, offer.location), [])) if clustered else [],
        "is_preemptible_flat_rate": flat_rate,
    }
    return replace(offer, provider_data=data)


def gcp_n1_offers(tables: Path, regions: dict[tuple[str, str], list[Location]]) -> Iterator[Offer]:
    """N1 machines with attached T4/V100 GPUs, within GCP's per-count vCPU/memory limits."""
    machines = list(read_table(tables, "gcp_n1_machines.csv"))
    for number, gpu in read_table(tables, "gcp_n1_gpus.csv"):
        where = f"gcp_n1_gpus.csv:{number}"
        locations = regions.get(("gcp", gpu["region_set"]))
        if not locations:
            raise SourceError(f"{where}: unknown region set {gpu['region_set']!r}")
        for limit in gpu["limits"].split():
            parts = integers(limit, where, ":")
            if len(parts) != 3:
                raise SourceError(f"{where}: a limit is <count>:<max vCPUs>:<max memory GB>")
            count, max_cpu, max_memory = parts
            for _, machine in machines:
                cpu, memory = int(machine["cpu"]), float(machine["memory"])
                if cpu > max_cpu or memory > max_memory:
                    continue
                machine_price = float(machine["price"])
                gpus_price = count * float(gpu["price_per_gpu"])
                spot_price = machine_price * float(machine["spot_ratio"]) + gpus_price * float(
                    gpu["spot_ratio"]
                )
                for location in locations:
                    factor = location.price_factor
                    on_demand = Offer(
                        provider="gcp",
                        instance_name=machine["instance_name"],
                        location=location.name,
                        price=priced("gcp", (machine_price + gpus_price) * factor),
                        cpu=cpu,
                        memory=memory,
                        gpu_count=count,
                        gpu_name=gpu["gpu_name"],
                        gpu_memory=float(gpu["gpu_memory"]),
                        spot=False,
                        disk_size=None,
                        gpu_vendor="nvidia",
                        provider_data={"is_dws_calendar_mode": False},
                    )
                    check_offer(on_demand, where)
                    yield on_demand
                    spot = priced("gcp", spot_price * factor * location.spot_factor)
                    yield spot_twin(on_demand, spot, where)


def vastai_offers(tables: Path) -> Iterator[Offer]:
    """Marketplace listings, priced as gpuhunt's vast.ai provider prices them (disk included)."""
    for number, row in read_table(tables, "vastai_offers.csv"):
        where = f"vastai_offers.csv:{number}"
        disk = float(row["disk"])
        disk_cost = disk * float(row["storage_cost"]) / VASTAI_HOURS_PER_MONTH
        on_demand = Offer(
            provider="vastai",
            instance_name=row["id"],
            location=row["location"],
            price=priced("vastai", float(row["dph_base"]) + disk_cost),
            cpu=int(row["cpu"]),
            memory=float(row["memory"]),
            gpu_count=int(row["gpu_count"]),
            gpu_name=row["gpu_name"],
            gpu_memory=float(row["gpu_memory"]),
            spot=False,
            disk_size=disk,
            gpu_vendor="nvidia",  # gpuhunt's vast.ai provider only knows NVIDIA hosts
        )
        check_offer(on_demand, where)
        yield on_demand
        if row["min_bid"]:
            min_bid = float(row["min_bid"])
            spot = spot_twin(on_demand, priced("vastai", min_bid + disk_cost), where)
            yield replace(spot, provider_data={"min_bid": min_bid})


def build_offers(tables: Path) -> dict[str, list[Offer]]:
    regions = load_regions(tables)
    fabrics = load_fabrics(tables)
    by_provider: dict[str, list[Offer]] = defaultdict(list)
    for offer in (
        *list_price_offers(tables, regions, fabrics),
        *gcp_n1_offers(tables, regions),
        *vastai_offers(tables),
    ):
        by_provider[offer.provider].append(offer)
    # Collectors publish sorted(offers, key=price): a stable sort, so ties keep table order.
    return {p: sorted(offers, key=lambda o: o.price) for p, offers in sorted(by_provider.items())}


def render_csv(offers: list[Offer]) -> bytes:
    buffer = io.StringIO(newline="")
    writer = csv.DictWriter(buffer, fieldnames=FIELDS)
    writer.writeheader()
    for offer in offers:
        writer.writerow(offer.row())
    return buffer.getvalue().encode("utf-8")


def render_provenance(tables: Path, offers: dict[str, list[Offer]]) -> bytes:
    sources = {row["provider"]: row for _, row in read_table(tables, "providers.csv")}
    missing = sorted(set(offers) ^ set(sources))
    if missing:
        raise SourceError(f"providers.csv and the offer tables disagree on providers: {missing}")
    providers = {
        name: {
            "as_of": sources[name]["as_of"],
            "source": sources[name]["source"],
            "rows": len(rows),
            "spot_rows": sum(offer.spot for offer in rows),
            "instance_types": len({offer.instance_name for offer in rows}),
            "locations": len({offer.location for offer in rows}),
        }
        for name, rows in offers.items()
    }
    document = {
        # The snapshot is as old as its oldest provider figures.
        "as_of": min(entry["as_of"] for entry in sources.values()),
        "description": (
            "Bundled offer snapshot in gpuhunt's v2 CSV format, compiled by hand from the "
            "providers' public list prices (see catalogs/README.md). Approximate: refresh "
            "with `planner catalog update`."
        ),
        "providers": providers,
    }
    return (json.dumps(document, indent=2) + "\n").encode("utf-8")


def render_all(tables: Path = HERE) -> dict[str, bytes]:
    offers = build_offers(tables)
    files = {f"{provider}.csv": render_csv(rows) for provider, rows in offers.items()}
    files["provenance.json"] = render_provenance(tables, offers)
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")
    parser.add_argument("--tables", type=Path, default=HERE, help="source tables directory")
    parser.add_argument("--check", action="store_true", help="only compare with --out")
    args = parser.parse_args(argv)
    try:
        files = render_all(args.tables)
    except (SourceError, OSError, ValueError, KeyError) as error:
        print(f"build.py: {error}", file=sys.stderr)
        return 2
    out: Path = args.out
    # The committed snapshot also ships loaded, as an Arrow table next to it (planner.catalog.prebuilt).
    prebuilt = out.resolve() == DEFAULT_OUT.resolve()
    if args.check:
        stale = [name for name, data in files.items() if _read(out / name) != data]
        for name in stale:
            print(f"stale: {out / name}", file=sys.stderr)
        if prebuilt and not stale:
            from planner.catalog.prebuilt import prebuilt_problem

            problem = prebuilt_problem(out)
            if problem:
                print(f"stale: {problem}", file=sys.stderr)
                return 1
        return 1 if stale else 0
    out.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (out / name).write_bytes(data)
    rows = sum(data.count(b"\r\n") - 1 for name, data in files.items() if name.endswith(".csv"))
    print(f"wrote {len(files)} files, {rows} offers, to {out}")
    if prebuilt:
        from planner.catalog.prebuilt import write_prebuilt

        print(f"wrote {write_prebuilt(out)} (the snapshot as loaded, for a fast start-up)")
    return 0


def _read(path: Path) -> bytes | None:
    return path.read_bytes() if path.is_file() else None


if __name__ == "__main__":
    sys.exit(main())
