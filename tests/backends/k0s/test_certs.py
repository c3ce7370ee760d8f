"""Certificates of the k0s PKI: real certificate files made here with `cryptography`, read back
over the local transport and over a real sshd, parsed and classified."""

from __future__ import annotations

import ipaddress
import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.x509.oid import NameOID

from backends.k0s.certs import (
    CertInfo,
    nearest_expiry,
    parse_certificate,
    scan_pki,
    sorted_by_expiry,
)

NOW = datetime.now(UTC).replace(microsecond=0)
DAY = timedelta(days=1)


# --------------------------------------------------------------------------- a PKI, for real


def _name(cn: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])


@dataclass
class Issuer:
    name: x509.Name
    key: object


def make_cert(
    cn: str,
    *,
    key=None,
    issuer: Issuer | None = None,
    not_before: datetime = NOW - 30 * DAY,
    not_after: datetime = NOW + 335 * DAY,
    ca: bool = False,
    sans: list[x509.GeneralName] | None = None,
    serial: int | None = None,
) -> tuple[x509.Certificate, object]:
    """A certificate signed by ``issuer`` (self-signed when None) and its private key."""
    key = key or ec.generate_private_key(ec.SECP256R1())
    signer = issuer or Issuer(_name(cn), key)
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(cn))
        .issuer_name(signer.name)
        .public_key(key.public_key())
        .serial_number(serial or x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    algo = None if isinstance(signer.key, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    return builder.sign(signer.key, algo), key


def pem(cert: x509.Certificate) -> bytes:
    return cert.public_bytes(serialization.Encoding.PEM)


def build_pki(data_dir: Path) -> dict[str, x509.Certificate]:
    """A k0s-like PKI under ``data_dir/pki`` with one certificate per situation to tell apart."""
    pki = data_dir / "pki"
    (pki / "etcd").mkdir(parents=True)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca, ca_key = make_cert("kubernetes-ca", key=rsa_key, ca=True,
                           not_before=NOW - 100 * DAY, not_after=NOW + 3550 * DAY)
    ca_issuer = Issuer(ca.subject, ca_key)
    etcd_ca, etcd_ca_key = make_cert("etcd-ca", key=ed25519.Ed25519PrivateKey.generate(),
                                     ca=True, not_after=NOW + 3600 * DAY)
    etcd_issuer = Issuer(etcd_ca.subject, etcd_ca_key)
    certs = {
        "ca.crt": ca,
        "server.crt": make_cert(
            "kube-apiserver", issuer=ca_issuer, serial=0xC0FFEE,
            sans=[x509.DNSName("kubernetes"), x509.DNSName("kubernetes.default.svc"),
                  x509.IPAddress(ipaddress.ip_address("10.96.0.1"))])[0],
        "admin.crt": make_cert("admin", issuer=ca_issuer, not_before=NOW - 367 * DAY,
                               not_after=NOW - 2 * DAY)[0],
        "front-proxy-client.crt": make_cert("front-proxy-client", issuer=ca_issuer,
                                            not_before=NOW + 2 * DAY,
                                            not_after=NOW + 367 * DAY)[0],
        "etcd/ca.crt": etcd_ca,
        "etcd/server.crt": make_cert("etcd-server", issuer=etcd_issuer,
                                     not_after=NOW + 3 * DAY)[0],
        "etcd/peer.crt": make_cert("etcd-peer", issuer=etcd_issuer, not_after=NOW + 20 * DAY)[0],
    }
    for rel, cert in certs.items():
        (pki / rel).write_bytes(pem(cert))
    # A bundle: two certificates in one .pem; the first is described, the count kept.
    bundle_first = make_cert("bundle-leaf", issuer=ca_issuer, not_after=NOW + 200 * DAY)[0]
    (pki / "bundle.pem").write_bytes(pem(bundle_first) + pem(ca))
    certs["bundle.pem"] = bundle_first
    # Things that are not certificates at all.
    (pki / "garbage.crt").write_bytes(os.urandom(300))
    (pki / "sa.key").write_bytes(b"not listed: wrong extension")
    key_pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption())
    (pki / "key-only.pem").write_bytes(key_pem)
    # Unreadable even for root: a dangling symlink and a directory with a certificate's name.
    (pki / "broken.crt").symlink_to(pki / "does-not-exist.crt")
    (pki / "etcd" / "dir.crt").mkdir()
    return certs


# --------------------------------------------------------------------------- parsing (no I/O)


def test_parse_certificate_fields() -> None:
    ca, ca_key = make_cert("ca", key=rsa.generate_private_key(public_exponent=65537,
                                                              key_size=2048), ca=True)
    leaf, _ = make_cert("kube-apiserver", issuer=Issuer(ca.subject, ca_key), serial=0xABCDEF12,
                        sans=[x509.DNSName("kubernetes"),
                              x509.IPAddress(ipaddress.ip_address("10.96.0.1"))],
                        not_after=NOW + 10 * DAY)
    info = parse_certificate(pem(leaf) + pem(ca), host="h1", path="/x/pki/server.crt", now=NOW)
    assert info.ok and info.error == ""
    assert (info.subject_cn, info.issuer_cn) == ("kube-apiserver", "ca")
    assert info.serial == "abcdef12"
    assert info.sans == ["DNS:kubernetes", "IP:10.96.0.1"]
    assert info.is_ca is False and info.renewed_by_restart
    assert (info.key_type, info.key_size) == ("EC", 256)
    assert info.cert_count == 2
    assert info.days_left == pytest.approx(10.0, abs=1e-6)
    assert info.not_after == NOW + 10 * DAY and info.not_before == NOW - 30 * DAY
    assert info.name == "server.crt" and not info.self_signed
    assert info.severity(NOW) == "warning"
    assert len(info.fingerprint_sha256) == 64

    ca_info = parse_certificate(ca.public_bytes(serialization.Encoding.DER), now=NOW)
    assert ca_info.ok and ca_info.is_ca and ca_info.self_signed and not ca_info.renewed_by_restart
    assert (ca_info.key_type, ca_info.key_size, ca_info.cert_count) == ("RSA", 2048, 1)


def test_severity_thresholds_and_naive_now() -> None:
    cert, _ = make_cert("x", not_after=NOW + 30 * DAY)
    info = parse_certificate(pem(cert), now=NOW)
    assert info.severity(NOW) == "ok"  # exactly 30 days: not yet a warning
    assert info.severity(NOW + timedelta(seconds=1)) == "warning"
    assert info.severity(NOW + 23 * DAY) == "warning"  # 7 days left
    assert info.severity(NOW + 23 * DAY + timedelta(seconds=1)) == "error"
    assert info.severity(NOW + 31 * DAY) == "error"  # expired
    assert info.days_left_at(NOW + 31 * DAY) == pytest.approx(-1.0)
    # naive datetimes are UTC
    assert info.severity((NOW + 31 * DAY).replace(tzinfo=None)) == "error"
    assert info.severity(NOW - 31 * DAY) == "not-yet-valid"


@pytest.mark.parametrize("data, fragment", [
    (b"", "empty file"),
    (b"\x00\x01garbage" * 20, "not a readable certificate"),
    (b"-----BEGIN CERTIFICATE-----\nnot base64!!\n-----END CERTIFICATE-----\n",
     "not a readable certificate"),
    (b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n", "PRIVATE KEY"),
])
def test_bad_data_is_reported_not_raised(data: bytes, fragment: str) -> None:
    info = parse_certificate(data, host="h", path="/p/x.crt", now=NOW)
    assert not info.ok and fragment in info.error
    assert info.severity(NOW) == "error" and info.not_after is None and info.days_left is None
    assert info.subject_cn == "" and info.cert_count == 0


def test_nearest_and_sorting_ignore_errors() -> None:
    a = parse_certificate(pem(make_cert("a", not_after=NOW + 5 * DAY)[0]), host="h1", path="a")
    b = parse_certificate(pem(make_cert("b", not_after=NOW + 2 * DAY)[0]), host="h2", path="b")
    bad = CertInfo(host="h1", path="c", error="cannot read: is a directory")
    assert nearest_expiry([a, bad, b]) is b
    assert nearest_expiry([bad]) is None and nearest_expiry([]) is None
    assert [c.path for c in sorted_by_expiry([a, b, bad])] == ["c", "b", "a"]


# --------------------------------------------------------------------------- over transports


def _check_scan(result: list[CertInfo], data_dir: Path, host: str,
                made: dict[str, x509.Certificate]) -> None:
    by = {c.name: c for c in result}
    assert set(by) == {
        "ca.crt", "server.crt", "admin.crt", "front-proxy-client.crt", "bundle.pem",
        "etcd/ca.crt", "etcd/server.crt", "etcd/peer.crt",
        "garbage.crt", "key-only.pem", "broken.crt", "etcd/dir.crt",
    }, sorted(by)
    assert all(c.host == host for c in result)
    assert all(c.path.startswith(str(data_dir / "pki") + "/") for c in result)
    for rel, cert in made.items():
        info = by[rel]
        assert info.ok, (rel, info.error)
        assert info.serial == format(cert.serial_number, "x")
        assert info.not_after == cert.not_valid_after_utc
    sev = {name: c.severity(NOW) for name, c in by.items()}
    assert sev == {
        "ca.crt": "ok", "server.crt": "ok", "bundle.pem": "ok", "etcd/ca.crt": "ok",
        "admin.crt": "error",  # expired two days ago
        "etcd/server.crt": "error",  # 3 days left
        "etcd/peer.crt": "warning",  # 20 days left
        "front-proxy-client.crt": "not-yet-valid",
        "garbage.crt": "error", "key-only.pem": "error", "broken.crt": "error",
        "etcd/dir.crt": "error",
    }
    assert by["admin.crt"].days_left == pytest.approx(-2.0, abs=1e-3)
    assert by["etcd/server.crt"].days_left == pytest.approx(3.0, abs=1e-3)
    assert by["ca.crt"].is_ca and by["etcd/ca.crt"].is_ca and not by["server.crt"].is_ca
    assert (by["ca.crt"].key_type, by["ca.crt"].key_size) == ("RSA", 2048)
    assert by["etcd/ca.crt"].key_type == "Ed25519"
    assert by["etcd/server.crt"].issuer_cn == "etcd-ca"
    assert by["server.crt"].serial == "c0ffee"
    assert "IP:10.96.0.1" in by["server.crt"].sans
    assert by["bundle.pem"].cert_count == 2 and by["bundle.pem"].subject_cn == "bundle-leaf"
    assert "not a readable certificate" in by["garbage.crt"].error
    assert "PRIVATE KEY" in by["key-only.pem"].error
    for bad in ("broken.crt", "etcd/dir.crt"):
        assert by[bad].error.startswith("cannot read"), by[bad].error
    assert nearest_expiry(result) is by["admin.crt"]
    assert sorted_by_expiry(result)[0].error  # problems first


@pytest.fixture
def ssh_transport_factory(sshd_server):
    """Build SSHTransports to the shared real sshd (root login; the test closes them)."""
    from backends.transport.ssh.transport import SSHTransport

    async def make(name: str = "ssh-ctrl"):
        return SSHTransport(sshd_server.host_spec(name), sshd_server.settings())
    return make


@pytest.fixture
def pki_dir(tmp_path: Path) -> tuple[Path, dict[str, x509.Certificate]]:
    data_dir = tmp_path / "k0s"
    return data_dir, build_pki(data_dir)


async def test_scan_pki_over_local_transport(pki_dir) -> None:
    from backends.transport.local import LocalTransport

    data_dir, made = pki_dir
    transport = LocalTransport()
    try:
        result = await scan_pki(transport, str(data_dir), now=NOW)
        _check_scan(result, data_dir, transport.host, made)
    finally:
        await transport.close()


async def test_scan_pki_missing_dir_is_one_error_row(tmp_path: Path) -> None:
    from backends.transport.local import LocalTransport

    transport = LocalTransport()
    try:
        result = await scan_pki(transport, str(tmp_path / "worker-has-no-pki"), now=NOW)
    finally:
        await transport.close()
    assert len(result) == 1
    row = result[0]
    assert row.path == str(tmp_path / "worker-has-no-pki" / "pki")
    assert row.error.startswith("cannot list") and "No such file" in row.error
    assert nearest_expiry(result) is None


@pytest.mark.timeout(60)
async def test_scan_pki_over_real_ssh(pki_dir, ssh_transport_factory) -> None:
    """Same PKI, read through a real sshd on 127.0.0.1 with the project's SSH transport."""
    data_dir, made = pki_dir
    transport = await ssh_transport_factory()
    try:
        result = await scan_pki(transport, str(data_dir), now=NOW)
        _check_scan(result, data_dir, transport.host, made)
    finally:
        await transport.close()


# --------------------------------------------------------------------------- the demo cluster


async def test_scan_on_the_demo_cluster() -> None:
    """The demo carries a real PKI: every controller's files parse, CAs are CAs, one host's
    leaves expire within days, workers have no PKI."""
    from backends.demo import DemoCluster, demo_inventory, make_demo_transport
    from backends.k0s.certs import scan_host
    from backends.k0s.host import K0sHost

    cluster = DemoCluster()
    hosts = [K0sHost(h, make_demo_transport(cluster, h)) for h in demo_inventory(cluster).hosts]
    now = cluster.now()
    fleet: list[CertInfo] = []
    for host in hosts:
        certs = await scan_host(host, now=now)
        if host.spec.is_controller:
            assert certs and all(c.ok for c in certs), [c.error for c in certs]
            names = {c.name for c in certs}
            assert {"ca.crt", "server.crt", "admin.crt"} <= names
            assert all(c.is_ca == c.name.endswith("ca.crt") for c in certs)
            assert all(c.host == host.name for c in certs)
            fleet += certs
        else:
            assert len(certs) == 1 and certs[0].error.startswith("cannot list")
    soon = {c.host for c in fleet if c.severity(now) == "error"}
    assert len(soon) == 1  # one controller that has not restarted for almost a year
    nearest = nearest_expiry(fleet)
    assert nearest is not None and nearest.host in soon and nearest.renewed_by_restart
    assert 0 < nearest.days_left < 7
    assert all(c.severity(now) == "ok" for c in fleet if c.is_ca)


@pytest.mark.timeout(90)
async def test_unprivileged_login_reports_unreadable_files_and_sudo_needs(
        sshd_server, sudo_user: str) -> None:
    """A root-only PKI read by a non-root SSH user: each unreadable file/dir is a row, not a
    crash; asking for sudo where sudo wants a password is a host-level error."""
    import shutil
    import tempfile

    from backends.errors import SudoPasswordRequired
    from backends.transport.ssh.transport import SSHTransport

    base = Path(tempfile.mkdtemp(prefix="k0s-certs-"))
    try:
        base.chmod(0o755)
        build_pki(base / "k0s")
        pki = base / "k0s" / "pki"
        for p in [base / "k0s", pki]:
            p.chmod(0o755)
        (pki / "etcd").chmod(0o700)  # root-only directory: find cannot enter it
        (pki / "admin.crt").chmod(0o600)  # root-only file: cat is refused
        for p in pki.glob("*.crt"):
            if p.name != "admin.crt" and not p.is_symlink():
                p.chmod(0o644)
        transport = SSHTransport(sshd_server.host_spec("ssh-user", user=sudo_user),
                                 sshd_server.settings())
        try:
            rows = await scan_pki(transport, str(base / "k0s"), now=NOW)
            by = {c.name: c for c in rows}
            assert by["admin.crt"].error == "cannot read: permission denied (try --sudo)"
            assert by["etcd"].error == "cannot list: Permission denied"
            assert by["server.crt"].ok and by["ca.crt"].ok
            assert not any(name.startswith("etcd/") for name in by)
            with pytest.raises(SudoPasswordRequired):
                await scan_pki(transport, str(base / "k0s"), sudo=True, now=NOW)
        finally:
            await transport.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
