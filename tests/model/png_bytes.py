"""Hand-written PNG files (zlib + struct, per the PNG spec), independent of Pillow's encoder.

Used as references: the header says exactly what size/mode an image has, and the pixel values are known.
"""

import struct
import zlib

GRAY, RGB, PALETTE, GRAY_ALPHA, RGBA = 0, 2, 3, 4, 6
_CHANNELS = {GRAY: 1, RGB: 3, PALETTE: 1, GRAY_ALPHA: 2, RGBA: 4}


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, color_type: int, bit_depth: int, row: bytes | None = None) -> bytes:
    """A PNG whose every row is `row` (filter 0 + samples; zeros if `None`), compressed in a stream (bombs stay
    cheap to make)."""
    row = row if row is not None else bytes((width * _CHANNELS.get(color_type, 1) * bit_depth + 7) // 8)
    compressor = zlib.compressobj(9)
    line = b"\x00" + row
    body = b"".join(compressor.compress(line) for _ in range(height)) + compressor.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def gray16(width: int, height: int, value: int) -> bytes:
    """16-bit grayscale, every sample `value` (0..65535)."""
    return png(width, height, GRAY, 16, struct.pack(">H", value) * width)


def rgb16(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """16-bit RGB, every pixel `rgb` (three 0..65535 samples)."""
    return png(width, height, RGB, 16, struct.pack(">HHH", *rgb) * width)


def rgba8(pixels: list[tuple[int, int, int, int]]) -> bytes:
    """One row of 8-bit RGBA pixels."""
    return png(len(pixels), 1, RGBA, 8, b"".join(bytes(p) for p in pixels))


def bomb(side: int) -> bytes:
    """A `side` x `side` black 1-bit image: a few KB that decode to `side**2` bytes in Pillow."""
    return png(side, side, GRAY, 1)
