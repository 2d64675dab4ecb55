"""Experiment configs: Python files returning an ``ml_collections.ConfigDict``, plus ``key=value`` overrides.

A config file defines ``get_config(arg)`` (or ``get_config()``) and is named by a spec
``"path/to/file.py:arg"`` (or ``"path/to/file.py"``), as in the flax examples and big_vision.
Overrides are parsed to the type of the field they replace, so ``--config.lr=1e-3`` stays a float and
``--config.dim=5`` an int. Every mistake is a :class:`ConfigError` (a ``ValueError``) with a one-line
message that names the key, the value or the file.

``WORKDIR/config.json`` records the config a run was started with; :func:`check_workdir_config` refuses
to resume a workdir under a different config.
"""

from __future__ import annotations

import ast
import difflib
import hashlib
import importlib.util
import inspect
import json
import os
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import ml_collections

CONFIG_FILENAME = "config.json"
_TRUE = {"true", "1", "yes", "y", "on"}
_FALSE = {"false", "0", "no", "n", "off"}


class ConfigError(ValueError):
    """A config file, override or workdir config that cannot be used; the message says why."""


def _split_spec(spec: str) -> tuple[str, str | None]:
    index = spec.find(".py:")
    if index < 0:
        return spec, None
    path, arg = spec[: index + 3], spec[index + 4 :]
    return path, (arg or None)


def _import_file(path: str) -> Any:
    file = Path(path)
    if not file.is_file():
        raise ConfigError(f"config file {path} not found")
    digest = hashlib.sha1(str(file.resolve()).encode()).hexdigest()[:12]
    name = f"_geomrep_config_{file.stem}_{digest}"
    spec = importlib.util.spec_from_file_location(name, file)
    if spec is None or spec.loader is None:
        raise ConfigError(f"config file {path} cannot be imported (is it a .py file?)")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
    except SyntaxError as err:
        del sys.modules[name]
        raise ConfigError(f"config file {path}:{err.lineno}: syntax error: {err.msg}") from err
    except BaseException:
        del sys.modules[name]
        raise
    return module


def _call_get_config(get_config: Any, arg: str | None, path: str) -> Any:
    try:
        params = [
            p
            for p in inspect.signature(get_config).parameters.values()
            if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD, p.VAR_POSITIONAL)
        ]
    except (TypeError, ValueError):
        params = None
    if params is not None:
        if arg is None and any(p.default is p.empty and p.kind != p.VAR_POSITIONAL for p in params):
            raise ConfigError(f"config file {path}: get_config needs an argument; use {path}:ARG")
        if arg is not None and not params:
            raise ConfigError(f"config file {path}: get_config() takes no argument, got {arg!r}")
    try:
        return get_config() if arg is None else get_config(arg)
    except (ValueError, KeyError) as err:
        if isinstance(err, ConfigError):
            raise
        message = err.args[0] if isinstance(err, KeyError) and err.args else err
        raise ConfigError(f"config file {path}: get_config({arg!r}) failed: {message}") from err


def load_config(spec: str, overrides: Iterable[str] = ()) -> ml_collections.ConfigDict:
    """Loads ``get_config(arg)`` from a config file and applies ``key=value`` overrides.

    Args:
      spec: ``"path/to/file.py:arg"`` calls ``get_config("arg")``; ``"path/to/file.py"`` calls
        ``get_config()``.
      overrides: strings ``"key=value"`` or ``"group.key=value"`` (see :func:`apply_overrides`).

    Returns:
      the (unlocked) ``ConfigDict``.

    Raises:
      ConfigError: the file is missing, does not parse, has no ``get_config``, or an override is bad.

    Example:
      >>> config = load_config("experiments/poincare_embeddings/configs/default.py:smoke",
      ...                      ["dim=5", "optim.lr=0.3"])  # doctest: +SKIP
    """
    path, arg = _split_spec(spec)
    module = _import_file(path)
    get_config = getattr(module, "get_config", None)
    if not callable(get_config):
        raise ConfigError(f"config file {path} defines no get_config() function")
    config = _call_get_config(get_config, arg, path)
    if isinstance(config, ml_collections.FrozenConfigDict):
        config = ml_collections.ConfigDict(config)
    elif isinstance(config, dict):
        config = ml_collections.ConfigDict(config)
    if not isinstance(config, ml_collections.ConfigDict):
        raise ConfigError(
            f"config file {path}: get_config returned a {type(config).__name__}, "
            "not an ml_collections.ConfigDict"
        )
    return apply_overrides(config, overrides)


def _flat_keys(config: ml_collections.ConfigDict, prefix: str = "") -> list[str]:
    keys = []
    for name in config.keys():
        full = f"{prefix}{name}"
        keys.append(full)
        value = config[name]
        if isinstance(value, ml_collections.ConfigDict):
            keys.extend(_flat_keys(value, full + "."))
    return keys


def _unknown_key(root: ml_collections.ConfigDict, node: ml_collections.ConfigDict, key: str, depth: int):
    parts = key.split(".")
    prefix = ".".join(parts[:depth])
    level = sorted(f"{prefix}.{k}" if prefix else k for k in node.keys())
    message = f"unknown config key {key!r}; valid keys: {', '.join(level) or '(none)'}"
    close = difflib.get_close_matches(key, _flat_keys(root), n=1, cutoff=0.6)
    if close:
        message += f"; did you mean {close[0]!r}?"
    return ConfigError(message)


def _bad_value(key: str, raw: str, expected: str) -> ConfigError:
    return ConfigError(f"bad value {raw!r} for config key {key!r}: expected {expected}")


def _literal(raw: str) -> Any:
    try:
        return ast.literal_eval(raw.strip())
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return raw


def parse_value(key: str, raw: str, target: type, current: Any = None) -> Any:
    """Parses the override string ``raw`` as a value of type ``target`` (the existing field's type).

    bool accepts true/false/1/0/yes/no/on/off; int accepts integral floats such as ``1e3``; float
    accepts ``1e-3`` and ints; str takes the text as is; tuple/list go through ``ast.literal_eval``
    (``"(1, 2)"``, ``"[1, 2]"``, ``"1,2"``); a field whose value is ``None`` takes a Python literal,
    or else the text as a string.

    Raises:
      ConfigError: naming the key, the value and the expected type.
    """
    text = raw.strip()
    if current is None and text == "None":
        return None
    if target is bool:
        if text.lower() in _TRUE:
            return True
        if text.lower() in _FALSE:
            return False
        raise _bad_value(key, raw, "bool (true/false, 1/0, yes/no)")
    if target is int:
        try:
            return int(text)
        except ValueError:
            pass
        try:
            number = float(text)
        except ValueError:
            raise _bad_value(key, raw, "int") from None
        if not number.is_integer():
            raise _bad_value(key, raw, "int")
        return int(number)
    if target is float:
        try:
            return float(text)
        except ValueError:
            raise _bad_value(key, raw, "float") from None
    if target is str:
        return raw
    if target in (tuple, list):
        value = _literal(text)
        if not isinstance(value, tuple | list):
            raise _bad_value(key, raw, f"{target.__name__} (e.g. '(1, 2)')")
        return target(value)
    if target is type(None):
        return _literal(text)
    value = _literal(text)
    if not isinstance(value, target):
        raise _bad_value(key, raw, target.__name__)
    return value


def apply_overrides(config: ml_collections.ConfigDict, overrides: Iterable[str]) -> ml_collections.ConfigDict:
    """Applies ``"key=value"`` / ``"a.b=value"`` overrides in place (and returns ``config``).

    Values are parsed to the type of the existing field (:func:`parse_value`). Keys must exist.

    Raises:
      ConfigError: "unknown config key 'dimm'; valid keys: batch_size, dim, lr; did you mean 'dim'?",
        or a value that does not parse (naming key, value and expected type).

    Example:
      >>> config = ml_collections.ConfigDict({"dim": 10, "optim": {"lr": 0.1}})
      >>> apply_overrides(config, ["dim=5", "optim.lr=1e-3"]).optim.lr
      0.001
    """
    for item in overrides:
        key, sep, raw = item.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ConfigError(f"config override {item!r} is not of the form key=value")
        parts = key.split(".")
        node = config
        for depth, part in enumerate(parts[:-1]):
            if part not in node:
                raise _unknown_key(config, node, key, depth)
            child = node[part]
            if not isinstance(child, ml_collections.ConfigDict):
                group = ".".join(parts[: depth + 1])
                raise ConfigError(
                    f"config key {group!r} is a {type(child).__name__}, not a group; cannot set {key!r}"
                )
            node = child
        name = parts[-1]
        if name not in node:
            raise _unknown_key(config, node, key, len(parts) - 1)
        current = node[name]
        if isinstance(current, ml_collections.ConfigDict):
            fields = ", ".join(sorted(f"{key}.{k}" for k in current.keys()))
            raise ConfigError(f"config key {key!r} is a group; set its fields instead: {fields}")
        value = parse_value(key, raw, node.get_type(name), current)
        try:
            node[name] = value
        except (TypeError, ValueError) as err:
            raise ConfigError(f"bad value {raw!r} for config key {key!r}: {err}") from err
    return config


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, str | bool | int | float):
        return value
    return repr(value)


def config_to_json(config: ml_collections.ConfigDict) -> str:
    """The config as indented JSON with sorted keys (tuples become lists, other objects their repr)."""
    return json.dumps(_jsonable(config.to_dict()), indent=2, sort_keys=True) + "\n"


def _flatten_json(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and value:
        flat = {}
        for name, item in value.items():
            flat.update(_flatten_json(item, f"{prefix}{name}."))
        return flat
    return {prefix[:-1]: value}


def _differences(saved: Any, requested: Any) -> list[str]:
    old, new = _flatten_json(saved), _flatten_json(requested)
    missing = object()
    lines = []
    for key in sorted(old.keys() | new.keys()):
        a, b = old.get(key, missing), new.get(key, missing)
        if a != b:
            show = lambda v: "<unset>" if v is missing else json.dumps(v)
            lines.append(f"{key} {show(a)} != {show(b)}")
    return lines


def check_workdir_config(workdir: str | os.PathLike, config: ml_collections.ConfigDict) -> Path:
    """Records ``config`` in ``WORKDIR/config.json``, or checks it equals the one recorded there.

    A new workdir gets the file (written to a temporary file and linked into place, so a concurrent or
    interrupted writer never leaves a partial file). An existing ``config.json`` is never overwritten.

    Returns:
      the path of ``config.json``.

    Raises:
      ConfigError: the workdir holds a run with a different config, listing each differing key as
        ``key saved != requested``.
    """
    workdir = Path(workdir)
    path = workdir / CONFIG_FILENAME
    text = config_to_json(config)
    requested = json.loads(text)
    if not path.exists():
        workdir.mkdir(parents=True, exist_ok=True)
        tmp = workdir / f".{CONFIG_FILENAME}.tmp-{os.getpid()}"
        tmp.write_text(text, encoding="utf-8")
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another process wrote it first: compare below
        except OSError:
            try:
                with open(path, "x", encoding="utf-8") as f:
                    f.write(text)
            except FileExistsError:
                pass
        finally:
            tmp.unlink(missing_ok=True)
    try:
        saved = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise ConfigError(f"{path} is not valid JSON ({err}); use a new --workdir") from err
    differences = _differences(saved, requested)
    if differences:
        raise ConfigError(
            f"workdir {workdir} holds a run with a different config (saved != requested): "
            f"{', '.join(differences)}; use a new --workdir or the same flags"
        )
    return path
