"""A real k0s-shaped PKI for the demo controllers, made with ``cryptography``.

CAs (cluster-wide, ten years) and per-controller leaf certificates (one year from the
controller's last start, as k0s re-issues them at start). Keys are EC P-256 **derived from
the demo seed** so a seed always yields the same keys (this is a simulation: never real
secrets). Signing is deterministic where OpenSSL allows it. Results are cached per process
so re-building the same cluster (tests, the stand-in) costs nothing.
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
from datetime import datetime, timedelta

# Path (relative to <data-dir>/pki) -> (common name, organisation, issuer CA, kind).
# kind: "server" (serverAuth + SANs), "client" (clientAuth), "peer" (both + SANs).
LEAVES: dict[str, tuple[str, str, str, str]] = {
    "server.crt": ("kube-apiserver", "", "ca", "server"),
    "admin.crt": ("kubernetes-admin", "system:masters", "ca", "client"),
    "k0s-api.crt": ("k0s-api", "", "ca", "server"),
    "front-proxy-client.crt": ("front-proxy-client", "", "front-proxy-ca", "client"),
    "apiserver-kubelet-client.crt": ("apiserver-kubelet-client", "system:masters", "ca", "client"),
    "apiserver-etcd-client.crt": ("apiserver-etcd-client", "system:masters", "etcd/ca", "client"),
    "etcd/server.crt": ("etcd-server", "", "etcd/ca", "peer"),
    "etcd/peer.crt": ("etcd-peer", "", "etcd/ca", "peer"),
}
CAS: dict[str, str] = {"ca": "kubernetes-ca", "front-proxy-ca": "kubernetes-front-proxy-ca",
                       "etcd/ca": "etcd-ca"}
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
_CACHE: dict[tuple, dict[str, str]] = {}


def pki_file_names(storage: str) -> list[str]:
    """Every file under ``pki/`` on a controller (relative paths, sorted)."""
    names = {"ca.crt", "ca.key", "front-proxy-ca.crt", "front-proxy-ca.key", "sa.key", "sa.pub",
             "admin.conf"}
    for leaf in LEAVES:
        names.add(leaf)
        names.add(leaf[:-4] + ".key")
    if storage == "etcd":
        names |= {"etcd/ca.crt", "etcd/ca.key"}
    else:
        names = {n for n in names if not n.startswith(("etcd/", "apiserver-etcd-client"))}
    return sorted(names)


def _key(seed: int, *parts: object):
    from cryptography.hazmat.primitives.asymmetric import ec

    digest = hashlib.sha256("/".join(map(str, (seed, *parts))).encode()).digest()
    return ec.derive_private_key(int.from_bytes(digest, "big") % (_P256_ORDER - 1) + 1, ec.SECP256R1())


def _pem_key(key) -> str:
    from cryptography.hazmat.primitives import serialization

    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL,
                             serialization.NoEncryption()).decode()


def _sign(builder, key):
    from cryptography.hazmat.primitives import hashes

    try:
        return builder.sign(key, hashes.SHA256(), ecdsa_deterministic=True)
    except Exception:  # noqa: BLE001 - older OpenSSL: randomised ECDSA is fine too
        return builder.sign(key, hashes.SHA256())


def _serial(*parts: object) -> int:
    return int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest()[:16], "big") >> 1


def make_cas(seed: int, created: datetime, storage: str) -> dict[str, str]:
    """The cluster's CAs (10 years from ``created``) and service-account key pair, as PEM texts."""
    cache_key = ("ca", seed, created.isoformat(), storage)
    if cache_key in _CACHE:
        return dict(_CACHE[cache_key])
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import NameOID

    out: dict[str, str] = {}
    for path, cn in CAS.items():
        if path == "etcd/ca" and storage != "etcd":
            continue
        key = _key(seed, "ca", path)
        name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
        builder = (x509.CertificateBuilder().subject_name(name).issuer_name(name)
                   .public_key(key.public_key()).serial_number(_serial(seed, path))
                   .not_valid_before(created).not_valid_after(created + timedelta(days=3650))
                   .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
                   .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=False,
                                                key_encipherment=True, data_encipherment=False,
                                                key_agreement=False, key_cert_sign=True, crl_sign=True,
                                                encipher_only=False, decipher_only=False), critical=True)
                   .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False))
        cert = _sign(builder, key)
        out[f"{path}.crt"] = cert.public_bytes(serialization.Encoding.PEM).decode()
        out[f"{path}.key"] = _pem_key(key)
    sa = _key(seed, "sa")
    out["sa.key"] = _pem_key(sa)
    out["sa.pub"] = sa.public_key().public_bytes(serialization.Encoding.PEM,
                                                 serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    _CACHE[cache_key] = dict(out)
    return out


def make_leaves(seed: int, cas: dict[str, str], *, node: str, address: str, api_address: str,
                issued: datetime, generation: int, storage: str, days: int = 365) -> dict[str, str]:
    """One controller's leaf certificates and keys (valid ``days`` from ``issued``) and admin.conf."""
    cache_key = ("leaf", seed, node, address, api_address, issued.isoformat(), generation, storage, days,
                 hashlib.sha256(cas.get("ca.crt", "").encode()).hexdigest())
    if cache_key in _CACHE:
        return dict(_CACHE[cache_key])
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    out: dict[str, str] = {}
    for path, (cn, org, issuer_path, kind) in LEAVES.items():
        if issuer_path == "etcd/ca" and storage != "etcd":
            continue
        issuer_cert = x509.load_pem_x509_certificate(cas[f"{issuer_path}.crt"].encode())
        issuer_key = serialization.load_pem_private_key(cas[f"{issuer_path}.key"].encode(), None)
        key = _key(seed, node, path, generation)
        attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
        if org:
            attrs.insert(0, x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
        usages = {"server": [ExtendedKeyUsageOID.SERVER_AUTH], "client": [ExtendedKeyUsageOID.CLIENT_AUTH],
                  "peer": [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]}[kind]
        builder = (x509.CertificateBuilder().subject_name(x509.Name(attrs)).issuer_name(issuer_cert.subject)
                   .public_key(key.public_key()).serial_number(_serial(seed, node, path, generation))
                   .not_valid_before(issued).not_valid_after(issued + timedelta(days=days))
                   .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
                   .add_extension(x509.ExtendedKeyUsage(usages), critical=False))
        if kind != "client":
            builder = builder.add_extension(x509.SubjectAlternativeName(
                _sans(path, node, address, api_address)), critical=False)
        cert = _sign(builder, issuer_key)
        out[path] = cert.public_bytes(serialization.Encoding.PEM).decode()
        out[path[:-4] + ".key"] = _pem_key(key)
    out["admin.conf"] = admin_kubeconfig(cas["ca.crt"], out["admin.crt"], out["admin.key"])
    _CACHE[cache_key] = dict(out)
    return out


def _sans(path: str, node: str, address: str, api_address: str) -> list:
    from cryptography import x509

    dns = ["localhost", node]
    ips = ["127.0.0.1", address]
    if path in ("server.crt", "k0s-api.crt"):
        dns = ["kubernetes", "kubernetes.default", "kubernetes.default.svc", "kubernetes.default.svc.cluster",
               "kubernetes.svc.cluster.local", *dns]
        ips = [*ips, "10.96.0.1", api_address]
    seen: list[str] = []
    for ip in ips:
        if ip not in seen:
            seen.append(ip)
    return [x509.DNSName(d) for d in dns] + [x509.IPAddress(ipaddress.ip_address(ip)) for ip in seen]


def admin_kubeconfig(ca_pem: str, cert_pem: str, key_pem: str) -> str:
    """``pki/admin.conf``: the admin kubeconfig with the certificates inlined."""
    b64 = lambda text: base64.b64encode(text.encode()).decode()  # noqa: E731
    return ("apiVersion: v1\nclusters:\n- cluster:\n    server: https://localhost:6443\n"
            f"    certificate-authority-data: {b64(ca_pem)}\n  name: local\ncontexts:\n"
            "- context:\n    cluster: local\n    namespace: default\n    user: user\n  name: Default\n"
            "current-context: Default\nkind: Config\npreferences: {}\nusers:\n- name: user\n  user:\n"
            f"    client-certificate-data: {b64(cert_pem)}\n    client-key-data: {b64(key_pem)}\n")
