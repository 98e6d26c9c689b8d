"""Build ``encrypted.pdf``: a one-page PDF under the PDF Standard Security Handler.

Revision 3, 128-bit RC4 (PDF 1.4 "V2 R3"), user password ``secret``, owner password
``owner``.  Written by hand (PDF 1.7 spec, 7.6.3, algorithms 1, 2, 3 and 5) because neither
qpdf nor pikepdf/pypdf is available where the tests run.  The page is a 1x1 inch square
filled blue; its content stream is RC4-encrypted with the object key, so opening the file
with the right password and rendering it proves the encryption is real.

Run ``python tests/data/io/make_encrypted_pdf.py`` to regenerate the fixture; the output is
deterministic (fixed /ID).
"""

from __future__ import annotations

import hashlib
import struct
import sys
from pathlib import Path

PAD = bytes.fromhex("28BF4E5E4E758A4164004E56FFFA01082E2E00B6D0683E802F0CA9FE6453697A")
FILE_ID = bytes.fromhex("6b696e6b72656164746573746964303031")[:16]
PERMISSIONS = -3904  # print/copy etc. allowed; high bits set as R3 requires
KEY_LEN = 16  # 128-bit


def rc4(key: bytes, data: bytes) -> bytes:
    s = list(range(256))
    j = 0
    for i in range(256):
        j = (j + s[i] + key[i % len(key)]) & 0xFF
        s[i], s[j] = s[j], s[i]
    out = bytearray()
    i = j = 0
    for byte in data:
        i = (i + 1) & 0xFF
        j = (j + s[i]) & 0xFF
        s[i], s[j] = s[j], s[i]
        out.append(byte ^ s[(s[i] + s[j]) & 0xFF])
    return bytes(out)


def _pad(password: str) -> bytes:
    return (password.encode("latin-1") + PAD)[:32]


def owner_entry(owner: str, user: str) -> bytes:  # algorithm 3
    digest = hashlib.md5(_pad(owner or user)).digest()
    for _ in range(50):
        digest = hashlib.md5(digest).digest()
    key = digest[:KEY_LEN]
    data = rc4(key, _pad(user))
    for i in range(1, 20):
        data = rc4(bytes(b ^ i for b in key), data)
    return data


def file_key(user: str, o_entry: bytes) -> bytes:  # algorithm 2
    md5 = hashlib.md5(_pad(user))
    md5.update(o_entry)
    md5.update(struct.pack("<i", PERMISSIONS))
    md5.update(FILE_ID)
    digest = md5.digest()
    for _ in range(50):
        digest = hashlib.md5(digest[:KEY_LEN]).digest()
    return digest[:KEY_LEN]


def user_entry(key: bytes) -> bytes:  # algorithm 5
    data = rc4(key, hashlib.md5(PAD + FILE_ID).digest())
    for i in range(1, 20):
        data = rc4(bytes(b ^ i for b in key), data)
    return data + bytes(16)


def object_key(key: bytes, num: int, gen: int) -> bytes:  # algorithm 1
    digest = hashlib.md5(key + num.to_bytes(3, "little") + gen.to_bytes(2, "little")).digest()
    return digest[: min(len(key) + 5, 16)]


def build(user: str = "secret", owner: str = "owner") -> bytes:
    o_entry = owner_entry(owner, user)
    key = file_key(user, o_entry)
    u_entry = user_entry(key)
    content = rc4(object_key(key, 4, 0), b"0 0 1 rg 0 0 72 72 re f\n")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] /Contents 4 0 R /Resources << >> >>",
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Filter /Standard /V 2 /R 3 /Length 128 /P %d /O <%s> /U <%s> >>"
        % (PERMISSIONS, o_entry.hex().encode(), u_entry.hex().encode()),
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    file_id = FILE_ID.hex().encode()
    out += b"trailer\n<< /Size %d /Root 1 0 R /Encrypt 5 0 R /ID [<%s> <%s>] >>\n" % (
        len(objects) + 1,
        file_id,
        file_id,
    )
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


if __name__ == "__main__":
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("encrypted.pdf")
    target.write_bytes(build())
    print(f"wrote {target}")
