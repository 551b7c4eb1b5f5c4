"""Parse `strace -e trace=connect` output into destinations and classify them (loopback or not)."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass

# Also matches a call strace split with `<unfinished ...>` (its `<... connect resumed>` line has no address).
CONNECT = re.compile(r"connect\(\d+, \{sa_family=(?P<family>AF_[A-Z0-9]+)(?P<rest>[^}]*)\}")
INET = re.compile(r'sin_port=htons\((?P<port>\d+)\), sin_addr=inet_addr\("(?P<addr>[^"]+)"\)')
INET6 = re.compile(r'sin6_port=htons\((?P<port>\d+)\).*inet_pton\(AF_INET6, "(?P<addr>[^"]+)"')
UNIX = re.compile(r'sun_path=(?P<path>@?"[^"]*")')


@dataclass(frozen=True)
class Destination:
    family: str
    address: str
    port: int | None

    @property
    def is_loopback(self) -> bool:
        if self.family == "AF_UNIX":
            return True  # a local socket file, not the network
        if self.family == "AF_UNSPEC":
            return True  # getaddrinfo dissolving a UDP association: no destination
        if self.family in ("AF_INET", "AF_INET6"):
            addr = ipaddress.ip_address(self.address)
            mapped = getattr(addr, "ipv4_mapped", None)
            return addr.is_loopback or bool(mapped and mapped.is_loopback)
        return False


def connects(trace: str) -> list[Destination]:
    """Every connect() in the trace; lines that mention connect( but cannot be parsed raise ValueError."""
    out = []
    for line in trace.splitlines():
        if "connect(" not in line:
            continue
        match = CONNECT.search(line)
        if match is None:
            raise ValueError(f"unparsed connect line: {line}")
        family, rest = match["family"], match["rest"]
        pattern = {"AF_INET": INET, "AF_INET6": INET6}.get(family)
        if pattern is not None and (m := pattern.search(rest)):
            out.append(Destination(family, m["addr"], int(m["port"])))
        elif family == "AF_UNIX":
            m = UNIX.search(rest)
            out.append(Destination(family, m["path"] if m else "", None))
        elif family == "AF_UNSPEC":
            out.append(Destination(family, "", None))
        else:
            raise ValueError(f"unparsed {family} connect: {line}")
    return out


def non_loopback(trace: str) -> list[Destination]:
    return [d for d in connects(trace) if not d.is_loopback]
