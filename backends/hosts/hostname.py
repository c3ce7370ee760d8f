"""Host and user names safe to hand to ssh: host-name, IPv4 or IPv6 syntax only.

A host name reaches a user's ``ProxyCommand … %h`` or ``Match exec`` in ~/.ssh/config, which
a shell runs; OpenSSH 9.6 refuses shell metacharacters there since CVE-2023-51385. This is
stricter, as the issue asks: a DNS-style name (labels of letters, digits, ``-`` and ``_``, no
label starting or ending with ``-``, at most 63 bytes a label and 253 in all, one trailing dot
allowed), a dotted-quad IPv4 address, or an IPv6 address (an optional ``%zone`` of letters,
digits, ``.``, ``_`` and ``-``). User names follow OpenSSH's ``valid_ruser`` spirit: no shell
metacharacters, no leading ``-``.
"""

from __future__ import annotations

import ipaddress
import re

_LABEL = re.compile(r"^[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?$")
_ZONE = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_USER = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,63}\$?$")


def host_problem(address: str) -> str | None:
    """Why ``address`` is not a host name or IP address, or None when it is one."""
    if not isinstance(address, str) or not address:
        return "empty host name"
    if ":" in address:
        addr, _, zone = address.partition("%")
        try:
            ipaddress.IPv6Address(addr)
        except ValueError:
            return "not an IPv6 address"
        if "%" in address and not _ZONE.match(zone):
            return "IPv6 zone holds characters other than letters, digits, '.', '_', '-'"
        return None
    if re.fullmatch(r"[0-9.]+", address):
        try:
            ipaddress.IPv4Address(address)
        except ValueError:
            return "not an IPv4 address"
        return None
    name = address[:-1] if address.endswith(".") else address
    if len(name) > 253:
        return "longer than 253 characters"
    for label in name.split("."):
        if not _LABEL.match(label):
            return ("only letters, digits, '-', '_' and '.' are allowed in a host name "
                    "(no label may start or end with '-')")
    return None


def user_problem(user: str) -> str | None:
    """Why ``user`` is not a safe login name, or None."""
    if not isinstance(user, str) or not _USER.match(user):
        return ("a user name holds letters, digits, '.', '_', '-' (not first) and at most "
                "64 characters")
    return None
