def dct16(
    pixels: bytes | memoryview, rows: int, cols: int, channels: int, side: int = 0, /
) -> tuple[bytes, int]:
    """PDQ's 16x16 DCT (256 native float32) and quality of raw uint8 pixels.

    With ``side > 0``, pixels larger than ``side`` on either axis are first resampled
    to ``side x side`` by nearest neighbour (source index ``floor(x * W / side)``).
    """

def dct16_luma(luma: bytes | memoryview, rows: int, cols: int, /) -> tuple[bytes, int]:
    """Like dct16, from float32 luma (rows x cols)."""
