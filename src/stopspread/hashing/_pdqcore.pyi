def dct16(pixels: bytes | memoryview, rows: int, cols: int, channels: int, /) -> tuple[bytes, int]:
    """PDQ's 16x16 DCT as 256 native float32 values, and the quality, for raw pixels."""

def dct16_luma(luma: bytes | memoryview, rows: int, cols: int, /) -> tuple[bytes, int]:
    """Like dct16, from float32 luma (rows x cols)."""
