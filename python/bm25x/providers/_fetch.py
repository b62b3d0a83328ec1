"""Fetching an image URL on the caller's behalf, without becoming a way into the caller's network.

A URL in an item is input, often someone else's. Before bm25x fetches one (to inline it for a
provider that takes only data URLs) it checks, under a :class:`FetchPolicy`:

- the scheme is one the policy allows (``http`` and ``https``), and the URL carries no
  credentials;
- every address the host resolves to is public: loopback, private, link-local, CGNAT
  (100.64/10), unique-local, multicast, unspecified, reserved and cloud metadata addresses are
  refused, and so are IPv6 forms that carry one of those in an IPv4 part (IPv4-mapped,
  IPv4-compatible, 6to4, Teredo, NAT64). The check runs after DNS resolution, inside the
  connection itself, and the connection goes to the address that was checked, so a name that
  resolves differently a moment later (DNS rebinding) cannot slip past it;
- redirects are followed by bm25x itself, at most ``max_redirects`` of them, each hop checked
  the same way;
- the body is at most ``max_bytes`` (counted while it streams in) and its first bytes say PNG,
  JPEG, GIF or WebP, whatever its ``Content-Type`` claims;
- the whole fetch, redirects included, ends within ``timeout`` seconds.

Private addresses are the caller's explicit choice: ``allow_private=True``, or hosts and
networks listed in ``allowed_hosts``. Environment proxies are not used for these fetches (a
proxy would resolve the name where bm25x cannot check it).
"""

from __future__ import annotations

import functools
import ipaddress
import math
import socket
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    import httpcore

__all__ = ["FetchPolicy", "blocked_reason", "fetch_image", "sniff_image_type"]

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

_REDIRECTS = frozenset({301, 302, 303, 307, 308})
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
# Instance metadata services (AWS, GCP, Azure, Alibaba, Oracle, ECS task metadata): refused
# even under allow_private, since they hand out credentials; only allowed_hosts opens them.
_METADATA = frozenset(
    ipaddress.ip_address(a)
    for a in (
        "169.254.169.254",
        "169.254.170.2",
        "169.254.169.253",
        "fd00:ec2::254",
        "100.100.100.200",
        "192.0.0.192",
    )
)


def split_data_url(value: str, *, provider: str, model: str) -> tuple[str, str]:
    """``(declared MIME type, base64 payload)`` of an image data URL
    (``data:<mime>;base64,<payload>``); :class:`bm25x.BadInputError` for any other form."""
    from bm25x.errors import BadInputError

    head, sep, payload = value.partition(",")
    if not head.startswith("data:") or not sep or not head.endswith(";base64"):
        raise BadInputError(
            "image data URL must be base64 ('data:<mime>;base64,...')",
            provider=provider,
            model=model,
        )
    return head[5:-7], payload


def sniff_image_type(data: bytes) -> str | None:
    """The MIME type of PNG, JPEG, GIF and WebP data from its first bytes, else ``None``."""
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if data.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if data.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass(frozen=True)
class FetchPolicy:
    """What bm25x may fetch when an item names an image by URL.

    ``allow_private``: fetch from loopback, private, link-local and CGNAT addresses too (cloud
    metadata addresses stay refused unless listed in ``allowed_hosts``).
    ``allowed_hosts``: host names (matched exactly, ignoring case) and addresses or CIDR
    networks (``"10.1.2.0/24"``) fetched even though they are not public.
    ``schemes``: the URL schemes fetched. ``max_bytes``: the largest body taken.
    ``timeout``: seconds for the whole fetch, redirects included.
    ``max_redirects``: redirects followed (each one checked like the first URL).

    >>> FetchPolicy(allowed_hosts=frozenset({"10.0.0.0/8"})).allows_address("10.1.2.3")
    True
    >>> FetchPolicy().allows_address("10.1.2.3")
    False
    """

    allow_private: bool = False
    allowed_hosts: frozenset[str] = frozenset()
    schemes: frozenset[str] = frozenset({"http", "https"})
    max_bytes: int = 5 * 1024 * 1024
    timeout: float = 30.0
    max_redirects: int = 5
    _names: frozenset[str] = field(init=False, repr=False, compare=False)
    _networks: tuple[IPNetwork, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        hosts = self.allowed_hosts
        if isinstance(hosts, str) or not isinstance(hosts, Iterable):
            raise TypeError(
                "FetchPolicy.allowed_hosts must be a set of host names or networks, "
                f"got {type(hosts).__name__}"
            )
        names: set[str] = set()
        networks: list[IPNetwork] = []
        for entry in hosts:
            if not isinstance(entry, str) or not entry.strip():
                raise ValueError(f"FetchPolicy.allowed_hosts: {entry!r} is not a host or network")
            text = entry.strip().lower().strip("[]")
            try:
                networks.append(ipaddress.ip_network(text, strict=False))
            except ValueError:
                names.add(text.rstrip("."))
        schemes = self.schemes
        if isinstance(schemes, str) or not isinstance(schemes, Iterable):
            raise TypeError(f"FetchPolicy.schemes must be a set, got {type(schemes).__name__}")
        for name, value, low in (
            ("max_bytes", self.max_bytes, 1),
            ("max_redirects", self.max_redirects, 0),
        ):
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"FetchPolicy.{name} must be an integer >= {low}, got {value!r}")
        if (
            isinstance(self.timeout, bool)
            or not isinstance(self.timeout, (int, float))
            or not math.isfinite(self.timeout)
            or self.timeout <= 0
        ):
            raise ValueError(
                f"FetchPolicy.timeout must be a positive number of seconds, got {self.timeout!r}"
            )
        object.__setattr__(self, "allowed_hosts", frozenset(hosts))
        object.__setattr__(self, "schemes", frozenset(str(s).lower() for s in schemes))
        object.__setattr__(self, "_names", frozenset(names))
        object.__setattr__(self, "_networks", tuple(networks))

    def allows_address(self, address: str, host: str | None = None) -> bool:
        """Whether an address (reached through ``host``, when a name) may be fetched from."""
        return self.refusal(address, host) is None

    def refusal(self, address: str, host: str | None = None) -> str | None:
        """Why an address may not be fetched from (``None`` when it may)."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if ip.is_multicast or ip.is_unspecified:
            return f"{ip} is a {'multicast' if ip.is_multicast else 'unspecified'} address"
        listed = host is not None and host.lower().rstrip(".") in self._names
        if listed or any(ip in net for net in self._networks if net.version == ip.version):
            return None
        reason = blocked_reason(ip)
        if reason is None:
            return None
        if self.allow_private and ip not in _METADATA and not _embeds_metadata(ip):
            return None
        return f"{ip} is {reason}"


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address an IPv6 address carries (mapped, compatible, 6to4, Teredo, NAT64)."""
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64 or ip in _NAT64_LOCAL or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def _embeds_metadata(ip: IPAddress) -> bool:
    inner = _embedded_ipv4(ip) if isinstance(ip, ipaddress.IPv6Address) else None
    return inner is not None and inner in _METADATA


def blocked_reason(ip: IPAddress) -> str | None:
    """What makes ``ip`` non-public (``"a loopback address"``, ...), or ``None`` when it is a
    public address."""
    if isinstance(ip, ipaddress.IPv6Address):
        inner = _embedded_ipv4(ip)
        if inner is not None:
            why = blocked_reason(inner)
            return f"an IPv6 form of {inner}, {why}" if why else None
    checks = (
        (ip in _METADATA, "a cloud metadata address"),
        (ip.is_loopback, "a loopback address"),
        (ip.is_link_local, "a link-local address"),
        (ip.is_unspecified, "an unspecified address"),
        (ip.is_multicast, "a multicast address"),
        (ip.is_reserved, "a reserved address"),
        (ip.version == 4 and ip in _CGNAT, "a shared (CGNAT) address"),
        (ip.is_private, "a private address"),
        (not ip.is_global, "not a public address"),
    )
    return next((why for hit, why in checks if hit), None)


def display_url(url: Any) -> str:
    """``scheme://host[:port]/path`` of a URL: no credentials, query or fragment (they may
    hold tokens)."""
    return _display_url(str(url))


@functools.lru_cache(maxsize=256)  # provider endpoints: a handful, shown on every call
def _display_url(url: str) -> str:
    import httpx

    try:
        parsed = httpx.URL(str(url))
    except (httpx.InvalidURL, TypeError, ValueError):
        return "<an unparsable URL>"
    port = f":{parsed.port}" if parsed.port is not None else ""
    host = parsed.host if ":" not in parsed.host else f"[{parsed.host}]"
    return f"{parsed.scheme}://{host}{port}{parsed.path}"


class _Refused(Exception):
    """Raised inside the connection when an address is refused (turned into BadInputError)."""


class _GuardedBackend:
    """An httpcore network backend that resolves a host itself, refuses it unless every
    address it resolves to is allowed, and connects to one of the addresses it checked."""

    def __init__(self, policy: FetchPolicy) -> None:
        import httpcore

        self.policy = policy
        self.inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> Any:
        addresses = await _resolve(host, port)
        if not addresses:
            raise _Refused(f"{host} does not resolve to any address")
        for address in addresses:
            why = self.policy.refusal(address, host)
            if why is not None:
                shown = host if address == host else f"{host} resolves to {address}:"
                raise _Refused(f"{shown} {why}" if address != host else why)
        last: BaseException | None = None
        for address in addresses:
            try:
                return await self.inner.connect_tcp(
                    address,
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except Exception as exc:  # try the next checked address
                last = exc
        assert last is not None
        raise last

    async def connect_unix_socket(self, *args: Any, **kwargs: Any) -> Any:
        raise _Refused("unix sockets are not fetched")

    async def sleep(self, seconds: float) -> None:
        await self.inner.sleep(seconds)


async def _resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host`` (itself, when it is an address), first-come order, no
    duplicates."""
    try:
        return [str(ipaddress.ip_address(host.split("%", 1)[0]))]
    except ValueError:
        pass
    import anyio

    try:
        infos = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError) as exc:
        raise _Refused(f"{host} does not resolve ({type(exc).__name__})") from None
    seen: dict[str, None] = {}
    for info in infos:
        seen.setdefault(str(info[4][0]).split("%", 1)[0], None)
    return list(seen)


async def fetch_image(
    url: str,
    policy: FetchPolicy,
    *,
    provider: str,
    model: str | None = None,
    limit: int | None = None,
) -> tuple[bytes, str]:
    """The bytes of the image at ``url`` and their sniffed MIME type, fetched as the module
    says; :class:`bm25x.BadInputError` naming the URL (without credentials or query) for
    anything refused or failed."""
    import anyio

    from bm25x.errors import BadInputError

    limit = min(policy.max_bytes, limit) if limit is not None else policy.max_bytes
    shown = display_url(url)
    failure: str
    try:
        with anyio.fail_after(policy.timeout):
            outcome = await _fetch(url, policy, limit)
    except TimeoutError:
        outcome = f"took longer than the fetch policy's {policy.timeout:g} s timeout"
    if isinstance(outcome, tuple):
        return outcome
    failure = outcome
    raise BadInputError(f"image {shown} was not fetched: {failure}", provider=provider, model=model)


async def _fetch(url: str, policy: FetchPolicy, limit: int) -> tuple[bytes, str] | str:
    """The image, or why not (a message; errors are raised by the caller, outside any
    ``except`` block, so that no httpx or httpcore exception rides along as context)."""
    import httpcore
    import httpx

    hint = (
        "; if this host is yours, allow it with fetch_policy=FetchPolicy(allowed_hosts="
        "frozenset({...})) or FetchPolicy(allow_private=True)"
    )
    # The guard duck-types httpcore's backend interface (httpcore is imported lazily, so the
    # class cannot subclass it at module import).
    backend = cast("httpcore.AsyncNetworkBackend", _GuardedBackend(policy))
    async with httpcore.AsyncConnectionPool(
        network_backend=backend, retries=0, max_connections=4
    ) as pool:
        current = url
        for hop in range(policy.max_redirects + 1):
            try:
                parsed = httpx.URL(current)
            except (httpx.InvalidURL, TypeError, ValueError):
                return "it is not a valid URL"
            if parsed.scheme not in policy.schemes:
                allowed = ", ".join(sorted(policy.schemes))
                return f"scheme {parsed.scheme or '(none)'!r} is not fetched (only {allowed})"
            if not parsed.host:
                return "the URL has no host"
            if parsed.userinfo:
                return "URLs with credentials are not fetched"
            target = httpcore.URL(
                scheme=parsed.raw_scheme,
                host=parsed.raw_host,
                port=parsed.port,
                target=parsed.raw_path,
            )
            headers = [
                (b"Host", parsed.netloc),
                (b"Accept", b"image/png, image/jpeg, image/gif, image/webp"),
                (b"User-Agent", b"bm25x"),
            ]
            timeouts = dict.fromkeys(("connect", "read", "write", "pool"), policy.timeout)
            refused: str | None = None
            location: httpx.URL | None = None
            try:
                async with pool.stream(
                    "GET", target, headers=headers, extensions={"timeout": timeouts}
                ) as response:
                    status = response.status
                    answered = {
                        k.decode("latin-1").lower(): v.decode("latin-1")
                        for k, v in response.headers
                    }
                    if status in _REDIRECTS and "location" in answered:
                        location = parsed.join(answered["location"])
                    elif status >= 300:
                        return f"HTTP {status}"
                    else:
                        declared = answered.get("content-length", "")
                        if declared.isdigit() and int(declared) > limit:
                            return f"it is {int(declared)} bytes, over the {limit}-byte limit"
                        body = bytearray()
                        async for chunk in response.aiter_stream():
                            body += chunk
                            if len(body) > limit:
                                return f"it is over the {limit}-byte limit"
                        data = bytes(body)
                        mime = sniff_image_type(data)
                        if mime is None:
                            claimed = answered.get("content-type", "no Content-Type")
                            return (
                                f"its bytes are not PNG, JPEG, GIF or WebP (it claims {claimed!r})"
                            )
                        return data, mime
            except _Refused as exc:
                refused = str(exc)
            except httpcore.TimeoutException:
                return f"took longer than the fetch policy's {policy.timeout:g} s timeout"
            except (httpcore.NetworkError, httpcore.ProtocolError, OSError) as exc:
                return f"{type(exc).__name__}"
            if refused is not None:
                where = f" (after {hop} redirect(s), at {display_url(current)})" if hop else ""
                return f"{refused}{where}{hint}"
            current = str(location)
        return f"more than {policy.max_redirects} redirects"
