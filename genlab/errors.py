"""User-facing errors.

Everything a user can get wrong (an unknown data set, a learning rate of zero, a corrupt file)
raises :class:`GenlabError` with a message that says what is wrong *and* what is allowed.
The CLI prints that one line and exits with status 2; dashboard pages show it with ``st.error``.
:func:`check_number` is genlab's one check of a number given by a user (genlab.validation builds
the config dataclasses' limits on it).
"""

import math
import numbers


class GenlabError(ValueError):
    """Bad user input or an unusable file; ``str(err)`` is the message to show the user."""


class DatasetUnavailable(GenlabError):
    """A data set that must be downloaded is not on disk and cannot be fetched (offline)."""


def _range_text(lo, hi, integer: bool, lo_open: bool = False, hi_open: bool = False) -> str:
    """``from 1 to 64`` (whole numbers) or ``> 0 and <= 1`` (numbers)."""
    if integer and lo is not None and hi is not None:
        return f"from {lo} to {hi}"
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi}")
    return " and ".join(parts)


def check_number(name: str, value, *, lo=None, hi=None, integer: bool = False,
                 lo_open: bool = False, hi_open: bool = False):
    """``value`` as an int (``integer``) or float in the range, else GenlabError naming ``name``,
    the allowed range and the value given, e.g. ``k_disc must be a whole number from 1 to 100
    (got 0)`` or ``lr must be > 0 and <= 1 (got 0)``. Booleans, text and NaN/infinity are refused."""
    allowed = _range_text(lo, hi, integer, lo_open, hi_open)
    kind = "a whole number" if integer else "a number"
    refused = GenlabError(f"{name} must be {kind}{' ' + allowed if allowed else ''} (got {value!r})")
    if isinstance(value, (bool, str, bytes)) or value is None:
        raise refused
    if isinstance(value, numbers.Integral):
        number = int(value)
    else:
        try:
            number = float(value)
        except (TypeError, ValueError):
            raise refused from None
        if not math.isfinite(number):
            raise GenlabError(f"{name} must be a finite number{' ' + allowed if allowed else ''} (got {value!r})")
        if integer:
            if not number.is_integer():
                raise refused
            number = int(number)
    too_low = lo is not None and (number <= lo if lo_open else number < lo)
    too_high = hi is not None and (number >= hi if hi_open else number > hi)
    if too_low or too_high:
        if integer:
            raise refused
        raise GenlabError(f"{name} must be {allowed} (got {value})")
    return number if integer else float(number)


def check_range(name: str, value, low=None, high=None, *, low_inclusive=True, high_inclusive=True):
    """Return ``value`` if ``low <= value <= high`` (bounds optional), else raise GenlabError
    (:func:`check_number` for a number that may have a fraction), e.g. ``lr_d must be > 0 and <= 1 (got 0)``."""
    check_number(name, value, lo=low, hi=high, lo_open=not low_inclusive, hi_open=not high_inclusive)
    return value
