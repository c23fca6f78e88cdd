"""User-facing errors.

Everything a user can get wrong (an unknown data set, a learning rate of zero, a corrupt file)
raises :class:`GenlabError` with a message that says what is wrong *and* what is allowed.
The CLI prints that one line and exits with status 2; dashboard pages show it with ``st.error``.
"""


class GenlabError(ValueError):
    """Bad user input or an unusable file; ``str(err)`` is the message to show the user."""


class DatasetUnavailable(GenlabError):
    """A data set that must be downloaded is not on disk and cannot be fetched (offline)."""


def check_range(name: str, value, low=None, high=None, *, low_inclusive=True, high_inclusive=True):
    """Return ``value`` if ``low <= value <= high`` (bounds optional), else raise GenlabError.

    The message names the parameter, the value given and the allowed range, e.g.
    ``lr_d must be > 0 and <= 1 (got 0)``.
    """
    import math

    try:
        number = float(value)
    except (TypeError, ValueError):
        raise GenlabError(f"{name} must be a number (got {value!r})") from None
    if not math.isfinite(number):
        raise GenlabError(f"{name} must be a finite number (got {value!r})")
    parts = []
    ok = True
    if low is not None:
        parts.append(f"{'>=' if low_inclusive else '>'} {low}")
        ok &= number >= low if low_inclusive else number > low
    if high is not None:
        parts.append(f"{'<=' if high_inclusive else '<'} {high}")
        ok &= number <= high if high_inclusive else number < high
    if not ok:
        raise GenlabError(f"{name} must be {' and '.join(parts)} (got {value})")
    return value
