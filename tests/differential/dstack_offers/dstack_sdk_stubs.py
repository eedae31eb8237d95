"""Import dstack 0.22.5 backend modules whose cloud SDKs are not installed, with the SDKs stubbed.

dstack's GCP, Azure, OCI, Nebius and Verda backends import their cloud SDKs (``google.cloud``,
``azure``, ``oci``, ``nebius``, ``verda``) at module level; the test extras do not install them. The
offer code of those backends never needs the SDKs once their clients are replaced, so the modules
are imported here unchanged, with a temporary import hook that answers every import of a missing SDK
module with a placeholder: any attribute of a placeholder is another placeholder class, and calling
a placeholder class returns a ``SimpleNamespace`` of the keyword arguments (so request objects the
offer code builds, such as OCI's capacity report details, reach the stubbed client readable).

The hook is installed only while the modules are imported. Afterwards the placeholders and the
dstack backend packages that needed them are removed from ``sys.modules`` again: nothing else in
the test process sees a stubbed SDK, and the returned module objects stay usable.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
import types
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

# Top-level packages (or sub-packages of an installed namespace) the backends import at module level.
SDK_PREFIXES: tuple[str, ...] = (
    "google.cloud",
    "google.api_core",
    "google.auth",
    "google.oauth2",
    "azure",
    "oci",
    "nebius",
    "verda",
)

_IMPORT_LOCK = threading.Lock()


class _PlaceholderMeta(type):
    def __getattr__(cls, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        return placeholder(f"{cls.__name__}.{name}")

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        if cls.__dict__.get("_placeholder", False):
            return types.SimpleNamespace(_placeholder=cls.__name__, _args=args, **kwargs)
        return super().__call__(*args, **kwargs)

    def __getitem__(cls, item: Any) -> Any:  # generic SDK types: Foo[Bar]
        return cls

    def __instancecheck__(cls, instance: Any) -> bool:
        return type.__instancecheck__(cls, instance)


def placeholder(name: str) -> type:
    """A placeholder class standing for the SDK object ``name``."""
    return _PlaceholderMeta(name, (), {"_placeholder": True, "__module__": "dstack_sdk_stubs"})


class _PlaceholderModule(types.ModuleType):
    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and name.endswith("__"):
            raise AttributeError(name)
        value = placeholder(f"{self.__name__}.{name}")
        setattr(self, name, value)
        return value


def _is_stubbed(fullname: str, prefixes: Sequence[str]) -> bool:
    return any(fullname == p or fullname.startswith(p + ".") for p in prefixes)


class _PlaceholderFinder(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, prefixes: Sequence[str]) -> None:
        self.prefixes = tuple(prefixes)

    def find_spec(self, fullname: str, path: Any = None, target: Any = None) -> Any:
        if not _is_stubbed(fullname, self.prefixes):
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=True)

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> types.ModuleType:
        module = _PlaceholderModule(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module: types.ModuleType) -> None:
        return None


def _missing(prefixes: Sequence[str]) -> list[str]:
    missing = []
    for prefix in prefixes:
        try:
            found = importlib.util.find_spec(prefix) is not None
        except (ImportError, ValueError):
            found = False
        if not found:
            missing.append(prefix)
    return missing


@contextmanager
def _stubbed_sdks(prefixes: Sequence[str]) -> Iterator[list[str]]:
    finder = _PlaceholderFinder(prefixes)
    sys.meta_path.insert(0, finder)
    try:
        yield list(prefixes)
    finally:
        sys.meta_path.remove(finder)


def import_with_stubbed_sdks(
    module_names: Sequence[str], private_packages: Sequence[str]
) -> dict[str, types.ModuleType]:
    """Import ``module_names`` with the missing SDKs stubbed; returns them by name.

    ``private_packages``: the dstack packages whose modules depend on a stubbed SDK; their modules
    imported here are taken out of ``sys.modules`` afterwards, with the placeholders.
    """
    with _IMPORT_LOCK:
        before = set(sys.modules)
        missing = _missing(SDK_PREFIXES)
        loaded: dict[str, types.ModuleType] = {}
        try:
            with _stubbed_sdks(missing):
                for name in module_names:
                    loaded[name] = importlib.import_module(name)
        finally:
            for name in sorted(set(sys.modules) - before, key=len, reverse=True):
                if _is_stubbed(name, missing) or _is_stubbed(name, private_packages):
                    module = sys.modules.pop(name)
                    parent_name, _, child = name.rpartition(".")
                    parent = sys.modules.get(parent_name)
                    if parent is not None and getattr(parent, child, None) is module:
                        delattr(parent, child)
        return loaded
