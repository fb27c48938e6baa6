# %% [markdown]
# # {{number}} · {{title}}
#
# {{intro}}

# %% tags=["parameters"]
# Chapters 4 and 5 are rendered from notebooks/templates/model_chapter.py (python -m salt_lib workbook --render).
chapter = {{chapter!r}}  # figure and table names start with it
arch = {{arch!r}}  # "unet" or "resunet"
preset = "lite"  # "lite" (sized for a CPU) or "thesis" (the source thesis's network)
overrides = {{overrides!r}}  # ModelConfig fields replacing the preset's (salt_lib.models)
training = {{training!r}}  # TrainConfig fields (salt_lib.train)
model_path = None  # a trained .keras to reuse if its JSON records these parameters and data; None: train
data_dir = "../data/synthetic-quick"
synthetic_tiles = 600  # > 0: generate this many synthetic tiles in data_dir if it is missing; 0: never
seed = 0  # seed of the synthetic data
split_file = "../reports/quick/split.csv"  # chapter 2's split (made here if missing; it must split these tiles)
runs_dir = "../reports/quick/runs"  # run folders, keyed by a hash of the parameters and the data
models_dir = "../reports/quick/models"  # the model used here is published as <models_dir>/<arch>.keras
cache_dir = "../reports/quick/cache"  # cached predictions
figures_dir = "../reports/quick/figures"
tables_dir = "../reports/quick/tables"
bootstrap_resamples = 1000
cases = 4  # best and worst test tiles shown
language = "en"  # figure labels and table headers: "en" or "zh" (Chinese)

# %%
from salt_lib import evaluate, experiments, report
from salt_lib.chapters import model as model_chapter
from salt_lib.dataset import load_dataset
from salt_lib.models import build_model

report.use_thesis_style(language=language)
dataset = load_dataset(data_dir, split_file, synthetic_tiles=synthetic_tiles, synthetic_seed=seed)
val, test = dataset.val, dataset.test

# %% [markdown]
# ## The network
#
# The model is built from `salt_lib.models`' single encoder/decoder skeleton: each encoder level
# applies two 3x3 convolutions and halves the resolution, each decoder level doubles it again and
# concatenates the encoder's output at the same resolution (the skip connection). The ResUNet adds
# a residual shortcut to every level, an option of the same skeleton rather than a second network.
# The figure draws the levels as boxes with their filters and side length, from the built model.

# %%
model = build_model(arch, preset, overrides)
network = report.network_name(arch)  # "U-Net" or "ResUNet", as the captions name it
report.save_figure(model_chapter.plot_architecture(model), f"{chapter}_architecture", figures_dir);

# %% [markdown]
# The U shape is the network's data flow: resolution falls down the left side and rises up the
# right, and each skip arrow carries detail from an encoder level to the decoder level of the same
# size.
#
# Level by level, with output side, channels and parameters (the layer names in
# `model.summary()` start with these level names):

# %%
# NBVAL_CHECK_OUTPUT
report.save_table(model_chapter.level_table(model), f"{chapter}_levels", tables_dir,
                  caption=f"The {network} level by level: layers, output side, channels and parameters.")

# %% [markdown]
# The deepest levels hold most of the parameters, because the filters double at every level.
# Next, the size of this chapter's model against the source thesis's network (the `thesis` preset,
# built here only to count its parameters).

# %%
# NBVAL_CHECK_OUTPUT
report.save_table(model_chapter.parameter_counts(arch, preset, overrides), f"{chapter}_parameters", tables_dir,
                  caption=f"Parameters of this chapter's {network} and of the source thesis's network.")

# %% [markdown]
# The thesis network is the source thesis's; the models trained here are far smaller so that they
# train on a CPU, and chapter 6 compares a U-Net and a ResUNet of the same width and depth.
#
# ## Training, or reusing a trained model
#
# The model is the one `model_path` names when its record holds exactly this architecture, these
# training settings and this data; otherwise it is trained here, in a run folder that an
# interrupted run resumes from. The findings at the end of the chapter say how it was trained; the
# model then goes to `models_dir`, where chapters 6 and 7 read it.

# %%
experiment = experiments.train_or_reuse(arch, dataset, runs_dir, preset, overrides, training, model_path=model_path)
published = experiments.publish(experiment, models_dir, arch)

# %% [markdown] tags=["section-if-shown"]
# ## Learning curves
#
# Training loss and validation score after every epoch (`history.csv` of the run). The
# validation score is the competition's `tgs_score` at the best threshold of that epoch; the best
# epoch's weights are the ones kept.

# %%
if len(experiment.history):
    report.save_figure(model_chapter.plot_learning_curves(experiment.history, experiment.record["training"]["loss"]), f"{chapter}_learning_curves", figures_dir)

# %% [markdown]
# The grey band is the Lovasz stage, which starts from the best weights of the first stage. The
# findings at the end of the chapter say where the kept epoch lies and how the validation score
# moved over the last epochs.

# %% [markdown]
# ## Choosing the threshold
#
# The network outputs a salt probability per pixel; a threshold turns it into a mask. Training
# chose the threshold that maximises the validation score (with flip test-time augmentation), and
# then the smallest salt region worth keeping. The sweep shows the validation score for every
# threshold.

# %%
val_result = evaluate.evaluate_model(experiment.model_path, val, cache_dir, arch)
sweep = evaluate.threshold_sweep(val_result.probs, val.masks)
report.save_figure(model_chapter.plot_threshold_sweep(sweep, experiment.record["threshold"], empty_share=(val.coverage == 0).mean()), f"{chapter}_threshold_sweep", figures_dir);

# %%
report.markdown([model_chapter.plateau_sentence(sweep)])

# %% [markdown]
# The sweep is scored before the minimum region size is applied, so its best score sits a little
# below the validation score of the findings. At high thresholds the score falls towards the share
# of empty tiles (dotted): with almost no pixel called salt, every empty tile still scores 1 and
# every tile with salt 0; where the curve drops steeply to that level, the figure marks the fall
# as a cliff.
#
# ## Test scores
#
# The test tiles were used for nothing so far. Each score is the mean over tiles, with a 95 %
# bootstrap interval over tiles, at the threshold and minimum region size chosen on validation.

# %%
test_result = evaluate.evaluate_model(experiment.model_path, test, cache_dir, arch)
scores = report.save_table(evaluate.score_table(test.masks, test_result.masks, bootstrap_resamples), f"{chapter}_test_scores", tables_dir,
                           caption=f"Test scores of the {network} with 95 % bootstrap intervals over tiles.")
scores

# %% [markdown]
# The table gives the competition score (`tgs_score`), the source thesis's approximation of it
# (`thesis_iou_metric`), mean IoU and Dice, and how often the model gets a tile's emptiness right.
# Consistency checks on the table:

# %%
# NBVAL_CHECK_OUTPUT
evaluate.check_intervals(scores, [("value", "ci_low", "ci_high")])

# %% [markdown]
# ## Best and worst test tiles
#
# The best test tiles that hold salt (top row) and the worst test tiles (bottom row), labelled salt
# tinted and the prediction outlined; the titles give the tile's id, `tgs_score` and salt coverage.
# Where more tiles tie at the top score (often 1) than the row holds, it spreads over their salt
# coverage, from least to most. The worst are ordered by score, then IoU, then how much of the tile
# is wrong (salt missed or falsely found), so that among tiles scoring 0 the largest mistakes come first.

# %%
best, worst = evaluate.best_and_worst(test_result.per_tile["tgs_score"], test_result.per_tile["iou"], test.coverage, cases,
                                      predicted_coverage=test_result.masks.mean(axis=(1, 2)))
rows = {"best": report.case_row(test, best, test_result.masks, test_result.per_tile["tgs_score"]),
        "worst": report.case_row(test, worst, test_result.masks, test_result.per_tile["tgs_score"])}
report.save_figure(report.plot_cases(rows), f"{chapter}_cases", figures_dir);

# %% [markdown]
# The best tiles show what the model has learned to outline; the worst show what it gets wrong.
# Chapter 6 sorts the errors of both networks by kind (missed salt, false alarms, wrong outlines)
# on the same tiles.

# %% [markdown]
# ## Findings
#
# Generated from the model's record (training, and what validation chose), its history and the
# test score table above:

# %%
report.markdown(model_chapter.model_findings(experiment.record, experiment.history, scores))
