"""Certificates of the k0s PKI (``<data-dir>/pki``, including ``pki/etcd``), read over a transport.

k0s re-issues every certificate it manages *except the CAs* each time a controller starts; they
last one year, so a controller that never restarts lets them expire. This module lists the
certificate files of one host, parses them with ``cryptography`` and says how long each has left.

Public API (used by the Certificates pane and the headless CLI):

- :class:`CertInfo` — one certificate file, parsed (or the reason it could not be).
- :func:`scan_pki` — ``await scan_pki(transport, data_dir, sudo=…, now=…) -> list[CertInfo]``.
- :func:`scan_host` — the same for a :class:`~backends.k0s.K0sHost` (its data dir and sudo).
- :func:`parse_certificate` — bytes of one file -> :class:`CertInfo` (no I/O; the demo uses it).
- :func:`nearest_expiry`, :func:`sorted_by_expiry` — what the pane header and table need.

Nothing here raises for a bad file: unreadable, dangling, non-certificate or garbage files come
back as a :class:`CertInfo` with ``error`` set. Host-level failures (unreachable host) propagate
as the transport's :mod:`backends.errors`.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal


from backends.errors import BackendError, HostUnreachable
from backends.k0s.host import K0sHost
from backends.transport.base import Transport


Severity = Literal["ok", "warning", "error", "not-yet-valid"]

#: Fewer days left than this -> "warning".
WARNING_DAYS = 30.0
#: Fewer days left than this (or expired) -> "error".
ERROR_DAYS = 7.0
#: File name patterns listed under the PKI directory.
CERT_PATTERNS = ("*.crt", "*.pem")
#: Concurrent file reads per host (OpenSSH allows 10 sessions per connection; leave room).
READ_CONCURRENCY = 4
#: Certificates are small; anything bigger than this is not one.
MAX_CERT_BYTES = 1 << 20

@dataclass
class CertInfo:
    """One certificate file of a host's PKI.

    ``error`` is ``""`` when the file parsed; otherwise it says why not, and the certificate
    fields keep their empty defaults (``not_after`` None, ``days_left`` None).

    ``days_left`` is computed at scan time from ``now`` (fractional days, negative once
    expired); :meth:`days_left_at` recomputes it for another instant. ``serial`` is lowercase
    hex without separators. ``sans`` are prefixed like openssl prints them (``DNS:kubernetes``,
    ``IP:10.96.0.1``, ``URI:…``, ``email:…``). When a PEM file holds several certificates the
    first is described and ``cert_count`` says how many there were.
    """

    host: str
    path: str
    subject_cn: str = ""
    issuer_cn: str = ""
    serial: str = ""
    not_before: datetime | None = None
    not_after: datetime | None = None
    days_left: float | None = None
    is_ca: bool = False
    key_type: str = ""  # "RSA", "EC", "Ed25519", "Ed448", "DSA", "unknown"
    key_size: int | None = None
    sans: list[str] = field(default_factory=list)
    error: str = ""
    cert_count: int = 0
    subject: str = ""  # full RFC 4514 subject
    issuer: str = ""  # full RFC 4514 issuer
    fingerprint_sha256: str = ""  # hex, of the DER encoding

    @property
    def ok(self) -> bool:
        """True when the file parsed as a certificate."""
        return not self.error

    @property
    def name(self) -> str:
        """The file name relative to the PKI dir when recognisable (``etcd/server.crt``)."""
        marker = "/pki/"
        i = self.path.rfind(marker)
        return self.path[i + len(marker):] if i >= 0 else self.path

    @property
    def self_signed(self) -> bool:
        """Subject equals issuer (a root CA, usually)."""
        return bool(self.subject) and self.subject == self.issuer

    @property
    def renewed_by_restart(self) -> bool:
        """k0s re-issues this certificate when the controller restarts (all but CAs)."""
        return self.ok and not self.is_ca

    def days_left_at(self, now: datetime | None = None) -> float | None:
        """Days from ``now`` (default: current UTC time) to ``not_after``; None on error."""
        if self.not_after is None:
            return None
        return (self.not_after - _utc(now)).total_seconds() / 86400.0

    def severity(self, now: datetime | None = None) -> Severity:
        """"ok", "warning" (< 30 days left), "error" (< 7 days, expired, or unreadable file),
        or "not-yet-valid" (``not_before`` is in the future: clock skew between hosts)."""
        if self.error or self.not_after is None or self.not_before is None:
            return "error"
        t = _utc(now)
        if self.not_before > t:
            return "not-yet-valid"
        left = self.days_left_at(t)
        assert left is not None
        if left < ERROR_DAYS:
            return "error"
        if left < WARNING_DAYS:
            return "warning"
        return "ok"


def _utc(now: datetime | None) -> datetime:
    if now is None:
        return datetime.now(UTC)
    if now.tzinfo is None:  # naive datetimes are taken as UTC, never as local time
        return now.replace(tzinfo=UTC)
    return now


def parse_certificate(
    data: bytes, *, host: str = "", path: str = "", now: datetime | None = None
) -> CertInfo:
    """Describe the (first) certificate in ``data``; a :class:`CertInfo` with ``error`` set
    when ``data`` holds no parseable certificate. Never raises for bad input."""
    # Imported on first use: ``cryptography`` costs start-up time a first frame does not need.
    from backends.k0s.x509parse import parse_certificate_bytes

    return parse_certificate_bytes(data, host=host, path=path, now=now)


def _find_argv(pki_dir: str) -> list[str]:
    # No -type filter on purpose: a dangling symlink or a directory named *.crt is listed so it
    # can be reported as a problem instead of silently vanishing. -print0 survives odd names.
    names: list[str] = []
    for i, pat in enumerate(CERT_PATTERNS):
        if i:
            names.append("-o")
        names += ["-name", pat]
    # A start point looking like an expression (`-x`, `(`, `!`) is the danger and `--` support
    # varies across find implementations: one that is not absolute gets `./`, as GNU tar does.
    start = pki_dir if pki_dir.startswith("/") else "./" + pki_dir
    return ["find", start, "-mindepth", "1", "(", *names, ")", "-print0"]


# find's complaints: GNU `find: 'path': msg` (‘’ quotes in UTF-8 locales), busybox `find: path: msg`.
_FIND_ERR = re.compile(r"^find: [‘'`\"]?(?P<path>.+?)[’'\"]?: (?P<msg>[^:]+)$")


def _find_errors(host: str, pki_dir: str, stderr: str) -> list[CertInfo]:
    out: list[CertInfo] = []
    for line in stderr.splitlines():
        line = line.strip()
        if not line:
            continue
        m = _FIND_ERR.match(line)
        if m:
            out.append(CertInfo(host=host, path=m["path"], error=f"cannot list: {m['msg']}"))
        else:
            out.append(CertInfo(host=host, path=pki_dir, error=f"cannot list: {line}"))
    return out


async def _read_one(
    transport: Transport, path: str, *, sudo: bool, now: datetime, sem: asyncio.Semaphore
) -> CertInfo:
    host = transport.host
    async with sem:
        try:
            data = await transport.read_file(path, sudo=sudo, max_bytes=MAX_CERT_BYTES)
        except HostUnreachable:
            raise  # the host is gone: a host-level error, not a property of this file
        except FileNotFoundError:
            return CertInfo(host=host, path=path,
                            error="cannot read: no such file (dangling symlink?)")
        except IsADirectoryError:
            return CertInfo(host=host, path=path, error="cannot read: is a directory")
        except PermissionError:
            return CertInfo(host=host, path=path,
                            error="cannot read: permission denied (try --sudo)")
        except (OSError, BackendError, ValueError) as exc:
            return CertInfo(host=host, path=path, error=f"cannot read: {exc}")
    return parse_certificate(data, host=host, path=path, now=now)


async def scan_pki(
    transport: Transport,
    data_dir: str = "/var/lib/k0s",
    *,
    sudo: bool = False,
    now: datetime | None = None,
) -> list[CertInfo]:
    """List and parse every ``*.crt`` / ``*.pem`` under ``<data_dir>/pki`` (recursively, so
    ``pki/etcd`` too) on the transport's host.

    Runs ``find <data_dir>/pki -mindepth 1 ( -name '*.crt' -o -name '*.pem' ) -print0``, then
    reads each file with ``transport.read_file`` (both with ``sudo`` when asked: the PKI is
    root-only on a real controller). Returns the files sorted by path. A missing or unlistable
    PKI directory comes back as one :class:`CertInfo` whose ``path`` is the directory and whose
    ``error`` says why; a worker has no PKI, so expect exactly that there.

    Raises only host-level errors (:class:`~backends.errors.HostUnreachable`,
    :class:`~backends.errors.CommandTimeout`, :class:`~backends.errors.SudoPasswordRequired`
    from the listing).
    """
    t = _utc(now)
    pki_dir = data_dir.rstrip("/") + "/pki" if data_dir.rstrip("/") else "/pki"
    host = transport.host
    res = await transport.run(_find_argv(pki_dir), sudo=sudo)
    paths = sorted({p for p in res.stdout.decode("utf-8", "surrogateescape").split("\0") if p})
    problems: list[CertInfo] = []
    if not res.ok:
        problems = _find_errors(host, pki_dir, res.stderr_text)
        if not problems:
            problems = [CertInfo(host=host, path=pki_dir,
                                 error=f"cannot list: find exited {res.exit_status}")]
    sem = asyncio.Semaphore(READ_CONCURRENCY)
    infos = await asyncio.gather(*(_read_one(transport, p, sudo=sudo, now=t, sem=sem)
                                   for p in paths))
    return sorted([*infos, *problems], key=lambda c: c.path)


async def scan_host(host: K0sHost, *, now: datetime | None = None) -> list[CertInfo]:
    """:func:`scan_pki` on a k0s host, with its data dir and sudo setting."""
    return await scan_pki(host.transport, host.spec.data_dir, sudo=host.sudo, now=now)


def nearest_expiry(certs: Iterable[CertInfo]) -> CertInfo | None:
    """The parsed certificate whose ``not_after`` comes first (error entries ignored)."""
    good = [c for c in certs if c.ok and c.not_after is not None]
    return min(good, key=lambda c: c.not_after) if good else None  # type: ignore[arg-type,return-value]


def sorted_by_expiry(certs: Iterable[CertInfo]) -> list[CertInfo]:
    """Unreadable files first (they need a look), then by ``not_after``, then host and path."""
    far = datetime.max.replace(tzinfo=UTC)

    def key(c: CertInfo) -> tuple[int, datetime, str, str]:
        return (0 if c.error else 1, c.not_after or far, c.host, c.path)

    return sorted(certs, key=key)
