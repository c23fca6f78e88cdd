"""PNG data URIs: pictures that a Plotly image trace draws from its ``source``, a few kB where the
same pixels as JSON numbers are tens of times more for the browser to parse and draw."""
from __future__ import annotations

import base64
import io

import numpy as np


def png_data_uri(picture, optimize: bool = False) -> str:
    """``picture`` (a PIL image, or a uint8 array ``(H, W)`` grey / ``(H, W, 3)`` RGB) as
    ``data:image/png;base64,...``; ``optimize``: Pillow's smaller, slower encoding."""
    from PIL import Image

    if isinstance(picture, np.ndarray):
        picture = Image.fromarray(picture)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=optimize)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")
