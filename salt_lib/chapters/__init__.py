"""One module per chapter, for what only that chapter shows: its figures, its tables and its
findings. What several chapters share lives below them: ``salt_lib.report`` (style, tables,
sentences, figure tools), ``salt_lib.evaluate`` (scoring), ``salt_lib.study`` (seed studies).

* ``data``: chapters 1 and 2, the tiles and the split (their numbers come from ``salt_lib.eda``);
* ``augmentation``: chapter 3, the policies and the policy study;
* ``model``: chapters 4 and 5, one network each (rendered from one template);
* ``comparison``: chapter 6, the U-Net beside the ResUNet;
* ``results``: chapter 7, post-processing, the source thesis beside this workbook, the submission.
* ``choices``: the choices chapters 3 and 7 make on validation (pandas only), read by ``summary``
  too, which writes the README's findings from the chapters' tables.
"""



