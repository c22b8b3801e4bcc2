"""Test-session speed-up of CKAN's plugin loading, which tests repeat several
times per test (``with_plugins``, every app they make), by answering two
questions once instead of every time, with the same answers:

- where a plugin lives: CKAN's toolkit (``add_template_directory``,
  ``add_public_directory``, ``add_resource``) asks ``inspect.stack()``,
  which reads the source lines of every frame on pytest's deep stacks;
  the toolkit reads only ``.filename``, so its calls get the frames without
  source lines;
- which class a plugin name stands for: CKAN reads every installed
  package's entry points for each plugin it loads; the installed packages do
  not change during the session, so each (group, name) is looked up once;
- what a YAML file says: scheming's schemas and presets, the config
  declarations and the asset bundles are parsed again on every load; a file
  unchanged since (same path, size and modification time) is parsed once,
  and each caller gets its own copy.

Together they took about a third of the suite's time. Owns: those three
answers in the test process. Must not touch: any other caller of
``inspect.stack`` or of entry points, or any YAML that is not a file read
from its start.
"""
from __future__ import annotations

import copy
import functools
import inspect
import os
import sys
from importlib.metadata import entry_points
from typing import Any

import yaml

_stack = inspect.stack
_safe_load = yaml.safe_load
_TOOLKIT = "ckan.plugins.toolkit"
_parsed: dict[tuple[str, int, int], Any] = {}


def _toolkit_stack(context: int = 1) -> list[inspect.FrameInfo]:
    caller = sys._getframe(1)
    if caller.f_globals.get("__name__") != _TOOLKIT:
        return _stack(context)
    frames: list[inspect.FrameInfo] = []
    frame: Any = caller
    while frame is not None:
        code = frame.f_code
        frames.append(inspect.FrameInfo(frame, code.co_filename, frame.f_lineno,
                                        code.co_name, None, None))
        frame = frame.f_back
    return frames


def _file_key(stream: Any) -> tuple[str, int, int] | None:
    name = getattr(stream, "name", None)
    if not isinstance(name, str) or not os.path.isfile(name):
        return None
    try:
        if stream.tell() != 0:
            return None
    except (AttributeError, OSError):
        return None
    stat = os.stat(name)
    return os.path.realpath(name), stat.st_size, stat.st_mtime_ns


def _cached_safe_load(stream: Any) -> Any:
    key = _file_key(stream)
    if key is None:
        return _safe_load(stream)
    if key not in _parsed:
        _parsed[key] = _safe_load(stream)
    return copy.deepcopy(_parsed[key])


@functools.cache
def _plugin_entry_points(*, group: str, name: str) -> Any:
    return entry_points(group=group, name=name)


def install() -> None:
    import ckan.plugins.core

    inspect.stack = _toolkit_stack
    yaml.safe_load = _cached_safe_load
    ckan.plugins.core.entry_points = _plugin_entry_points  # type: ignore[assignment]
