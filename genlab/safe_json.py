"""JSON from users and from runs handed in by others, read with bounded size and nesting.

``json.loads`` on ``[`` x 5000 raises ``RecursionError`` (an exception no page or CLI command
expects), and a few hundred levels still parse but break the code that walks the result later
(rendering, validation). Every JSON text that did not come from this process goes through
:func:`loads_bounded` or :func:`load_json_file`, which raise :class:`GenlabError` with a message
saying what is wrong and what is allowed.
"""

from __future__ import annotations

import json
from pathlib import Path

from genlab.errors import GenlabError

# Run configs, status files, metric "extra" cells and URL tables are a few levels deep and a few KB.
MAX_JSON_DEPTH = 32
MAX_JSON_CHARS = 1_000_000


def json_depth(value) -> int:
    """Nesting depth of a parsed JSON value: 0 for a scalar, 1 for ``[]`` or ``[1, 2]``, and so on.

    Iterative, so a deep value cannot exhaust the interpreter's recursion limit.
    """
    deepest = 0
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in children)
    return deepest


def loads_bounded(text: str | bytes, *, what: str = "the JSON text",
                  max_depth: int = MAX_JSON_DEPTH, max_chars: int = MAX_JSON_CHARS):
    """Parse ``text`` as JSON; raise GenlabError if it is too long, too deep or not JSON.

    ``what`` names the text in messages, e.g. ``"run 'gan-1' file config.json"``.
    """
    if isinstance(text, (bytes, bytearray)):
        if len(text) > max_chars:
            raise GenlabError(f"{what} is {len(text):,} bytes; at most {max_chars:,} are allowed")
        try:
            text = bytes(text).decode("utf-8")
        except UnicodeDecodeError:
            raise GenlabError(f"{what} is not UTF-8 text; it must be JSON") from None
    if len(text) > max_chars:
        raise GenlabError(f"{what} is {len(text):,} characters; at most {max_chars:,} are allowed")
    try:
        value = json.loads(text)
    except RecursionError:
        raise GenlabError(f"{what} is nested too deeply; at most {max_depth} levels of [ ] "
                          "or { } are allowed") from None
    except ValueError as err:  # json.JSONDecodeError is a ValueError
        detail = getattr(err, "msg", None) or str(err)
        where = f" (line {err.lineno}, column {err.colno})" if hasattr(err, "lineno") else ""
        raise GenlabError(f"{what} is not valid JSON: {detail}{where}") from None
    depth = json_depth(value)
    if depth > max_depth:
        raise GenlabError(f"{what} is nested {depth} levels deep; at most {max_depth} levels "
                          "of [ ] or { } are allowed")
    return value


def load_json_file(path: str | Path, *, what: str | None = None,
                   max_depth: int = MAX_JSON_DEPTH, max_bytes: int = MAX_JSON_CHARS):
    """Read and parse the JSON file ``path`` with :func:`loads_bounded`'s bounds.

    The size is checked before the file is read. An unreadable file (missing, a folder,
    permission denied) raises GenlabError too; ``what`` defaults to the file's path.
    """
    path = Path(path)
    what = what or f"file {path}"
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise GenlabError(f"{what} is {size:,} bytes; at most {max_bytes:,} are allowed")
        data = path.read_bytes()
    except OSError as err:
        raise GenlabError(f"cannot read {what}: {err.strerror or err}") from None
    return loads_bounded(data, what=what, max_depth=max_depth, max_chars=max_bytes)
