"""`planner catalog import -o PATH` writes only a new path or a regular file (a real directory for
--to gpuhunt-dir), atomically; a symbolic link, FIFO, device or socket is refused with exit 2 and
left as it was (issue 8, item 4)."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from v3_server import gpuhunt_csv, sample_rows

from planner.catalog import Catalog
from planner.catalog.export import export_catalog
from planner.errors import InputError

RunCli = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def source(tmp_path: Path) -> Path:
    path = tmp_path / "aws.csv"
    path.write_bytes(gpuhunt_csv(sample_rows("aws")))
    return path


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _symlink_to_file(path: Path) -> None:
    target = path.with_name("target.bin")
    target.write_bytes(b"keep me")
    path.symlink_to(target)


def _dangling_symlink(path: Path) -> None:
    path.symlink_to(path.with_name("nowhere"))


def _device(path: Path) -> None:
    try:
        os.mknod(path, stat.S_IFCHR | 0o600, os.makedev(1, 3))  # the null device's numbers
    except PermissionError:
        pytest.skip("creating a device node needs privileges")


@pytest.fixture
def unix_socket(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    sockets: list[socket.socket] = []

    def make(path: Path) -> None:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        sockets.append(server)

    yield make
    for server in sockets:
        server.close()


MAKERS: dict[str, Callable[[Path], None]] = {
    "a FIFO": _fifo,
    "a symbolic link": _symlink_to_file,
    "a dangling symbolic link": _dangling_symlink,
    "a character device": _device,
}


def _snapshot(path: Path) -> tuple[int, str | None]:
    info = os.lstat(path)
    return stat.S_IFMT(info.st_mode), os.readlink(path) if path.is_symlink() else None


@pytest.mark.parametrize("kind", list(MAKERS))
@pytest.mark.parametrize("name", ["out.zip", "out.arrow"])
def test_import_refuses_to_replace_what_is_not_a_regular_file(
    kind: str, name: str, source: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    output = tmp_path / name
    MAKERS[kind](output)
    before = _snapshot(output)

    result = run_cli("catalog", "import", str(source), "-o", str(output), timeout=60)

    assert result.returncode == 2, result.stdout + result.stderr
    assert "refusing to replace it with a regular file" in result.stderr
    assert "Traceback" not in result.stderr
    assert _snapshot(output) == before
    if kind == "a symbolic link":
        assert (tmp_path / "target.bin").read_bytes() == b"keep me"


def test_a_socket_is_refused(
    source: Path, tmp_path: Path, unix_socket: Callable[[Path], None]
) -> None:
    output = tmp_path / "out.zip"
    unix_socket(output)
    with pytest.raises(InputError, match="is a socket; refusing"):
        export_catalog(Catalog.load(source), output, "gpuhunt-zip")
    assert stat.S_ISSOCK(os.lstat(output).st_mode)


def test_a_symlink_to_a_directory_is_not_a_directory(
    source: Path, tmp_path: Path, run_cli: RunCli
) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (tmp_path / "out").symlink_to(real)

    result = run_cli("catalog", "import", str(source), "-o", str(tmp_path / "out"), timeout=60)

    assert result.returncode == 2 and "is a symbolic link, not a directory" in result.stderr
    assert list(real.iterdir()) == []


@pytest.mark.parametrize("kind", ["a FIFO", "a symbolic link"])
def test_a_file_in_the_output_directory_that_is_not_regular(
    kind: str, source: Path, tmp_path: Path
) -> None:
    directory = tmp_path / "out"
    directory.mkdir()
    MAKERS[kind](directory / "aws.csv")
    before = _snapshot(directory / "aws.csv")

    with pytest.raises(InputError, match=r"aws\.csv: is .*refusing to replace it"):
        export_catalog(Catalog.load(source), directory, "gpuhunt-dir")

    assert _snapshot(directory / "aws.csv") == before
    assert (
        sorted(p.name for p in directory.iterdir())
        == ["aws.csv", "target.bin"][: 1 + (kind == "a symbolic link")]
    )


@pytest.mark.parametrize(("name", "to"), [("out.zip", "gpuhunt-zip"), ("out.arrow", "arrow")])
def test_a_regular_file_is_replaced_atomically(
    name: str, to: str, source: Path, tmp_path: Path
) -> None:
    output = tmp_path / name
    output.write_bytes(b"old")
    old_inode = output.stat().st_ino
    export_catalog(Catalog.load(source), output, to)

    assert output.stat().st_ino != old_inode  # a new file renamed over the old one
    assert len(Catalog.load(output)) == 5
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
