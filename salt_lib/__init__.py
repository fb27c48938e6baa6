"""salt_lib: the shared library of the salt segmentation thesis workbook.

One module per concern: ``rle`` (competition run-length codes), ``data`` (loading the Kaggle
layout), ``synthetic`` (the embedded TGS-like default data set), ``metrics`` (the competition
score), ``split`` (the 6:2:2 split). Notebooks call these; they hold no logic of their own.
"""

__version__ = "0.1.0"
