"""Small, well-formed files for upload tests (the tracker checks structure to the end)."""

from __future__ import annotations

import struct
import zlib

# An 8×8 grey JPEG as OpenCV encodes it (what the monitor sends), 629 bytes.
_JPEG = bytes.fromhex(
    "ffd8ffe000104a46494600010100000100010000ffdb004300100b0c0e0c0a100e0d0e1211101318281a18161618"
    "3123251d283a333d3c3933383740485c4e404457453738506d51575f626768673e4d71797064785c656763ffdb00"
    "43011112121815182f1a1a2f634238426363636363636363636363636363636363636363636363636363636363636363"
    "636363636363636363636363636363636363ffc00011080008000803012200021101031101ffc4001f0000010501"
    "010101010100000000000000000102030405060708090a0bffc400b5100002010303020403050504040000017d01"
    "020300041105122131410613516107227114328191a1082342b1c11552d1f02433627282090a161718191a252627"
    "28292a3435363738393a434445464748494a535455565758595a636465666768696a737475767778797a83848586"
    "8788898a92939495969798999aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7"
    "d8d9dae1e2e3e4e5e6e7e8e9eaf1f2f3f4f5f6f7f8f9faffc4001f01000301010101010101010100000000000001"
    "02030405060708090a0bffc400b51100020102040403040705040400010277000102031104052131061241510761"
    "711322328108144291a1b1c109233352f0156272d10a162434e125f11718191a262728292a35363738393a434445"
    "464748494a535455565758595a636465666768696a737475767778797a82838485868788898a9293949596979899"
    "9aa2a3a4a5a6a7a8a9aab2b3b4b5b6b7b8b9bac2c3c4c5c6c7c8c9cad2d3d4d5d6d7d8d9dae2e3e4e5e6e7e8e9ea"
    "f2f3f4f5f6f7f8f9faffda000c03010002110311003f0028a28a00ffd9"
)


def jpeg(tag: bytes = b"", pad: int = 0) -> bytes:
    """A real JPEG; ``tag`` goes in a comment segment (a distinct file), ``pad`` adds bulk."""
    comment = tag + b" " * pad
    chunks = []
    while comment:
        part, comment = comment[:65000], comment[65000:]
        chunks.append(b"\xff\xfe" + struct.pack(">H", len(part) + 2) + part)
    return _JPEG[:2] + b"".join(chunks) + _JPEG[2:]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(tag: bytes = b"") -> bytes:
    """A real 1×1 grey PNG; ``tag`` goes in a tEXt chunk."""
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    text = _chunk(b"tEXt", b"Comment\x00" + tag) if tag else b""
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", ihdr)
        + text
        + _chunk(b"IDAT", zlib.compress(b"\x00\x80"))
        + _chunk(b"IEND", b"")
    )


def pdf(body: bytes = b"") -> bytes:
    """A minimal PDF with its header and end-of-file marker."""
    return (
        b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n"
        b"2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\n"
        + body
        + b"\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
