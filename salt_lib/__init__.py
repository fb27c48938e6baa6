"""salt_lib: the shared library of the salt segmentation thesis workbook.

One module per concern, in the order data flows through them: ``rle`` (competition run-length
codes), ``data`` (loading Kaggle's layout), ``synthetic`` (the embedded TGS-like default data),
``split`` (the 6:2:2 split), ``geometry`` (101x101 tiles to model inputs and back), ``augment``
(imgaug policies), ``models`` (U-Net and ResUNet from one skeleton), ``losses``, ``train``
(resumable training with provenance), ``predict`` (TTA, thresholds, submissions), ``metrics``
(the competition score) and ``bench``. The notebook layer: ``eda`` (describing the tiles),
``evaluate`` (scores, bootstrap intervals, per-coverage tables), ``experiments`` (train or reuse,
cached predictions), ``report`` (the thesis style, figures and tables) and ``workbook`` (the
papermill runner). Notebooks call these; they hold no logic of their own.
"""

__version__ = "0.1.0"
