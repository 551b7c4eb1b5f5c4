"""The strace parser the network assertions rely on: it must flag what is not loopback."""

from __future__ import annotations

import pytest

from tests.moat.strace_connects import Destination, connects, non_loopback

TRACE = """\
101 connect(3, {sa_family=AF_INET, sin_port=htons(4010), sin_addr=inet_addr("127.0.0.1")}, 16) = -1 EINPROGRESS
102 connect(5, {sa_family=AF_UNIX, sun_path="/var/run/nscd/socket"}, 110) = -1 ENOENT (No such file or directory)
103 connect(6, {sa_family=AF_INET6, sin6_port=htons(4000), sin6_flowinfo=htonl(0), inet_pton(AF_INET6, "::1", \
&sin6_addr), sin6_scope_id=0}, 28) = 0
104 connect(7, {sa_family=AF_UNSPEC, sa_data="\\0\\0\\0\\0"}, 16) = 0
106 connect(8, {sa_family=AF_INET, sin_port=htons(4010), sin_addr=inet_addr("127.0.0.1")}, 16 <unfinished ...>
106 <... connect resumed>) = 0
105 +++ exited with 0 +++
"""


def test_loopback_unix_and_unspec_are_not_network_destinations():
    found = connects(TRACE)
    assert [d.family for d in found] == ["AF_INET", "AF_UNIX", "AF_INET6", "AF_UNSPEC", "AF_INET"]
    assert found[0] == Destination("AF_INET", "127.0.0.1", 4010)
    assert non_loopback(TRACE) == []


@pytest.mark.parametrize(
    ("line", "address"),
    [
        (
            'connect(3, {sa_family=AF_INET, sin_port=htons(443), sin_addr=inet_addr("185.199.108.133")}, 16) = -1',
            "185.199.108.133",
        ),
        ('connect(4, {sa_family=AF_INET, sin_port=htons(53), sin_addr=inet_addr("10.0.0.2")}, 16) = 0', "10.0.0.2"),
        (
            "connect(9, {sa_family=AF_INET6, sin6_port=htons(443), sin6_flowinfo=htonl(0), "
            'inet_pton(AF_INET6, "2606:4700::1", &sin6_addr), sin6_scope_id=0}, 28) = -1 ENETUNREACH',
            "2606:4700::1",
        ),
    ],
)
def test_outbound_destinations_are_flagged(line, address):
    assert [d.address for d in non_loopback(f"{TRACE}200 {line}\n")] == [address]


def test_an_unparsable_connect_line_is_an_error_not_a_pass():
    with pytest.raises(ValueError, match="unparsed"):
        connects("300 connect(3, {sa_family=AF_NETLINK, nl_pid=0, nl_groups=00000000}, 12) = 0\n")
