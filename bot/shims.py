"""Import jieba and cn2an without setuptools' `pkg_resources` (~12 MB resident, ~0.3 s).

Both libraries only use it to open a data file beside their code (`resource_stream`). While
they are imported, a stand-in module holding just that function answers `import
pkg_resources`; it is taken out of `sys.modules` afterwards, so anything that imports
`pkg_resources` later gets the real one.

cn2an also imports all of `proces` for its one `preprocess` function; the package's
`__init__` compiles a pattern of every Chinese city for address masking (~3 MB resident,
~20 ms). `import_cn2an` gives it a stand-in package holding just that function, loaded
from proces' own `preprocess` module.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
import threading
import types
from pathlib import Path
from typing import IO

_lock = threading.Lock()


def resource_stream(module: str, resource: str) -> IO[bytes]:
    """pkg_resources.resource_stream for a module imported from a folder: the file
    `resource` beside the module's file (a package's: in the package)."""
    origin = sys.modules[module].__file__
    assert origin is not None, module
    return open(Path(origin).parent / resource, "rb")  # the caller closes it


def import_light(name: str) -> types.ModuleType:
    """`import name`, with the stand-in `pkg_resources` unless the real one is loaded."""
    if name in sys.modules or "pkg_resources" in sys.modules:
        return importlib.import_module(name)
    stand_in = types.ModuleType("pkg_resources", __doc__)
    stand_in.resource_stream = resource_stream  # type: ignore[attr-defined]
    with _lock:
        sys.modules.setdefault("pkg_resources", stand_in)
        try:
            return importlib.import_module(name)
        finally:
            if sys.modules.get("pkg_resources") is stand_in:
                del sys.modules["pkg_resources"]


def import_cn2an() -> types.ModuleType:
    """`import cn2an` without pkg_resources, and with proces' `preprocess` alone."""
    if "cn2an" in sys.modules or "proces" in sys.modules:
        return import_light("cn2an")
    spec = importlib.util.find_spec("proces")
    assert spec is not None and spec.submodule_search_locations is not None
    stand_in = types.ModuleType("proces", "proces' preprocess alone (bot/shims.py)")
    stand_in.__path__ = list(spec.submodule_search_locations)
    with _lock:
        sys.modules.setdefault("proces", stand_in)
        try:
            # Its submodule, from the real package folder: the same function cn2an calls.
            stand_in.preprocess = importlib.import_module(  # type: ignore[attr-defined]
                "proces.preprocess").preprocess
        except BaseException:
            del sys.modules["proces"]
            raise
    try:
        return import_light("cn2an")
    finally:
        # A later `import proces` gets the real package (reusing proces.preprocess).
        if sys.modules.get("proces") is stand_in:
            del sys.modules["proces"]
