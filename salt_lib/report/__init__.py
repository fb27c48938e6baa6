"""The toolkit every chapter writes with, in rooms that import only what they need:

* ``words``: the language switch, ``TRANSLATIONS`` and ``tr``, the names of networks and losses
  (standard library only);
* ``tables``: ``save_table`` (``.csv``, ``.tex``, ``.md`` under a stable name) and its formatting
  (pandas, no matplotlib);
* ``sentences``: findings built from a table's numbers, the word chosen by the interval, and
  ``markdown`` to show them as text (no matplotlib);
* ``style``: ``use_thesis_style`` and ``save_figure`` (matplotlib, no Keras);
* ``figures``: tiles, case rows and seed scores, the figures several chapters draw (no Keras).

What only one chapter shows lives in ``salt_lib.chapters``. ``from salt_lib import report`` then
``report.save_table(...)`` works too: a name is looked up in the rooms above on first use, so
importing this package loads nothing heavy until a name from ``style`` or ``figures`` is used.
"""

from importlib import import_module

ROOMS = ("words", "sentences", "tables", "style", "figures")  # the light ones first


def __getattr__(name: str):
    if name.startswith("_"):
        raise AttributeError(name)
    for room in ROOMS:
        module = import_module(f"{__name__}.{room}")
        if hasattr(module, name) and not name.startswith("_"):
            return getattr(module, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(globals()) | {name for room in ROOMS for name in vars(import_module(f"{__name__}.{room}"))
                                    if not name.startswith("_")})
