"""A damaged or tampered Arrow catalog (the cache, a ``write_table`` file) is refused, not planned
with (issue 8, item 5): the rows read back must pass the rules the loaders apply to a CSV, in
price order, with ``row_id`` their position."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.ipc as pa_ipc
import pytest
from v3_server import CatalogServer, gpuhunt_csv, sample_rows

from planner.catalog import Catalog, read_table, write_table
from planner.catalog.cache import sha256_of
from planner.catalog.download import cached_catalog_path, update_catalog
from planner.errors import CatalogError

REPO = Path(__file__).resolve().parents[2]
SERVICE = REPO / "examples" / "cpu-only.yml"
Change = Callable[[pa.Table], pa.Table]
RunCli = Callable[..., subprocess.CompletedProcess[str]]


def _arrow_of(tmp_path: Path) -> Path:
    source = tmp_path / "aws.csv"
    source.write_bytes(gpuhunt_csv(sample_rows("aws")))
    return write_table(Catalog.load(source), tmp_path / "aws.arrow")


def _read(path: Path) -> pa.Table:
    with pa.OSFile(str(path), "rb") as handle:  # read into memory: the file is rewritten
        return pa_ipc.open_file(handle).read_all()


def _write(table: pa.Table, path: Path) -> Path:
    """Write ``table`` as it is (schema metadata kept), bypassing write_table's checks."""
    with pa_ipc.new_file(str(path), table.schema) as writer:
        writer.write_table(table)
    return path


def _numbers(name: str, change: Callable[[np.ndarray], None]) -> Change:
    def apply(table: pa.Table) -> pa.Table:
        values = table.column(name).to_numpy().copy()
        change(values)
        index = table.schema.get_field_index(name)
        return table.set_column(index, table.schema.field(name), pa.array(values))

    return apply


def _strings(name: str, dictionary: list[str | None]) -> Change:
    """The column's codes kept, its dictionary replaced (same length)."""

    def apply(table: pa.Table) -> pa.Table:
        chunk = table.column(name).chunk(0)
        assert len(dictionary) == len(chunk.dictionary)
        column = pa.DictionaryArray.from_arrays(
            chunk.indices, pa.array(dictionary, type=chunk.dictionary.type)
        )
        index = table.schema.get_field_index(name)
        return table.set_column(index, table.schema.field(name), column)

    return apply


def _null(name: str, index: int) -> Change:
    """A null (with a valid-looking number in its slot) where the column must hold a number."""

    def apply(table: pa.Table) -> pa.Table:
        values = table.column(name).to_numpy().copy()
        mask = np.zeros(len(values), dtype=bool)
        mask[index] = True
        column = pa.array(values, mask=mask)
        position = table.schema.get_field_index(name)
        return table.set_column(position, table.schema.field(name), column)

    return apply


def _set(index: int, value: float) -> Callable[[np.ndarray], None]:
    def change(values: np.ndarray) -> None:
        values[index] = value

    return change


def _reverse(values: np.ndarray) -> None:
    values[:] = values[::-1].copy()


def _swap_first_two(values: np.ndarray) -> None:
    values[[0, 1]] = values[[1, 0]]


# sample_rows("aws") by price: 0.05 spot, 0.1, 0.8 (L4), 12.5 spot, 30 (H100).
TAMPERS: dict[str, tuple[Change, str]] = {
    "NaN price": (_numbers("price", _set(1, float("nan"))), "price is not finite"),
    "infinite price": (_numbers("price", _set(4, float("inf"))), "price is not finite"),
    "null price": (_null("price", 1), "price is not finite"),
    "null memory": (_null("memory_gb", 2), "memory_gb is not finite"),
    "negative price": (_numbers("price", _set(0, -1.0)), "price is negative"),
    "unsorted prices": (_numbers("price", _reverse), "not in ascending price order"),
    "negative memory": (_numbers("memory_gb", _set(2, -32.0)), "memory_gb is negative"),
    "NaN memory": (_numbers("memory_gb", _set(2, float("nan"))), "memory_gb is not finite"),
    "infinite GPU memory": (
        _numbers("gpu_memory_gb", _set(2, float("inf"))),
        "gpu_memory_gb is not finite",
    ),
    "negative disk": (_numbers("disk_gb", _set(3, -1.0)), "disk_gb is negative"),
    "negative cpu": (_numbers("cpu", _set(1, -8)), "cpu is negative"),
    "negative gpu count": (_numbers("gpu_count", _set(4, -8)), "gpu_count is negative"),
    # Beyond the loaders' maxima (catalog/row_rules.py): refused in a cache as in a CSV.
    "absurd price": (_numbers("price", _set(4, 1e7)), "price is too large"),
    "absurd memory": (_numbers("memory_gb", _set(2, 1.7e308)), "memory_gb is too large"),
    "absurd GPU memory": (_numbers("gpu_memory_gb", _set(2, 1e6)), "gpu_memory_gb is too large"),
    "shuffled row ids": (_numbers("row_id", _swap_first_two), "row_id is not each row's position"),
    "unknown vendor": (_strings("gpu_vendor", ["evil"]), "gpu_vendor holds unknown value"),
    "unknown arch": (_strings("cpu_arch", ["sparc"]), "cpu_arch holds unknown value"),
    "empty instance type": (
        _strings("instance_type", ["", "aws-l4", "aws-h100x8"]),
        "instance_type is empty",
    ),
}


@pytest.mark.parametrize("tamper", list(TAMPERS))
def test_a_tampered_arrow_file_is_refused(tamper: str, tmp_path: Path) -> None:
    change, reason = TAMPERS[tamper]
    tampered = _write(change(_read(_arrow_of(tmp_path))), tmp_path / "tampered.arrow")

    with pytest.raises(CatalogError, match="a damaged planner catalog cache") as raised:
        read_table(tampered)

    assert reason in str(raised.value)


def test_an_intact_file_still_reads(tmp_path: Path) -> None:
    path = _arrow_of(tmp_path)
    assert read_table(_write(_read(path), tmp_path / "copy.arrow")).frame.equals(
        read_table(path).frame
    )


def _tampered_cache(server: CatalogServer, cache: Path, change: Change) -> None:
    """A cache whose combined table was changed, with the manifest changed to match it (all an
    attacker with write access to the cache can do): only reading the rows can notice."""
    server.publish("aws", "20260101-1")
    update_catalog(server.base_url, ["aws"], cache, timeout=5).raise_for_failures()
    table = cached_catalog_path(cache)
    _write(change(_read(table)), table)
    manifest_path = cache / "catalogs" / "current.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["table_bytes"] = table.stat().st_size
    manifest["table_sha256"] = sha256_of(table)
    manifest_path.write_text(json.dumps(manifest))


@pytest.mark.parametrize("tamper", ["NaN price", "negative price", "unsorted prices"])
def test_offers_refuse_a_tampered_cache(
    tamper: str,
    catalog_http_server: CatalogServer,
    tmp_path: Path,
    run_cli: RunCli,
) -> None:
    cache = tmp_path / "cache"
    change, reason = TAMPERS[tamper]
    _tampered_cache(catalog_http_server, cache, change)

    result = run_cli(
        "offers", str(SERVICE), "--catalog", "cache", env={"PLANNER_CACHE_DIR": str(cache)}
    )

    assert result.returncode == 2, result.stdout
    assert "$nan" not in result.stdout and "-$" not in result.stdout
    assert "a damaged planner catalog cache" in result.stderr
    assert reason in result.stderr and "Traceback" not in result.stderr


def test_offers_refuse_a_tampered_arrow_file(tmp_path: Path, run_cli: RunCli) -> None:
    change, _ = TAMPERS["NaN price"]
    tampered = _write(change(_read(_arrow_of(tmp_path))), tmp_path / "tampered.arrow")

    result = run_cli("offers", str(SERVICE), "--catalog", str(tampered))

    assert result.returncode == 2, result.stdout
    assert "$nan" not in result.stdout
    assert "price is not finite" in result.stderr
