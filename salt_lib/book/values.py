"""Named values for the book's own prose, read from the tables the chapters wrote.

The abstract and the conclusions never carry a typed-in number. ``book/values.yaml`` names each
value once, as a cell of a table in ``tables/*.csv``::

    unet: {table: 06_comparison, row: {model: U-Net}, value: tgs_score,
           low: tgs_score_ci_low, high: tgs_score_ci_high}
    best_policy: {table: 03_policy_vs_none, pick: {max: difference}, value: difference,
                  low: ci_low, high: ci_high, signed: true, label: comparison}

``row`` selects the row whose columns equal the given values, ``pick`` the row with the largest
(``max``) or smallest (``min``) value of a column; neither: the table's only row. ``digits``
(default 3) rounds the value and ``signed`` writes its sign. The text of ``book/thesis.yaml``
uses them as ``{unet}`` (the value with its interval, ``0.773 [0.744, 0.801]``),
``{unet.value}`` (the value alone), ``{best_policy.label}`` (the ``label`` column of the row)
and ``{resunet_minus_unet.verdict}`` (a phrase chosen by the interval: above zero, below zero,
or not distinguishable from zero). A paragraph that names a value whose table this run did not write
(the quick profile has no seed studies) is left out, so every profile gets true sentences.
"""

from __future__ import annotations

import math
import re
import string
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from salt_lib.book.sources import BookError

VERDICTS = {"en": {"higher": "above zero", "lower": "below zero", "same": "not distinguishable from zero"},
            "zh": {"higher": "显著大于零", "lower": "显著小于零", "same": "与零无法区分"}}


@dataclass(frozen=True)
class Value:
    """A number from a table, with its 95 % interval where the table has one."""
    name: str
    value: float
    low: float | None = None
    high: float | None = None
    digits: int = 3
    signed: bool = False
    label: str = ""
    source: str = ""  # the table's name
    language: str = "en"

    def number(self, x: float) -> str:
        return f"{x:+.{self.digits}f}" if self.signed else f"{x:.{self.digits}f}"

    def __format__(self, spec: str) -> str:
        if self.low is None or self.high is None:
            return self.number(self.value)
        return f"{self.number(self.value)} [{self.number(self.low)}, {self.number(self.high)}]"

    def __str__(self) -> str:
        return format(self)

    @property
    def verdict(self) -> str:
        """Where the interval lies against zero, in words (``VERDICTS``)."""
        words = VERDICTS.get(self.language, VERDICTS["en"])
        if self.low is None or self.high is None:
            raise BookError(f"value {self.name} ({self.source}) has no interval, so no verdict: give it low and high in book/values.yaml.")
        return words["higher"] if self.low > 0 else words["lower"] if self.high < 0 else words["same"]


def read_values(definitions: dict, tables_dir, language: str = "en") -> dict[str, Value]:
    """Every value of ``definitions`` (``book/values.yaml``) whose table exists in ``tables_dir``."""
    values = {}
    for name, spec in (definitions or {}).items():
        path = Path(tables_dir) / f"{spec['table']}.csv"
        if not path.is_file():
            continue
        values[name] = table_value(name, spec, pd.read_csv(path), language)
    return values


def table_value(name: str, spec: dict, table: pd.DataFrame, language: str = "en") -> Value:
    """The value ``spec`` names in ``table`` (see the module's docstring)."""
    where = f"book/values.yaml: {name} ({spec['table']}.csv)"
    rows = table
    for column, wanted in (spec.get("row") or {}).items():
        if column not in table.columns:
            raise BookError(f"{where}: no column {column!r}; the table has {', '.join(table.columns)}.")
        rows = rows[rows[column].astype(str) == str(wanted)]
    if spec.get("pick"):
        (how, column), = spec["pick"].items()
        rows = rows.loc[[rows[column].idxmax() if how == "max" else rows[column].idxmin()]]
    if len(rows) != 1:
        raise BookError(f"{where}: {len(rows)} rows match {spec.get('row') or 'the whole table'}; select exactly one "
                        "with `row:` or `pick:`.")
    row = rows.iloc[0]
    missing = [spec[key] for key in ("value", "low", "high", "label") if spec.get(key) and spec[key] not in table.columns]
    if missing:
        raise BookError(f"{where}: no column {', '.join(missing)}; the table has {', '.join(table.columns)}.")
    number = lambda key: float(row[spec[key]]) if spec.get(key) else None  # noqa: E731
    return Value(name, number("value"), number("low"), number("high"), int(spec.get("digits", 3)), bool(spec.get("signed")),
                 str(row[spec["label"]]) if spec.get("label") else "", spec["table"], language)


def fill(text: str, values: dict[str, Value]) -> str | None:
    """``text`` with its ``{name}`` / ``{name.attribute}`` fields filled; None when it names a
    value that is not there (its table was not written by this run)."""
    names = {field.split(".")[0].split("[")[0] for _, field, _, _ in string.Formatter().parse(text) if field}
    if not names <= set(values):
        return None
    return text.format(**values)


def numbers_in(text: str) -> list[float]:
    """The decimal numbers written in ``text`` (with their signs): what a test compares with the tables."""
    return [float(x) for x in re.findall(r"[+-]?\d+\.\d+", text) if not math.isnan(float(x))]
