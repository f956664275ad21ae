"""Makes a throwaway PKI for the TLS tests: a CA, a server certificate for 127.0.0.1 and
localhost, and a client certificate, all written as PEM files (with `cryptography`)."""
import datetime
import ipaddress
import os

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


def _name(common_name):
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _write_key(key, path):
    with open(path, "wb") as f:
        f.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                  serialization.NoEncryption()))


def _write_cert(cert, path):
    with open(path, "wb") as f:
        f.write(cert.public_bytes(serialization.Encoding.PEM))


def _issue(subject, public_key, issuer_name, issuer_key, *, ca=False, usage=None, san=None):
    now = datetime.datetime.now(datetime.timezone.utc)
    builder = (x509.CertificateBuilder().subject_name(_name(subject)).issuer_name(issuer_name)
               .public_key(public_key).serial_number(x509.random_serial_number())
               .not_valid_before(now - datetime.timedelta(minutes=5)).not_valid_after(now + datetime.timedelta(days=1))
               .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if san:
        builder = builder.add_extension(x509.SubjectAlternativeName(san), critical=False)
    return builder.sign(issuer_key, hashes.SHA256())


def make_ca(directory, name):
    """A self-signed CA; returns (cert path, name, key)."""
    key = ec.generate_private_key(ec.SECP256R1())
    cert = _issue(name, key.public_key(), _name(name), key, ca=True)
    path = os.path.join(directory, f"{name}.pem")
    _write_cert(cert, path)
    return path, cert.subject, key


def make_leaf(directory, name, ca, *, server):
    """A certificate signed by `ca` (from make_ca); returns (cert path, key path)."""
    _, ca_name, ca_key = ca
    key = ec.generate_private_key(ec.SECP256R1())
    if server:
        cert = _issue(name, key.public_key(), ca_name, ca_key, usage=ExtendedKeyUsageOID.SERVER_AUTH,
                      san=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))])
    else:
        cert = _issue(name, key.public_key(), ca_name, ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    cert_path, key_path = os.path.join(directory, f"{name}.crt"), os.path.join(directory, f"{name}.key")
    _write_cert(cert, cert_path)
    _write_key(key, key_path)
    return cert_path, key_path
