"""One validator for numbers and choices, and the limits of genlab's config dataclasses.

Every number a user can give (a page control, a CLI flag, a field of an uploaded config.json, a
live edit while training) is checked by :func:`check_number`; every choice by :func:`check_choice`.
The config dataclasses declare each field's limits once, next to the field, with :func:`option`::

    @dataclass
    class GANTrainConfig:
        lr_d: float = option(5e-4, lo=0, hi=1, lo_open=True)   # discriminator learning rate
        loss: str = option("non-saturating", choices=LOSSES)

and call :func:`check_fields` in ``__post_init__``. The CLI's flags and the pages' controls read the
same limits with :func:`bounds`, :func:`choices` and :func:`describe`, so a range is written once.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from genlab.errors import GenlabError, _range_text, check_number  # noqa: F401 - check_number is this module's too


@dataclass(frozen=True)
class Limits:
    """What a config field allows: a number in ``[lo, hi]`` (``lo_open`` / ``hi_open``: the bound
    itself excluded; ``integer``: whole numbers), one of ``choices``, or -- with ``length`` -- a
    sequence of ``length[0]`` to ``length[1]`` such numbers. ``optional``: None is allowed too."""

    lo: float | None = None
    hi: float | None = None
    integer: bool = False
    lo_open: bool = False
    hi_open: bool = False
    choices: tuple | None = None
    length: tuple[int, int] | None = None
    optional: bool = False


def option(default, **limits):
    """A dataclass field with ``default`` and its :class:`Limits` (keyword arguments of Limits)."""
    if "choices" in limits:
        limits["choices"] = tuple(limits["choices"])
    return field(default=default, metadata={"limits": Limits(**limits)})


def check_choice(name: str, value, allowed) -> str:
    """``value`` if it is one of ``allowed``, else ``unknown NAME 'x'; allowed: a, b`` (text choices)
    or ``NAME must be one of 8, 28 (got 9)``."""
    allowed = tuple(allowed)
    if isinstance(value, (str, int, float, bool)) and value in allowed:
        return value
    if all(isinstance(item, str) for item in allowed):
        raise GenlabError(f"unknown {name} {value!r}; allowed: {', '.join(allowed)}")
    raise GenlabError(f"{name} must be one of {', '.join(map(str, allowed))} (got {value!r})")


def _check_value(name: str, value, spec: Limits):
    if value is None and spec.optional:
        return None
    if spec.choices is not None:
        return check_choice(name, value, spec.choices)
    if spec.length is not None:
        low, high = spec.length
        each = _range_text(spec.lo, spec.hi, spec.integer, spec.lo_open, spec.hi_open)
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or not low <= len(value) <= high:
            count = f"{low}" if low == high else f"{low} to {high}"
            raise GenlabError(f"{name} must list {count} {'whole numbers' if spec.integer else 'numbers'} "
                              f"{each} (got {value!r})")
        return tuple(check_number(f"each of {name}", item, lo=spec.lo, hi=spec.hi, integer=spec.integer,
                                  lo_open=spec.lo_open, hi_open=spec.hi_open) for item in value)
    return check_number(name, value, lo=spec.lo, hi=spec.hi, integer=spec.integer,
                        lo_open=spec.lo_open, hi_open=spec.hi_open)


def check_fields(config):
    """Check and convert every field of the dataclass instance ``config`` that has limits
    (declared with :func:`option`); GenlabError for the first one out of its limits."""
    for item in fields(config):
        spec = item.metadata.get("limits")
        if spec is not None:
            setattr(config, item.name, _check_value(item.name, getattr(config, item.name), spec))
    return config


def limits(config_cls, name: str) -> Limits:
    """The :class:`Limits` of field ``name`` of dataclass ``config_cls`` (KeyError: none declared)."""
    for item in fields(config_cls):
        if item.name == name and "limits" in item.metadata:
            return item.metadata["limits"]
    raise KeyError(f"{config_cls.__name__}.{name} declares no limits")


def bounds(config_cls, name: str) -> tuple:
    """``(lo, hi)`` of a numeric field, e.g. ``bounds(AutoencoderConfig, "latent_dim") == (1, 64)``."""
    spec = limits(config_cls, name)
    return spec.lo, spec.hi


def choices(config_cls, name: str) -> tuple:
    """The allowed values of a choice field, e.g. ``choices(GANTrainConfig, "loss")``."""
    spec = limits(config_cls, name)
    if spec.choices is None:
        raise KeyError(f"{config_cls.__name__}.{name} is not a choice")
    return spec.choices


def default(config_cls, name: str):
    """The declared default of field ``name`` of dataclass ``config_cls``."""
    for item in fields(config_cls):
        if item.name == name:
            return item.default
    raise KeyError(f"{config_cls.__name__} has no field {name}")


def describe(config_cls, name: str) -> str:
    """The allowed values as text for help and captions: ``1 to 64``, ``> 0 and <= 1``, ``adam, sgd``."""
    spec = limits(config_cls, name)
    if spec.choices is not None:
        return ", ".join(map(str, spec.choices))
    text = _range_text(spec.lo, spec.hi, spec.integer, spec.lo_open, spec.hi_open)
    return text.removeprefix("from ") if spec.integer else text


def check_option(config_cls, name: str, value, label: str | None = None):
    """``value`` checked against the limits of ``config_cls.name`` (messages say ``label`` or
    ``name``): for a value given before the config is built (a CLI flag, a live edit)."""
    return _check_value(label or name, value, limits(config_cls, name))
