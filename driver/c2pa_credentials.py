"""The certificate chain and key that sign every result's C2PA manifest: from the environment only.

A worker takes them from `UGC_SWAP_C2PA_CERT_CHAIN` / `UGC_SWAP_C2PA_KEY` (PEM text, e.g. Runpod secrets) or from
files named by `UGC_SWAP_C2PA_CERT_CHAIN_FILE` / `UGC_SWAP_C2PA_KEY_FILE` (a mounted secret); never from the
image or the repository. The key is kept out of every repr and message. `local_credentials` makes a throwaway
chain for the CLI's local runs, which the manifest then names as an untrusted local signer.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

ENV_CHAIN, ENV_KEY = "UGC_SWAP_C2PA_CERT_CHAIN", "UGC_SWAP_C2PA_KEY"


@dataclass(frozen=True)
class C2paCredentials:
    chain_pem: bytes  # the signing (leaf) certificate first, then its CA(s)
    key_pem: bytes = field(repr=False)  # PKCS#8 EC P-256 private key of the leaf
    local: bool = False  # a throwaway chain made on this machine (CLI runs), trusted by nobody

    @property
    def signer_name(self) -> str:
        leaf = x509.load_pem_x509_certificates(self.chain_pem)[0]
        names = leaf.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
        return str(names[0].value) if names else leaf.subject.rfc4514_string()


def credentials_from_env(environ: Mapping[str, str], problems: list[str]) -> C2paCredentials | None:
    """The configured chain and key, or None when neither is set; what is wrong goes to `problems` (never the key)."""
    chain = _pem(environ, ENV_CHAIN, problems)
    key = _pem(environ, ENV_KEY, problems)
    if chain is None and key is None:
        return None
    if chain is None or key is None:
        missing = ENV_CHAIN if chain is None else ENV_KEY
        problems.append(f"{missing} (or {missing}_FILE) is missing: a C2PA signer needs both its certificate chain "
                        "and its key")
        return None
    return checked(C2paCredentials(chain, key), problems)


def checked(credentials: C2paCredentials, problems: list[str]) -> C2paCredentials | None:
    """The credentials if the key is an EC P-256 key that belongs to the chain's first certificate."""
    try:
        certificates = x509.load_pem_x509_certificates(credentials.chain_pem)
    except ValueError:
        problems.append(f"{ENV_CHAIN}: not a PEM certificate chain")
        return None
    try:
        key = serialization.load_pem_private_key(credentials.key_pem, password=None)
    except (ValueError, TypeError):
        problems.append(f"{ENV_KEY}: not an unencrypted PEM private key")
        return None
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        problems.append(f"{ENV_KEY}: C2PA signing here uses ES256, so the key must be EC P-256")
        return None
    if key.public_key().public_numbers() != certificates[0].public_key().public_numbers():  # type: ignore[union-attr]
        problems.append(f"{ENV_KEY} does not belong to the first certificate of {ENV_CHAIN}")
        return None
    return credentials


def _pem(environ: Mapping[str, str], name: str, problems: list[str]) -> bytes | None:
    text = environ.get(name, "").strip()
    path = environ.get(f"{name}_FILE", "").strip()
    if text and path:
        problems.append(f"set {name} or {name}_FILE, not both")
        return None
    if path:
        try:
            return Path(path).read_bytes()
        except OSError as error:
            problems.append(f"{name}_FILE: cannot read {path} ({error.strerror})")
            return None
    return (text + "\n").encode() if text else None  # PEM as a file ends: with a newline (the value was stripped)


def make_chain(organisation: str, days: int = 365) -> tuple[C2paCredentials, bytes]:
    """A new CA and a signing certificate under it, shaped as C2PA validators want them (key usage digital
    signature, extended key usage email protection, key identifiers): the credentials and the CA's PEM."""
    now = datetime.datetime.now(datetime.timezone.utc)

    def name(common_name: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name),
                          x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation)])

    def usage(sign_certs: bool) -> x509.KeyUsage:
        return x509.KeyUsage(digital_signature=not sign_certs, content_commitment=False, key_encipherment=False,
                             data_encipherment=False, key_agreement=False, key_cert_sign=sign_certs,
                             crl_sign=sign_certs, encipher_only=False, decipher_only=False)

    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    valid = (now - datetime.timedelta(days=1), now + datetime.timedelta(days=days))
    ca = (x509.CertificateBuilder().subject_name(name(f"{organisation} CA")).issuer_name(name(f"{organisation} CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(valid[0]).not_valid_after(valid[1])
          .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
          .add_extension(usage(True), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(name(f"{organisation} signer")).issuer_name(ca.subject)
            .public_key(leaf_key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(valid[0]).not_valid_after(valid[1])
            .add_extension(usage(False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(leaf_key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = leaf_key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return C2paCredentials(leaf.public_bytes(pem) + ca.public_bytes(pem), key_pem), ca.public_bytes(pem)


def local_credentials(folder: Path) -> C2paCredentials:
    """This machine's throwaway signer for local CLI runs, made once and kept in `folder` (outside the clone)."""
    chain_path, key_path = folder / "local_chain.pem", folder / "local_key.pem"
    if not (chain_path.is_file() and key_path.is_file()):
        credentials, _ = make_chain("ugc-swap local (untrusted)")
        folder.mkdir(parents=True, exist_ok=True)
        key_path.touch(mode=0o600)
        key_path.write_bytes(credentials.key_pem)
        chain_path.write_bytes(credentials.chain_pem)
    return C2paCredentials(chain_path.read_bytes(), key_path.read_bytes(), local=True)


def trust_anchors(credentials: C2paCredentials | None, extra_pem: str | None) -> bytes | None:
    """What a worker trusts when it verifies a video: the CA(s) of its own signing chain (everything after the
    leaf) and any given in UGC_SWAP_C2PA_TRUST_ANCHORS."""
    anchors = b""
    if credentials is not None:
        issuers = x509.load_pem_x509_certificates(credentials.chain_pem)[1:]
        anchors += b"".join(c.public_bytes(serialization.Encoding.PEM) for c in issuers)
    if extra_pem:
        anchors += extra_pem.encode()
    return anchors or None
