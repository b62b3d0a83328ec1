"""Steps 1 to 3 of :func:`bm25x.embed`: every item parsed and resolved to a provider before
anything is sent, then grouped per (provider, model, options, kind), identical inputs once."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from bm25x import providers as _providers
from bm25x._embed.items import parse, passthrough, value_key
from bm25x._embed.mrl import check_mrl
from bm25x._options import is_key_option, options_key
from bm25x._secrets import Secret
from bm25x.errors import UnknownModelError
from bm25x.providers._base import Item, Kind, Provider, Vector
from bm25x.providers._fetch import FetchPolicy

__all__ = ["Cloud", "Group", "Plan", "check_call", "make_plan"]

Cloud = bool | Literal["fallback"]

# The group key of items without options (most), hashed once.
_NO_OPTIONS = options_key({})


@dataclass
class Group:
    provider: Provider
    model: str
    kind: Kind
    options: dict[str, Any]
    keys: dict[str, Secret] = field(repr=False)  # API keys: never shown
    unique: list[Item] = field(default_factory=list)
    positions: list[list[int]] = field(default_factory=list)
    index: dict[str, int] = field(default_factory=dict)
    done: dict[int, Vector] = field(default_factory=dict, repr=False)  # slot -> its vector
    tokens: dict[int, int] = field(default_factory=dict)  # slot -> tokens counted for it


@dataclass
class Plan:
    """A call, parsed and grouped, before anything runs."""

    n: int
    single: bool
    results: list[Any]
    pending: list[int]
    groups: dict[tuple[Any, ...], Group]
    mrls: dict[int, tuple[Any, str, str]]
    query: bool
    max_concurrency: int | None
    names: list[str | None] = field(default_factory=list)  # each item's model, as named
    tokens: list[int | None] = field(default_factory=list)  # each item's tokens, once run

    @property
    def remote(self) -> bool:
        """Whether any group may need the network (only providers that say they are local,
        like bm25 and the local-models provider, are known not to)."""
        return any(not getattr(g.provider, "local", False) for g in self.groups.values())


def check_call(
    cloud: Any,
    max_concurrency: Any,
    deadline: Any,
    fetch_policy: Any,
    http_client: Any,
) -> None:
    if cloud not in (True, False, "fallback"):
        raise ValueError(f"cloud must be True, False or 'fallback', got {cloud!r}")
    if max_concurrency is not None and (
        isinstance(max_concurrency, bool)
        or not isinstance(max_concurrency, int)
        or max_concurrency < 1
    ):
        raise ValueError(
            f"max_concurrency must be a positive integer or None, got {max_concurrency!r}"
        )
    if deadline is not None and (
        isinstance(deadline, bool)
        or not isinstance(deadline, (int, float))
        or not math.isfinite(deadline)
        or deadline <= 0
    ):
        raise ValueError(f"deadline must be a positive number of seconds or None, got {deadline!r}")
    if fetch_policy is not None and not isinstance(fetch_policy, FetchPolicy):
        raise TypeError(
            "fetch_policy must be a bm25x.providers.FetchPolicy or None, got "
            f"{type(fetch_policy).__name__}"
        )
    if http_client is not None:
        import aiohttp
        import httpx

        if not isinstance(http_client, (httpx.AsyncClient, aiohttp.ClientSession)):
            raise TypeError(
                "http_client must be an httpx.AsyncClient, an aiohttp.ClientSession or None, "
                f"got {type(http_client).__name__}"
            )


def make_plan(
    items: Any,
    model: str | None,
    options: Mapping[str, Any] | None,
    query: bool,
    cloud: Cloud,
    max_concurrency: int | None,
) -> Plan:
    """Parse, resolve and group every item (steps 1 to 3 of the module's list)."""
    if isinstance(items, (bytes, bytearray, memoryview)):
        raise TypeError(
            f"embed takes str texts, got {type(items).__name__}; decode it first "
            "(or pass an image as {'image': ..., 'model': ...})"
        )
    single = isinstance(items, (str, Mapping)) or any(
        hasattr(items, k) for k in ("text", "image", "object")
    )
    if single:
        seq = [items]
    elif isinstance(items, Iterable):
        seq = list(items)
    else:
        raise TypeError(f"embed takes an item or an iterable of items, got {type(items).__name__}")
    plan = Plan(len(seq), single, [None] * len(seq), [], {}, {}, query, max_concurrency)
    plan.names = [None] * len(seq)
    plan.tokens = [None] * len(seq)
    for i, item in enumerate(seq):
        parsed = parse(item, model, options, i) if cloud is not True else None
        if parsed is None:
            plan.results[i] = passthrough(item, parse(item, model, options, i))
            continue
        try:
            provider, name = _providers.resolve(parsed.model)
        except UnknownModelError as exc:
            if cloud == "fallback":
                plan.results[i] = passthrough(item, parsed)
                continue
            raise exc.with_items([i]) from None
        opts = dict(parsed.options)
        if "mrl" in opts:
            plan.mrls[i] = (opts.pop("mrl"), provider.name, name)
            check_mrl(plan.mrls[i][0], provider.name, name, i)
        keys = {k: opts.pop(k) for k in list(opts) if is_key_option(k)}
        gkey = (
            id(provider),
            name,
            parsed.kind,
            options_key(opts) if opts else _NO_OPTIONS,
            tuple(sorted(keys.items())),  # Secret values: masked wherever this key is shown
        )
        group = plan.groups.get(gkey)
        if group is None:
            group = plan.groups[gkey] = Group(provider, name, parsed.kind, opts, keys)
        it = Item(parsed.kind, parsed.value)
        vkey = value_key(it)
        slot = group.index.get(vkey)
        if slot is None:
            slot = group.index[vkey] = len(group.unique)
            group.unique.append(it)
            group.positions.append([])
        group.positions[slot].append(i)
        plan.pending.append(i)
        plan.names[i] = parsed.model
    return plan
