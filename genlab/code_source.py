"""The source text of classes and functions, for cache keys ("retrain when this code changes").

Not ``inspect.getsource(a_class)``: on Python 3.11 that parses the whole module with ``ast``, and an
``ast.parse`` in a background job while Streamlit parses a page script in another thread can fail
with "AST constructor recursion depth mismatch" (CPython gh-106905). A function's source is found
from its code object's line numbers, without ``ast``.
"""
from __future__ import annotations

import inspect


def code_source(*objects) -> str:
    """The joined source of ``objects``: a function's own text; for a class, its name and bases and
    the text of every function defined in its body (in definition order). ``""`` where no source
    is available (a frozen install): callers then key on their version numbers alone."""
    parts = []
    try:
        for obj in objects:
            if inspect.isclass(obj):
                parts.append(f"class {obj.__qualname__}({', '.join(base.__qualname__ for base in obj.__bases__)})")
                for member in vars(obj).values():
                    function = inspect.unwrap(getattr(member, "__func__", member))
                    if inspect.isfunction(function):
                        parts.append(inspect.getsource(function))
            else:
                parts.append(inspect.getsource(inspect.unwrap(obj)))
    except (OSError, TypeError):
        return ""
    return "\n".join(parts)
