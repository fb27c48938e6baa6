"""The thesis look, set once per notebook, and figures written under stable names.

* ``use_thesis_style()`` sets serif fonts at the thesis's sizes, the colour-blind-safe Okabe-Ito
  palette (seaborn's ``colorblind``), no top/right spines, and the language of every label.
* ``save_figure(fig, "04_learning_curves", figures_dir)`` writes ``figures_dir/04_learning_curves.png``
  (300 dpi) and ``.pdf``.

Figure widths follow an A4 thesis with a 16 cm text block: ``FULL_WIDTH`` and ``HALF_WIDTH``
inches.
"""

from __future__ import annotations

import re
from pathlib import Path

import matplotlib
import pandas as pd
import seaborn as sns

from salt_lib.report.tables import check_name
from salt_lib.report.words import LANGUAGES, set_language


FULL_WIDTH = 6.3  # inches: a 16 cm text block


HALF_WIDTH = 3.1


DPI = 300


# Okabe & Ito (2008): distinguishable with every common colour-vision deficiency.
OKABE_ITO = {"orange": "#E69F00", "sky_blue": "#56B4E9", "green": "#009E73", "yellow": "#F0E442",
             "blue": "#0072B2", "vermillion": "#D55E00", "purple": "#CC79A7", "black": "#000000"}


TRUTH_COLOUR = OKABE_ITO["orange"]  # the labelled salt


PREDICTION_COLOUR = OKABE_ITO["sky_blue"]  # what a model predicts


# Splits are told apart by shade and hatching, never by a colour (colours name the networks).
SPLIT_SHADES = {"train": "0.3", "val": "0.65", "test": "white"}


SPLIT_HATCHES = {"train": None, "val": "///", "test": "..."}


NEUTRAL_BAR = "0.55"  # bars and points of the data chapters, which belong to no network


# In every chart of results, colour names the network and nothing else: stage is shown by shading
# or line style, validation and test by marker (SPLIT_MARKERS), selections in black.
NETWORK_COLOURS = {"unet": OKABE_ITO["blue"], "resunet": OKABE_ITO["vermillion"]}


NEUTRAL_COLOUR = "0.25"  # a curve or mark that belongs to no network


SPLIT_MARKERS = {"val": "o", "test": "s"}  # filled circle: validation; square: test


def network_colour(name: str) -> str:
    """The colour of a network however it is named ("unet", "U-Net", "ResUNet (lite)", "resunet
    thesis"); ``NEUTRAL_COLOUR`` for anything else (an ensemble, a policy)."""
    match = re.fullmatch(r"(unet|resunet)( thesis)?( \(.*\))?", str(name).lower().replace("-", ""))
    return NETWORK_COLOURS[match.group(1)] if match else NEUTRAL_COLOUR


def cjk_font_path(cache_dir=None) -> Path:
    """A static Regular (weight 400) Noto Sans SC, cut from the variable font that the
    ``justmytype-intl-cjk`` package installs (SIL Open Font License 1.1) and cached: matplotlib
    draws a variable font at its default instance, which for Noto Sans SC is Thin. The cut keeps
    the source font's dates instead of the time it was made, so the Chinese figures' PDFs (which
    embed a subset of it) are the same bytes on every machine. The first call takes about 20 s;
    the result lives in ``<cache>/fonts/``."""
    from importlib.resources import files

    from salt_lib.data import default_cache_dir
    from salt_lib.files import atomic_write

    try:
        source = Path(str(files("justmytype_intl_cjk") / "fonts" / "ofl" / "notosanssc" / "NotoSansSC[wght].ttf"))
    except ModuleNotFoundError:
        source = None
    if source is None or not source.is_file():
        raise RuntimeError("language='zh' needs the Noto Sans SC font of the justmytype-intl-cjk package: "
                           "run `make` (or `pip install -r requirements.lock`) to install it.")
    target = Path(cache_dir or default_cache_dir()) / "fonts" / f"NotoSansSC-Regular-{source.stat().st_size}-v3.ttf"
    if not target.is_file():
        from fontTools.ttLib import TTFont
        from fontTools.varLib import instancer

        target.parent.mkdir(parents=True, exist_ok=True)
        variable = TTFont(source)
        dates = variable["head"].created, variable["head"].modified
        regular = instancer.instantiateVariableFont(variable, {"wght": 400}, updateFontNames=True)
        regular.recalcTimestamp = False  # else saving stamps the file with the time it was made
        regular["head"].created, regular["head"].modified = dates
        with atomic_write(target) as tmp:
            regular.save(tmp)
    return target


def use_thesis_style(language: str = "en") -> None:
    """Set the thesis look for every later figure (matplotlib rcParams, seaborn theme) and a
    short float display for pandas tables in notebooks. ``language`` ("en" or "zh") switches the
    labels, legends and titles of every ``plot_*`` figure and the headers ``save_table`` writes;
    "zh" sets Chinese in Noto Sans SC beside the Latin text in DejaVu Serif."""
    if language not in LANGUAGES:
        raise ValueError(f"language {language!r}: choose one of {', '.join(LANGUAGES)}")
    sns.set_theme(context="paper", style="ticks", palette="colorblind", font="serif")
    family = ["DejaVu Serif"]  # ships with matplotlib: identical on every machine
    if language == "zh":
        from matplotlib import font_manager

        font = cjk_font_path()
        font_manager.fontManager.addfont(str(font))
        family.append(font_manager.FontProperties(fname=str(font)).get_name())  # glyph by glyph fallback
    matplotlib.rcParams.update({
        "font.family": family,
        "font.serif": ["DejaVu Serif"],
        "font.size": 9, "axes.titlesize": 9, "axes.labelsize": 9, "xtick.labelsize": 8,
        "ytick.labelsize": 8, "legend.fontsize": 8, "figure.titlesize": 10,
        "axes.spines.top": False, "axes.spines.right": False,
        "figure.figsize": (FULL_WIDTH, 0.6 * FULL_WIDTH), "figure.dpi": 100,
        "savefig.dpi": DPI, "savefig.bbox": "tight", "savefig.pad_inches": 0.03,
        "image.cmap": "gray", "image.interpolation": "nearest",
        "pdf.fonttype": 42,  # embed TrueType: text stays text in the PDF
        "svg.hashsalt": "salt_lib",
    })
    set_language(language)
    pd.set_option("display.precision", 4)


def save_figure(fig, name: str, figures_dir) -> list[Path]:
    """Write ``fig`` as ``figures_dir/<name>.png`` (300 dpi) and ``.pdf``; return both paths.

    The figure stays open, so a notebook still shows it. The PDF carries no creation date, and the
    fonts it embeds carry their files' own dates (``cjk_font_path`` fixes the one it makes), so
    rerunning a figure with the same content gives the same file, on any machine.
    """
    folder = Path(figures_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{check_name(name)}.png", folder / f"{name}.pdf"]
    fig.savefig(paths[0], dpi=DPI, metadata={"Software": None})
    fig.savefig(paths[1], metadata={"CreationDate": None, "Creator": None, "Producer": None})
    return paths
