"""Findings: sentences built from a table's numbers, the wording chosen by the interval.

``finding``, ``compare_sentence`` and ``findings`` turn a table's numbers into a chapter's
findings: ``0.767 [0.738, 0.796]`` and a word chosen from the interval ("higher", "lower",
"not distinguishable"), so no sentence carries a typed-in number. ``markdown`` shows a chapter's
sentences as Markdown output of a notebook cell. Every sentence is an English template that
``report.words.tr`` gives in the chosen language. Imports neither matplotlib nor Keras.
"""

from __future__ import annotations

import pandas as pd

from salt_lib.report.words import tr


HIGHER, LOWER, NOT_DISTINGUISHABLE = "higher", "lower", "not distinguishable"


# The sentence of ``finding`` and of ``compare_sentence`` for each verdict: whole templates, so that
# each translates as one phrase.
FINDING_SENTENCES = {HIGHER: "{name}: {number}, higher than {reference}.", LOWER: "{name}: {number}, lower than {reference}.",
                     NOT_DISTINGUISHABLE: "{name}: {number}, not distinguishable from {reference}."}
COMPARE_SENTENCES = {HIGHER: "{a}'s {score} is higher than {b}'s: {a} - {b} = {difference}.",
                     LOWER: "{a}'s {score} is lower than {b}'s: {a} - {b} = {difference}.",
                     NOT_DISTINGUISHABLE: "{a}'s {score} is not distinguishable from {b}'s: {a} - {b} = {difference}."}


def with_interval(value: float, low: float, high: float, digits: int = 3, signed: bool = False) -> str:
    """``value [low, high]`` with ``digits`` decimals, e.g. ``0.767 [0.738, 0.796]``; ``signed``
    writes every sign, for differences: ``+0.008 [-0.004, +0.021]``."""
    fmt = f"{{:{'+' if signed else ''}.{digits}f}}".format
    return f"{fmt(value)} [{fmt(low)}, {fmt(high)}]"


def verdict(low: float, high: float, reference: float = 0.0) -> str:
    """``"higher"`` if the interval lies above ``reference``, ``"lower"`` if below, and
    ``"not distinguishable"`` if it contains it (an end point on the reference counts as containing)."""
    if low > high:
        raise ValueError(f"interval [{low}, {high}]: the low end is above the high end")
    if low > reference:
        return HIGHER
    if high < reference:
        return LOWER
    return NOT_DISTINGUISHABLE


def finding(name: str, value: float, low: float, high: float, reference: float = 0.0, unit: str = "",
            digits: int = 3) -> str:
    """One sentence on a number and its 95% interval against ``reference``, e.g.
    ``"flip - none: +0.033 [0.010, 0.056], higher than 0."``. Signed numbers when the reference is
    0 (the number is then a difference); ``unit`` follows the interval."""
    signed = reference == 0
    word = verdict(low, high, reference)
    ref = "0" if signed else f"{reference:.{digits}f}"
    number = with_interval(value, low, high, digits, signed) + (f" {unit}" if unit else "")
    return tr(FINDING_SENTENCES[word], name=name, number=number, reference=ref)


def compare_sentence(a_name: str, b_name: str, difference: float, low: float, high: float,
                     score: str = "tgs_score", digits: int = 3) -> str:
    """A sentence on ``a - b`` with its paired 95% interval, e.g. ``"ResUNet's tgs_score is not
    distinguishable from U-Net's: ResUNet - U-Net = +0.008 [-0.004, +0.021]."``"""
    return tr(COMPARE_SENTENCES[verdict(low, high, 0.0)], a=a_name, b=b_name, score=score,
              difference=with_interval(difference, low, high, digits, signed=True))


def findings(table: pd.DataFrame, name: str, value: str, low: str = "ci_low", high: str = "ci_high",
             reference: float = 0.0, unit: str = "", digits: int = 3) -> list[str]:
    """``finding`` for every row of ``table``: the row's label from column ``name``, its number
    and interval from columns ``value``, ``low``, ``high``."""
    return [finding(str(row[name]), row[value], row[low], row[high], reference, unit, digits)
            for _, row in table.iterrows()]


def percent(share: float) -> str:
    """A salt share as a label: '0%' and '100%' only for none and all of it, one decimal below 1 %
    and above 99 % ('0.3%', '99.6%')."""
    return f"{share:.1%}" if 0 < share < 0.01 or 0.99 < share < 1 else f"{share:.0%}"


def markdown(sentences, bullets: bool = False):
    """``sentences`` (a list of str) as Markdown for a notebook cell to show
    (``IPython.display.Markdown``): one paragraph, or with ``bullets`` one list item each (for
    findings on several tables); a chapter's findings then read as text, not program output."""
    from IPython.display import Markdown  # imported here: the sentences themselves need no IPython

    kept = [" ".join(sentence.split()) for sentence in sentences if sentence and sentence.strip()]
    return Markdown("\n".join(f"- {sentence}" for sentence in kept) if bullets else " ".join(kept))
