"""salt_lib: the shared library of the salt segmentation thesis workbook.

One module per concern, imports going one way (from the notebooks and the command line down):

* foundations: ``tile`` (``TILE = 101``), ``rle`` (competition run-length codes), ``files``
  (``atomic_write``, portable paths for records), ``metrics`` (the competition score),
  ``geometry`` (101x101 tiles to model inputs and back), ``losses``, ``augment`` (imgaug policies);
* data: ``data`` (Kaggle's layout to ``TGSData`` with its content fingerprint), ``synthetic``
  (the embedded TGS-like default data), ``split`` (the 6:2:2 split), ``dataset``
  (``load_dataset``: the one way from a folder to tiles, split and fingerprint);
* models: ``models`` (U-Net and ResUNet from one skeleton; ``ModelConfig`` holds the input size
  and geometry), ``records`` (everything beside a model file: record, history, run key, run folder
  name, reuse, export), ``predict`` (TTA, thresholds), ``train`` (resumable training);
* results: ``evaluate`` (the one way to score a saved model, bootstrap intervals, the tables
  several chapters use), ``result_folders`` (the small committed results of runs whose models are
  not kept: one writer, one reader), ``experiments`` (train one run from a config, or reuse),
  ``study`` (seed studies: arms trained with several seeds, seed and paired tables),
  ``submission`` (the one way from saved models and test tiles to a Kaggle CSV);
* presentation: ``report`` (the toolkit: words, tables, sentences, style, shared figures),
  ``eda`` (the numbers of chapters 1 and 2), ``chapters`` (one module per chapter for what only it
  shows); ``workbook`` (the papermill runner), ``cli`` and ``bench``;
* ``quiet`` (standard library only): TensorFlow's native start-up log kept out of the output.

Notebooks call these; they hold no logic of their own.
"""

from salt_lib import quiet as _quiet

__version__ = "0.1.0"

# Before anything imports TensorFlow: its native start-up log stays out of the CLI and notebooks.
_quiet.install()
