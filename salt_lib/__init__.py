"""salt_lib: the shared library of the salt segmentation thesis workbook.

One module per concern, imports going one way (from the notebooks and the command line down):

* foundations: ``rle`` (competition run-length codes, ``TILE``), ``files`` (``atomic_write``,
  portable paths for records), ``metrics`` (the competition score), ``geometry`` (101x101 tiles
  to model inputs and back), ``losses``, ``augment`` (imgaug policies);
* data: ``data`` (Kaggle's layout to ``TGSData`` with its content fingerprint), ``synthetic``
  (the embedded TGS-like default data), ``split`` (the 6:2:2 split), ``dataset``
  (``load_dataset``: the one way from a folder to tiles, split and fingerprint);
* models: ``models`` (U-Net and ResUNet from one skeleton; ``ModelConfig`` holds the input size
  and geometry), ``records`` (everything beside a model file: record, history, run key, reuse,
  export), ``predict`` (TTA, thresholds, submissions), ``train`` (resumable training);
* the notebook layer: ``experiments`` (train one run from a config, or reuse), ``evaluate``
  (the one way to score a saved model, bootstrap intervals, result tables), ``study`` (seed
  studies: arms trained with several seeds, small result records, seed and paired tables),
  ``submission`` (the one way from saved models and test tiles to a Kaggle CSV), ``eda``
  (describing the tiles), ``report`` (the thesis style, figures and tables), ``results``
  (chapter 7: the source thesis beside this workbook, its figure and findings), ``workbook``
  (the papermill runner), ``cli`` and ``bench``;
* ``quiet`` (standard library only): TensorFlow's native start-up log kept out of the output.

Notebooks call these; they hold no logic of their own.
"""

from salt_lib import quiet as _quiet

__version__ = "0.1.0"

# Before anything imports TensorFlow: its native start-up log stays out of the CLI and notebooks.
_quiet.install()
