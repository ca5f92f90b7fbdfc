"""How checkpointers turn user values into text and back: JSON when it is exact, pickle if allowed.

A value map (a step's outputs, a superstep's changes, a run's inputs) becomes one JSON object.
JSON's own types (``str``, ``int``, ``bool``, ``None``, finite ``float``, ``list``, ``dict`` with
string keys) are written as they are. Everything else is written as a tagged object
``{"__hg__": kind, ...}`` so that it comes back with its exact type:

- ``tuple``, ``set``, ``frozenset``, ``bytes``, non-finite floats and dicts with other keys;
- attrs classes, dataclasses, enums, the types cattrs' JSON converter knows (``datetime``, ...)
  and types plugins register hooks for, through ``hypergraph.serde.make_converter()``, when the
  round trip gives back an equal value of the same type;
- with ``serializer="pickle"`` only: anything else that pickles, base64-encoded.

Anything that fits none of these raises ``CheckpointSerializationError`` naming the node and the
output. A file holding pickled values is only read back by a codec created with
``serializer="pickle"`` (unpickling runs code: only for files you trust).
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import importlib
import json
import math
import pickle
from collections.abc import Mapping
from datetime import date, datetime
from enum import Enum
from typing import Any, Literal

import attrs

from hypergraph.exceptions import CheckpointSerializationError

__all__ = [
    "SERIALIZERS",
    "Serializer",
    "UnreadableValue",
    "UnstorableValue",
    "ValueCodec",
    "dumps",
]

Serializer = Literal["json", "pickle"]
SERIALIZERS: tuple[Serializer, ...] = ("json", "pickle")

TAG = "__hg__"
_JSON_TYPES = (datetime, date)


@attrs.frozen
class UnreadableValue:
    """Stands in for a stored value a lenient codec can't restore (inspection tools, the CLI).

    ``kind`` is the stored form (``"type"``, ``"pickle"``, ...), ``type_name`` the class when
    known, ``reason`` why it can't be restored here.
    """

    kind: str
    type_name: str | None
    reason: str

    def __repr__(self) -> str:
        what = self.type_name or self.kind
        return f"<unreadable {what}: {self.reason}>"


class UnstorableValue(Exception):
    """Internal signal: this value has no stored form; the reason says why."""


def _no_default(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


_encode_str: Any = getattr(json.encoder, "c_encode_basestring", None) or (
    json.encoder.py_encode_basestring
)
_c_make_encoder: Any = getattr(json.encoder, "c_make_encoder", None)
if _c_make_encoder is not None:
    # json.dumps() builds an encoder per call; the C one built once is several times cheaper.
    # No cycle markers: a value containing itself fails with RecursionError instead.
    _c_encoder = _c_make_encoder(
        None, _no_default, _encode_str, None, ":", ",", False, False, False
    )

    def _dumps(raw: Any) -> str:
        return "".join(_c_encoder(raw, 0))

else:  # pragma: no cover  (CPython always has the C accelerator)
    _dumps = json.JSONEncoder(  # type: ignore[assignment]
        ensure_ascii=False, separators=(",", ":"), allow_nan=False
    ).encode


_PLAIN_DECODER = json.JSONDecoder()
_KEY_TEXT: dict[str, str] = {}


def dumps(raw: Any) -> str:
    """Compact, strict JSON text of a JSON-safe value (what checkpointers store)."""
    return _dumps(raw)


class ValueCodec:
    """Encodes value maps to JSON text and decodes them, following the module's rules.

    One codec per checkpointer. It is cheap to create; the cattrs converter is made on the first
    value that needs it.
    """

    def __init__(self, serializer: Serializer = "json", *, lenient: bool = False) -> None:
        if serializer not in SERIALIZERS:
            raise ValueError(
                f"serializer={serializer!r} is not one of {', '.join(map(repr, SERIALIZERS))}: "
                "use 'json' (the default) or 'pickle' to also store values JSON can't hold."
            )
        self.serializer: Serializer = serializer
        self.allow_pickle = serializer == "pickle"
        # lenient: values that can't be restored become UnreadableValue placeholders
        self.lenient = lenient
        self._converter: Any = None
        if len(_KEY_TEXT) > 65536:
            _KEY_TEXT.clear()
        # the JSON text (with its colon) of each value name, shared by every codec
        self._keys: dict[str, str] = _KEY_TEXT
        self._decoder = json.JSONDecoder(object_hook=self._object_hook)

    # -- encoding -----------------------------------------------------------------------------

    def encode_map(
        self,
        values: Mapping[str, Any],
        *,
        run_id: str | None,
        node_name: str | None,
        fragments: dict[int, str] | None = None,
    ) -> str:
        """One JSON object for ``values``; raises ``CheckpointSerializationError`` naming the value.

        ``fragments`` caches encoded values by ``id()`` for the duration of one save, so a value
        that is both a step output and a checkpoint change is encoded once.
        """
        if not values:
            return "{}"
        keys = self._keys
        if len(values) == 1:  # one output (most nodes), an int (counters, ids): no list to join
            for name, value in values.items():
                if value.__class__ is int:
                    return "{" + (keys.get(name) or self.key_text(name)) + int.__repr__(value) + "}"
        parts = []
        for name, value in values.items():
            key = keys.get(name) or self.key_text(name)
            kind = type(value)
            if kind is int:  # versions, counters, most small outputs: no cache, no call
                parts.append(key + int.__repr__(value))
                continue
            if kind is str:
                parts.append(key + _encode_str(value))
                continue
            fragment = None if fragments is None else fragments.get(id(value))
            if fragment is None:
                fragment = self._fragment(value, run_id, node_name, name)
                if fragments is not None:
                    fragments[id(value)] = fragment
            parts.append(key + fragment)
        return "{" + ",".join(parts) + "}"

    def key_text(self, name: str) -> str:
        """The JSON text of a value name with its colon (``"name":``), cached process-wide."""
        key = self._keys.get(name)
        if key is None:
            key = self._keys[name] = _dumps(str(name)) + ":"
        return key

    def encode_versions(self, versions: Mapping[str, int]) -> str:
        """The JSON object of a step's input versions (names to ints), with cached keys."""
        keys = self._keys
        parts = []
        for name, version in versions.items():
            key = keys.get(name) or self.key_text(name)
            parts.append(key + (int.__repr__(version) if type(version) is int else _dumps(version)))
        return "{" + ",".join(parts) + "}"

    def encode_items(
        self,
        values: Mapping[str, Any],
        *,
        run_id: str | None,
        node_name: str | None,
        fragments: dict[int, str] | None = None,
    ) -> dict[str, str]:
        """Like :meth:`encode_map`, but ``{"<name>": value text}`` pieces to merge, then :meth:`join`."""
        keys = self._keys
        out: dict[str, str] = {}
        for name, value in values.items():
            key = keys.get(name) or self.key_text(name)
            if value.__class__ is int:  # no cache, no call (as in encode_map)
                out[key] = int.__repr__(value)
                continue
            fragment = None if fragments is None else fragments.get(id(value))
            if fragment is None:
                fragment = self._fragment(value, run_id, node_name, name)
                if fragments is not None:
                    fragments[id(value)] = fragment
            out[key] = fragment
        return out

    @staticmethod
    def join(items: Mapping[str, str]) -> str:
        """The JSON object of pieces made by :meth:`encode_items`."""
        return "{" + ",".join([key + fragment for key, fragment in items.items()]) + "}"

    def encode_value(self, value: Any) -> str:
        """The JSON text of one value (raises ``UnstorableValue`` with the reason)."""
        return _dumps(self._raw(value))

    def _fragment(self, value: Any, run_id: str | None, node_name: str | None, name: str) -> str:
        kind = type(value)
        if kind is str:
            return str(_encode_str(value))
        if kind is int:
            return int.__repr__(value)
        if value is None:
            return "null"
        if kind is bool:
            return "true" if value else "false"
        try:
            return _dumps(self._raw(value))
        except (UnstorableValue, TypeError, ValueError, RecursionError) as exc:
            raise _serialization_error(value, exc, run_id, node_name, name) from None

    def _raw(self, value: Any) -> Any:
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            return value
        if kind is float:
            return value if math.isfinite(value) else {TAG: "float", "v": repr(value)}
        if kind is list:
            return [self._raw(item) for item in value]
        if kind is dict:
            if TAG not in value and all(type(k) is str for k in value):
                return {k: self._raw(v) for k, v in value.items()}
            return {TAG: "dict", "v": [[self._raw(k), self._raw(v)] for k, v in value.items()]}
        if kind is tuple:
            return {TAG: "tuple", "v": [self._raw(item) for item in value]}
        if kind is set or kind is frozenset:
            return {TAG: kind.__name__, "v": [self._raw(item) for item in value]}
        if kind is bytes:
            return {TAG: "bytes", "v": base64.b64encode(value).decode("ascii")}
        return self._typed(value)

    def _typed(self, value: Any) -> Any:
        kind = type(value)
        text, reason = self._through_converter(value)
        if text is not None:
            return {TAG: "type", "type": f"{kind.__module__}:{kind.__qualname__}", "json": text}
        if not self.allow_pickle:
            raise UnstorableValue(reason)
        try:
            data = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception as exc:
            raise UnstorableValue(
                f"{reason}, and it can't be pickled either ({type(exc).__name__}: {exc})"
            ) from None
        return {TAG: "pickle", "v": base64.b64encode(data).decode("ascii")}

    def _through_converter(self, value: Any) -> tuple[str | None, str]:
        """``value`` as JSON text through the cattrs converter, or ``None`` and the reason why not.

        attrs classes, dataclasses, enums, datetimes and any type a plugin registered hooks for
        qualify, when the JSON comes back as an equal value of the same type.
        """
        kind = type(value)
        name = f"{kind.__module__}.{kind.__qualname__}"
        try:
            raw = self.converter.unstructure(value)
        except Exception as exc:
            return None, f"{name} does not convert to JSON ({type(exc).__name__}: {exc})"
        known = (
            attrs.has(kind) or dataclasses.is_dataclass(kind) or issubclass(kind, Enum)
            or kind in _JSON_TYPES
        )
        if raw is value and not known:
            return None, f"JSON has no form for {name}"
        if "<locals>" in kind.__qualname__:
            return None, f"{name} is defined inside a function, so it can't be found on resume"
        try:
            text = _dumps(raw)
            back = self.converter.structure(json.loads(text), kind)
        except Exception as exc:
            return None, f"{name} does not convert to JSON ({type(exc).__name__}: {exc})"
        try:
            same = type(back) is kind and bool(back == value)
        except Exception:
            same = False
        if not same:
            return None, f"{name} does not come back equal from JSON"
        return text, ""

    @property
    def converter(self) -> Any:
        """The cattrs converter for typed values (``hypergraph.serde.make_converter()``)."""
        if self._converter is None:
            from hypergraph.serde import make_converter

            self._converter = make_converter()
        return self._converter

    # -- decoding -----------------------------------------------------------------------------

    def decode_map(
        self, text: str, *, run_id: str | None = None, node_name: str | None = None
    ) -> dict[str, Any]:
        """The value map stored as ``text`` by :meth:`encode_map`."""
        if text == "{}":
            return {}
        try:
            # no tagged value in the text: the C scanner alone, no Python call per object
            decoder = self._decoder if TAG in text else _PLAIN_DECODER
            decoded, end = decoder.raw_decode(text)
            if end != len(text):
                raise ValueError(f"extra data at character {end}")
        except _RestoreError as exc:
            raise CheckpointSerializationError(
                f"{_where(run_id, node_name, None)}: {exc}", run_id=run_id, node_name=node_name
            ) from None
        except (ValueError, TypeError) as exc:
            raise CheckpointSerializationError(
                f"{_where(run_id, node_name, None)}: the stored values are not valid "
                f"({type(exc).__name__}: {exc}); the file was changed by something other than "
                "hypergraph.",
                run_id=run_id,
                node_name=node_name,
            ) from None
        if not isinstance(decoded, dict):
            raise CheckpointSerializationError(
                f"{_where(run_id, node_name, None)}: the stored values are not a JSON object.",
                run_id=run_id,
                node_name=node_name,
            )
        return decoded

    def decode_value(self, text: str) -> Any:
        """The value stored as ``text`` by :meth:`encode_value`."""
        try:
            return json.loads(text, object_hook=self._object_hook)
        except _RestoreError as exc:
            raise CheckpointSerializationError(str(exc)) from None

    def _object_hook(self, obj: dict[str, Any]) -> Any:
        kind = obj.get(TAG)
        if kind is None:
            return obj
        try:
            if kind == "tuple":
                return tuple(obj["v"])
            if kind == "set":
                return set(obj["v"])
            if kind == "frozenset":
                return frozenset(obj["v"])
            if kind == "dict":
                return {_hashable(k): v for k, v in obj["v"]}
            if kind == "bytes":
                return base64.b64decode(obj["v"], validate=True)
            if kind == "float":
                return float(obj["v"])
            if kind == "type":
                return self._structure(obj["type"], obj["json"])
            if kind == "pickle":
                return self._unpickle(obj["v"])
        except _RestoreError as exc:
            if self.lenient:
                return UnreadableValue(str(kind), obj.get("type"), str(exc))
            raise
        except (KeyError, TypeError, ValueError, binascii.Error) as exc:
            if self.lenient:
                return UnreadableValue(str(kind), None, f"malformed ({exc})")
            raise _RestoreError(f"a stored {kind!r} value is malformed ({exc})") from None
        reason = f"unknown stored value kind {kind!r} (written by a newer hypergraph?)"
        if self.lenient:
            return UnreadableValue(str(kind), None, reason)
        raise _RestoreError(reason)

    def _structure(self, type_name: str, text: str) -> Any:
        module_name, _, qualname = type_name.partition(":")
        try:
            target: Any = importlib.import_module(module_name)
            for part in qualname.split("."):
                target = getattr(target, part)
        except Exception as exc:
            raise _RestoreError(
                f"the class {type_name} of a stored value can't be imported any more "
                f"({type(exc).__name__}: {exc}); restore it under that name, or fork the run "
                "with new values"
            ) from None
        if not isinstance(target, type):
            raise _RestoreError(f"{type_name} is not a class hypergraph stores as JSON")
        try:
            return self.converter.structure(json.loads(text), target)
        except Exception as exc:
            raise _RestoreError(
                f"a stored {type_name} no longer matches its class ({type(exc).__name__}: {exc})"
            ) from None

    def _unpickle(self, data: str) -> Any:
        if not self.allow_pickle:
            raise _RestoreError(
                "the value was stored with pickle; open the checkpointer with serializer='pickle' "
                "to read it (unpickling runs code: only do so for files you trust)"
            )
        try:
            return pickle.loads(base64.b64decode(data, validate=True))
        except Exception as exc:
            raise _RestoreError(
                f"a pickled value can't be loaded ({type(exc).__name__}: {exc})"
            ) from None


class _RestoreError(Exception):
    """Internal: a stored value can't be turned back into a Python value."""


def _hashable(key: Any) -> Any:
    return tuple(_hashable(k) for k in key) if isinstance(key, list) else key


def _where(run_id: str | None, node_name: str | None, name: str | None) -> str:
    run = f" of run {run_id!r}" if run_id is not None else ""
    if node_name is None:
        what = f"input {name!r}" if name is not None else "the run's inputs"
    else:
        what = f"output {name!r} of node {node_name!r}" if name is not None else (
            f"the outputs of node {node_name!r}"
        )
    return f"Cannot restore {what}{run}"


def _serialization_error(
    value: Any, exc: BaseException, run_id: str | None, node_name: str | None, name: str
) -> CheckpointSerializationError:
    what = f"input {name!r}" if node_name is None else f"output {name!r} of node {node_name!r}"
    run = f" in run {run_id!r}" if run_id is not None else ""
    if isinstance(exc, RecursionError):
        reason = "it is nested too deeply (or contains itself)"
    elif isinstance(exc, UnstorableValue):
        reason = str(exc)
    else:
        reason = f"{type(exc).__name__}: {exc}"
    message = (
        f"Cannot checkpoint {what}{run} (a {type(value).__name__}): {reason}. Nothing of this "
        "superstep was written. Return JSON-friendly values (builtins, attrs classes, "
        "dataclasses, enums)"
    )
    message += (
        "." if isinstance(exc, UnstorableValue) and "pickled either" in str(exc)
        else ", or create the checkpointer with serializer='pickle' to store it with pickle."
    )
    return CheckpointSerializationError(message, run_id=run_id, node_name=node_name, output=name)
