"""A synthetic, TGS-like salt data set: the workbook's embedded default.

The real TGS tiles are 101x101 crops of seismic sections (depth down the rows, distance along
the columns) with a hand-drawn salt mask. This module builds look-alikes from a small physical
model, so every notebook runs without the Kaggle download, and writes them in Kaggle's layout.

The physical model, in the order the code follows it:

1. **Sediments** are layers. One random *reflectivity series* per tile (sparse spikes where the
   rock changes, with louder and quieter packages) is the stratigraphy along depth.
2. **Structure** bends the layers: each pixel reads the series at a shifted depth. The shift adds a
   regional dip, folds (sinusoids whose amplitude changes with depth), a gentle random warp, up to
   two faults (on one side of a dipping line everything moves by the fault's throw), and drag:
   layers next to salt are pushed up along its flanks.
3. **Salt** is where a smooth random field (plus a ramp in a random direction, so bodies enter
   from any edge) exceeds a threshold; the threshold is chosen so the tile hits a target salt
   coverage exactly. Inside salt the layers are gone: salt is nearly homogeneous, so its
   reflectivity is weak and chaotic. Where salt starts going down a column the impedance jumps up:
   a strong positive *top-of-salt* reflection, dimmer on steep flanks, which seismic images
   poorly; the base of salt gets a weaker negative one.
4. **The seismic image** is that 2-D reflectivity convolved down each column with a zero-phase
   Ricker wavelet (15-35 Hz, at a per-tile sample interval of 2-5 ms, so tiles look more or less
   "zoomed" as real ones do), plus noise with the same bandwidth, smoothed a little sideways.
5. **Display**: each tile gets its own random gain, contrast and offset before it becomes an
   8-bit grey image, as real tiles do, so absolute brightness says nothing about salt (tiles
   nearly all salt are stretched less, so they stay greyer, as in the real set). About 2%
   of tiles are all black with no salt, a quirk of the real set that loaders must survive.

The label is what a convnet should learn: coherent layering outside, weak incoherent texture
inside, a bright event on top. ``benchmarks/bench_synthetic.py`` (and its test) check that no single
global grey-level threshold gets much above predicting "no salt" everywhere.

Why numpy/scipy only: the Ricker wavelet is a one-line formula whose spectrum is known in closed
form, so we convolve by multiplying spectra (one FFT for a whole batch of tiles, each with its
own wavelet). A geophysics package such as ``bruges`` would add a dependency for that one line
and would still need a per-tile loop. Random smooth fields are sums of random cosines (a
standard spectral method): separable, so a batch is a few matrix products, and defined at any
pixel, so there are no wrap-around artefacts at tile edges.

Conventions: arrays are (tile, depth, distance), i.e. (N, 101, 101) with row 0 the shallowest.
Depth shifts and wavelet periods are in pixels (samples); frequencies in cycles per pixel.
"""

from __future__ import annotations

import csv
import os
import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
from PIL import Image
from scipy import ndimage

from salt_lib.rle import rle_encode
from salt_lib.tile import TILE

MARGIN = 32  # extra rows above and below the tile, so the wavelet sees reflectors beyond the edge
CANVAS_ROWS = TILE + 2 * MARGIN
TRACE_LENGTH = 512  # samples in each tile's 1-D stratigraphy; structure shifts read inside it
TRACE_ORIGIN = 190  # where canvas row 0 reads the trace before any shift
BATCH_SIZE = 250  # tiles computed together; fixed so the output never depends on memory
WORKERS = 2  # threads for generating batches and encoding PNGs (the target machine has 2 cores)

# Coverage mix, as shares of all tiles, read off the real training set: 39% without salt (2% of
# all tiles also all-black), a few percent fully salt, extra mass at small coverages, the rest
# spread evenly over (0, 1).
EMPTY_SHARE = 0.39
BLANK_SHARE = 0.02
FULL_SHARE = 0.025
SMALL_SHARE = 0.13
SMALL_COVERAGE_RANGE = (0.001, 0.25)  # log-uniform: about 10 pixels up to a quarter tile

PEAK_FREQUENCY_HZ = (15.0, 35.0)
SAMPLE_INTERVAL_S = (0.002, 0.005)
DEPTH_RANGE = (50.0, 960.0)  # the real depths.csv spans about this


# --------------------------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------------------------


def ricker_wavelet(peak_frequency, half_length: int) -> np.ndarray:
    """Zero-phase Ricker wavelet sampled at integer lags -half_length..half_length.

    ``peak_frequency`` is in cycles per sample (Hz times sample interval in s): a number, giving
    shape (2h+1,), or an array (N,), giving one wavelet per row (N, 2h+1). The peak is 1.
    """
    lag = np.arange(-half_length, half_length + 1, dtype=float)
    arg = (np.pi * np.asarray(peak_frequency, float)[..., None] * lag) ** 2
    return (1.0 - 2.0 * arg) * np.exp(-arg)


def ricker_spectrum(frequency: np.ndarray, peak_frequency: np.ndarray) -> np.ndarray:
    """Fourier transform of :func:`ricker_wavelet` (real: the wavelet is symmetric).

    Both arguments in cycles per sample and broadcast together.
    """
    ratio_sq = (frequency / peak_frequency) ** 2
    return 2.0 / np.sqrt(np.pi) * ratio_sq / peak_frequency * np.exp(-ratio_sq)


def convolve_columns(reflectivity: np.ndarray, peak_frequency: np.ndarray) -> np.ndarray:
    """Convolve every column of every tile with that tile's Ricker wavelet.

    reflectivity (N, rows, cols); peak_frequency (N,) in cycles per sample. Circular in depth,
    so callers keep a margin of rows at least one wavelet period wide above and below.
    """
    rows = reflectivity.shape[1]
    spectrum = np.fft.rfft(reflectivity, axis=1)
    frequency = np.fft.rfftfreq(rows)  # cycles per sample
    response = ricker_spectrum(frequency[None, :], peak_frequency[:, None]).astype(spectrum.real.dtype)
    return np.fft.irfft(spectrum * response[:, :, None], n=rows, axis=1)


def smoothed_noise(rng, shape, sigma) -> np.ndarray:
    """White noise of ``shape`` smoothed by a Gaussian of ``sigma`` pixels per axis, unit variance.

    A Gaussian of width s shrinks white noise's variance by 2 * sqrt(pi) * s per smoothed axis.
    """
    norm = np.prod([np.sqrt(2 * np.sqrt(np.pi) * s) for s in sigma if s > 0])
    return ndimage.gaussian_filter(rng.standard_normal(size=shape, dtype=np.float32), sigma=sigma) * np.float32(norm)


def random_smooth_field(rng, n, rows, cols, length_scale, n_modes=24) -> np.ndarray:
    """Gaussian random fields with a Gaussian covariance of the given correlation length.

    rows, cols: pixel coordinates (1-D arrays); length_scale (N,) in pixels. Returns
    (N, len(rows), len(cols)), zero mean and unit variance in expectation. A sum of ``n_modes``
    cosines with random wave vectors; cos(a + b) = cos a cos b - sin a sin b makes it separable.
    """
    wave_vectors = rng.normal(size=(n, n_modes, 2)) / np.asarray(length_scale, float)[:, None, None]
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, n_modes))
    along_rows = rows[None, :, None] * wave_vectors[:, None, :, 0] + phase  # (N, rows, modes)
    along_cols = wave_vectors[:, :, 1:] * cols[None, None, :]  # (N, modes, cols)
    # One batched matrix product: [cos a, sin a] @ [cos b; -sin b] = sum of cos(a + b).
    row_part = np.concatenate([np.cos(along_rows), np.sin(along_rows)], axis=2).astype(np.float32)
    col_part = np.concatenate([np.cos(along_cols), -np.sin(along_cols)], axis=1).astype(np.float32)
    return np.matmul(row_part, col_part) * np.float32(np.sqrt(2.0 / n_modes))


def random_smooth_curve(rng, n, coords, length_scale, n_modes=24) -> np.ndarray:
    """The 1-D version of :func:`random_smooth_field`: (N, len(coords)), unit variance."""
    wave_numbers = rng.normal(size=(n, 1, n_modes)) / np.asarray(length_scale, float)[:, None, None]
    phase = rng.uniform(0, 2 * np.pi, size=(n, 1, n_modes))
    curve = np.cos(np.asarray(coords, float)[None, :, None] * wave_numbers + phase).sum(axis=2)
    return (curve * np.sqrt(2.0 / n_modes)).astype(np.float32)


def layer_reflectivity(rng, n, length=TRACE_LENGTH) -> np.ndarray:
    """One stratigraphic reflectivity series per tile, (N, length), scaled to unit RMS.

    Sparse Laplace-distributed spikes (a few per ten samples) under a slowly varying loudness, so
    some packages of layers are bright and others quiet, over a faint continuous background.
    Lightly smoothed so that reading it at fractional depths (the structural shifts) is smooth.
    """
    spike_rate = rng.uniform(0.12, 0.4, size=(n, 1))
    spikes = (rng.random((n, length)) < spike_rate) * rng.laplace(size=(n, length))
    depth = np.arange(length, dtype=float)
    loudness = np.exp(0.4 * random_smooth_curve(rng, n, depth, rng.uniform(8, 30, n)))
    trace = ndimage.gaussian_filter1d(spikes * loudness + 0.1 * rng.normal(size=(n, length)), sigma=0.7, axis=1)
    return (trace / trace.std(axis=1, keepdims=True)).astype(np.float32)


def per_tile(rng, low, high, n) -> np.ndarray:
    """One uniform random parameter per tile, shaped (N, 1, 1) to broadcast over a tile."""
    return rng.uniform(low, high, size=(n, 1, 1)).astype(np.float32)


def structural_shift(rng, n, rows, cols, salt_proximity) -> np.ndarray:
    """Depth shift (N, rows, cols) in pixels: where each pixel reads its tile's stratigraphy.

    Adds dip, folds, a smooth random warp, faults and salt drag. ``salt_proximity`` (N, rows,
    cols) is 1 in salt fading to 0 a few pixels away; drag lifts layers by up to ~8 pixels there.
    """
    z = rows[None, :, None]
    x = (cols - cols.mean())[None, None, :]
    dip = per_tile(rng, -0.45, 0.45, n) * x
    # Folds: a sinusoid along the section whose amplitude changes with depth (growth strata).
    fold_wavelength = per_tile(rng, 40, 250, n)
    # Amplitude up to 8% of the wavelength (at most 12 px) keeps fold limbs below ~27 degrees.
    fold_amplitude = np.minimum(per_tile(rng, 0, 0.08, n) * fold_wavelength, 12)
    fold_amplitude = fold_amplitude * (1 + per_tile(rng, -0.8, 0.8, n) * (z - z.mean()) / TILE)
    folds = fold_amplitude * np.sin(2 * np.pi * x / fold_wavelength + per_tile(rng, 0, 2 * np.pi, n))
    warp = per_tile(rng, 0, 3, n) * random_smooth_field(rng, n, rows, cols, rng.uniform(15, 40, n), n_modes=8)
    drag = per_tile(rng, 0, 8, n) * salt_proximity
    return dip + folds + warp + drag + faults(rng, n, rows, cols)


def faults(rng, n, rows, cols, fault_probability=(0.45, 0.2)) -> np.ndarray:
    """Fault throws (N, rows, cols) in pixels: 0 on one side of each dipping fault line.

    A tile gets a first fault with probability ``fault_probability[0]`` and a second with
    ``[1]``. Faults are steep (within 10-40 degrees of vertical) and throw 3-18 pixels either way.
    """
    z = rows[None, :, None]
    x = cols[None, None, :]
    throw_field = np.zeros((n, len(rows), len(cols)), np.float32)
    for probability in fault_probability:
        present = rng.random(n) < probability
        anchor_x = per_tile(rng, 10, TILE - 10, n)
        anchor_z = per_tile(rng, rows.min(), rows.max(), n)
        lean = np.tan(np.radians(per_tile(rng, 10, 40, n))) * rng.choice([-1, 1], size=(n, 1, 1))
        throw = per_tile(rng, 3, 18, n) * rng.choice([-1, 1], size=(n, 1, 1))
        faulted = np.flatnonzero(present)  # work only on tiles that have this fault
        hanging_wall = (x - anchor_x[faulted]) - lean[faulted] * (z - anchor_z[faulted]) > 0
        throw_field[faulted] += hanging_wall * throw[faulted]
    return throw_field


def sample_coverages(rng, n) -> tuple[np.ndarray, np.ndarray]:
    """Target salt coverage (N,) in [0, 1] and a blank-tile flag (N,) for a set of n tiles.

    Counts per class are exact (rounded shares of n), assigned to tiles in random order, so even
    a small set has close to 39% empty tiles.
    """
    n_empty = round(EMPTY_SHARE * n)
    n_blank = min(round(BLANK_SHARE * n), n_empty)
    n_full = round(FULL_SHARE * n)
    n_small = round(SMALL_SHARE * n)
    n_spread = max(n - n_empty - n_full - n_small, 0)
    low, high = np.log(SMALL_COVERAGE_RANGE[0]), np.log(SMALL_COVERAGE_RANGE[1])
    coverage = np.concatenate([
        np.zeros(n_empty),
        np.ones(n_full),
        np.exp(rng.uniform(low, high, n_small)),
        rng.uniform(0, 1, n_spread),
    ])[:n]
    blank = np.zeros(n, bool)
    blank[:n_blank] = True  # blank tiles come from the empty ones
    order = rng.permutation(n)
    return coverage[order], blank[order]


def salt_bodies(rng, coverage, rows, cols) -> tuple[np.ndarray, np.ndarray]:
    """Salt masks on the canvas (N, rows, cols) bool, and the salt field they threshold.

    The field is a smooth random blob field plus a ramp in a random direction (salt enters from
    any edge) plus faint rugosity; returned minus its threshold, so salt is where it is > 0. The
    threshold is set per tile so that round(coverage * 101^2) pixels of the visible tile are salt
    (at least one for coverage > 0; exact unless two pixels share a field value).
    """
    n = len(coverage)
    z = rows[None, :, None] - rows.mean()
    x = cols[None, None, :] - cols.mean()
    direction = per_tile(rng, 0, 2 * np.pi, n)
    ramp = per_tile(rng, 0.3, 2.5, n) * (np.cos(direction) * x + np.sin(direction) * z) / (TILE / 2)
    field = random_smooth_field(rng, n, rows, cols, rng.uniform(18, 50, n), n_modes=16) + ramp
    field += 0.06 * random_smooth_field(rng, n, rows, cols, rng.uniform(3, 6, n), n_modes=8)

    visible = np.sort(field[:, MARGIN:MARGIN + TILE, :].reshape(n, -1), axis=1)
    n_pixels = visible.shape[1]
    salt_pixels = np.where(coverage > 0, np.clip(np.round(coverage * n_pixels), 1, n_pixels), 0).astype(int)
    # Threshold halfway between the last non-salt and the first salt value of the sorted tile.
    below = np.take_along_axis(visible, np.clip(n_pixels - salt_pixels - 1, 0, None)[:, None], 1)[:, 0]
    above = np.take_along_axis(visible, np.clip(n_pixels - salt_pixels, None, n_pixels - 1)[:, None], 1)[:, 0]
    threshold = np.where(salt_pixels == n_pixels, visible[:, 0] - 1e-3, 0.5 * (below + above))
    # A salt-free tile: put the threshold well above its field, so no drag lifts its layers.
    threshold = np.where(salt_pixels == 0, visible[:, -1] + 1.0, threshold)
    field -= threshold[:, None, None]
    salt = field > 0
    salt[salt_pixels == 0] = False  # a salt-free tile has no salt in its margins either
    return salt, field


def salt_reflectivity(rng, salt, salt_field) -> np.ndarray:
    """Reflectivity (N, rows, cols) of the salt itself: top and base events and chaotic interior.

    In units of the layers' RMS reflectivity. Top of salt: +3 to +5 on the first salt pixel going
    down each column, scaled by how flat the boundary is there (steep flanks, which seismic
    images poorly, keep 30%). Base of salt: negative, up to half as strong. Interior: noise
    smoothed over about a pixel, 5-20% as loud as the layers, with no lateral continuity.
    """
    n = len(salt)
    above = np.zeros_like(salt)
    above[:, 1:] = salt[:, :-1]
    below = np.zeros_like(salt)
    below[:, :-1] = salt[:, 1:]
    reflectivity = salt * smoothed_noise(rng, salt.shape, (0, 0.8, 1.2)) * per_tile(rng, 0.05, 0.2, n)

    top_strength = per_tile(rng, 3.0, 5.0, n)
    base_strength = per_tile(rng, -1.5, 0.0, n)
    for boundary, strength in ((salt & ~above, top_strength), (salt & ~below, base_strength)):
        tile, row, col = np.nonzero(boundary)
        # Boundary dip from the salt field's gradient, by central differences at these pixels only.
        up, down = np.maximum(row - 1, 0), np.minimum(row + 1, salt.shape[1] - 1)
        left, right = np.maximum(col - 1, 0), np.minimum(col + 1, salt.shape[2] - 1)
        d_rows = salt_field[tile, down, col] - salt_field[tile, up, col]
        d_cols = salt_field[tile, row, right] - salt_field[tile, row, left]
        flatness = np.abs(d_rows) / np.sqrt(d_rows**2 + d_cols**2 + 1e-12)  # |cos| of the dip
        reflectivity[tile, row, col] += (0.3 + 0.7 * flatness) * strength[tile, 0, 0]
    return reflectivity


def read_trace(trace, depth) -> np.ndarray:
    """Linear interpolation of each tile's trace (N, L) at fractional depths (N, rows, cols)."""
    n = len(trace)
    depth = np.clip(depth, 0, trace.shape[1] - 1.001)
    index = depth.astype(np.int32)  # floor: depths are >= 0
    weight = depth - index
    flat_index = index.reshape(n, -1)
    upper = np.take_along_axis(trace, flat_index, axis=1).reshape(depth.shape)
    lower = np.take_along_axis(trace, flat_index + 1, axis=1).reshape(depth.shape)
    return upper + (lower - upper) * weight


def to_grey(seismic, rng, amplitude_floor) -> np.ndarray:
    """Display each tile with its own gain, contrast and offset: float (N, H, W) -> uint8.

    Amplitudes are divided by the tile's standard deviation, but by no less than
    ``amplitude_floor`` (N,), so a tile that is nearly all quiet salt stays fairly flat instead of
    having its weak texture stretched to full contrast (real salt-filled tiles are greyer too).
    A per-tile contrast (14-48 grey levels per standard deviation) and offset (80-165) then map
    amplitudes to 0..255, like the real tiles' spread of means and contrasts. A gentle depth ramp
    in gain mimics uneven processing.
    """
    n, height, _ = seismic.shape
    depth = np.linspace(-0.5, 0.5, height, dtype=np.float32)[None, :, None]
    seismic = seismic * np.exp(per_tile(rng, -0.5, 0.5, n) * depth)
    scale = np.maximum(seismic.std(axis=(1, 2)), amplitude_floor)[:, None, None] + 1e-12
    contrast = per_tile(rng, 14, 48, n)
    offset = per_tile(rng, 80, 165, n)
    return np.clip(np.round(offset + contrast * seismic / scale), 0, 255).astype(np.uint8)


def wavelet_rms_gain(peak_frequency) -> np.ndarray:
    """How much a Ricker wavelet scales the RMS of white reflectivity: sqrt(sum of its samples
    squared), (N,) for peak frequencies (N,) in cycles per sample."""
    return np.sqrt((ricker_wavelet(peak_frequency, half_length=100) ** 2).sum(axis=-1))


def sample_depths(rng, coverage) -> np.ndarray:
    """Depth z (N,) of each tile, 50..960 like depths.csv; saltier tiles sit slightly deeper."""
    low, high = DEPTH_RANGE
    depth = rng.uniform(low, high, len(coverage)) + 150 * (coverage - 0.3)
    return np.round(np.clip(depth, low, high))


# --------------------------------------------------------------------------------------------
# Whole tiles
# --------------------------------------------------------------------------------------------


def _synthesize_batch(rng, coverage, blank) -> tuple[np.ndarray, np.ndarray]:
    """Images uint8 (n, 101, 101) and masks bool (n, 101, 101) for the given target coverages."""
    n = len(coverage)
    rows = np.arange(CANVAS_ROWS, dtype=np.float32)
    cols = np.arange(TILE, dtype=np.float32)

    salt, salt_field = salt_bodies(rng, coverage, rows, cols)
    # 1 inside salt, fading to 0 about a third of the field's spread away: where drag acts.
    proximity = np.clip(1 + salt_field / 0.35, 0, 1)

    trace = layer_reflectivity(rng, n)
    read_depth = TRACE_ORIGIN + rows[None, :, None] + structural_shift(rng, n, rows, cols, proximity)
    # Layers fade in loudness sideways a little, as real reflectors do.
    lateral_loudness = 1 + 0.25 * random_smooth_curve(rng, n, cols, rng.uniform(20, 60, n))[:, None, :]
    layers = read_trace(trace, read_depth) * lateral_loudness * ~salt

    peak_frequency = rng.uniform(*PEAK_FREQUENCY_HZ, n) * rng.uniform(*SAMPLE_INTERVAL_S, n)
    # Noise enters before the wavelet so it has the signal's bandwidth; smoothed sideways as
    # migration does. Level: 3-15% of the layers' RMS.
    noise = smoothed_noise(rng, salt.shape, (0, 0, 1.0)) * per_tile(rng, 0.03, 0.15, n)

    reflectivity = layers + salt_reflectivity(rng, salt, salt_field) + noise
    seismic = convolve_columns(reflectivity, peak_frequency)[:, MARGIN:MARGIN + TILE, :]
    # Layer-only tiles come out with an RMS of about 0.7-1.9 times the wavelet's gain; tiles that
    # are nearly all salt about 0.2. Flooring the display scale at 0.4 keeps salt tiles greyer.
    images = to_grey(seismic, rng, 0.4 * wavelet_rms_gain(peak_frequency))
    images[blank] = 0
    return images, salt[:, MARGIN:MARGIN + TILE, :]


def _synthesize(n: int, entropy) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Tiles for a seed sequence entropy (int or tuple of ints); see :func:`synthesize_tiles`."""
    seed_sequence = np.random.SeedSequence(entropy)
    set_rng = np.random.default_rng(seed_sequence)
    coverage, blank = sample_coverages(set_rng, n)
    depths = sample_depths(set_rng, coverage)
    images = np.empty((n, TILE, TILE), np.uint8)
    masks = np.empty((n, TILE, TILE), bool)
    n_batches = -(-n // BATCH_SIZE)

    def fill(batch: int, seed: np.random.SeedSequence) -> None:
        part = slice(batch * BATCH_SIZE, min(n, (batch + 1) * BATCH_SIZE))
        images[part], masks[part] = _synthesize_batch(np.random.default_rng(seed), coverage[part], blank[part])

    # Each batch has its own random stream, so threads cannot change the result; numpy and
    # scipy release the GIL in their heavy loops, so two threads use both cores.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(fill, range(n_batches), seed_sequence.spawn(n_batches)))
    return images, masks, depths


def synthesize_tiles(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """n synthetic TGS-like tiles in memory.

    Returns images uint8 (n, 101, 101) (grey levels, one channel), masks bool (n, 101, 101)
    (True = salt) and depths float (n,) (the depths.csv ``z``, about 50..960). The same seed
    gives byte-identical arrays.
    """
    if n < 0:
        raise ValueError(f"n must be >= 0, got {n}")
    return _synthesize(n, seed)


# --------------------------------------------------------------------------------------------
# Kaggle layout on disk
# --------------------------------------------------------------------------------------------


def tile_ids(n: int, seed: int = 0) -> list[str]:
    """n unique Kaggle-style ids (10 lowercase hex characters), deterministic for the seed."""
    rng = np.random.default_rng(np.random.SeedSequence((seed, 2)))
    ids: list[str] = []
    seen: set[str] = set()
    while len(ids) < n:
        for value in rng.integers(0, 16**10, size=n - len(ids), dtype=np.int64):
            tile_id = f"{int(value):010x}"
            if tile_id not in seen:
                seen.add(tile_id)
                ids.append(tile_id)
    return ids


def _existing_data_set_files(root: Path) -> tuple[list[Path], list[Path]]:
    """What is already in root: (every file under train/ and test/ plus root's CSVs, and those
    of them that a generated data set would replace: PNGs in its three folders, its CSVs)."""
    own_files = [root / name for name in ("train.csv", "depths.csv", "SYNTHETIC.txt") if (root / name).is_file()]
    for folder in ("train/images", "train/masks", "test/images"):
        if (root / folder).is_dir():
            own_files += sorted((root / folder).glob("*.png"))
    any_files = [root / name for name in ("train.csv", "depths.csv") if (root / name).is_file()]
    for folder in ("train", "test"):
        if (root / folder).is_dir():
            any_files += sorted(p for p in (root / folder).rglob("*") if p.is_file())
    return any_files, own_files


def _save_png(array: np.ndarray, path: Path) -> None:
    # zlib level 1: three times faster than the default 6 for files about 25% larger.
    Image.fromarray(array).save(path, compress_level=1)


def _write_tiles(images, masks, ids, image_dir: Path, mask_dir: Path | None) -> None:
    """Write RGB PNGs (three equal channels) and masks: 8-bit 0/255, every 4th one 16-bit 0/65535.

    The real set mixes 8- and 16-bit masks; doing the same keeps loaders honest.
    """
    def write(i: int) -> None:
        _save_png(np.repeat(images[i][:, :, None], 3, axis=2), image_dir / f"{ids[i]}.png")
        if mask_dir is not None:
            mask = masks[i].astype(np.uint16) * 65535 if i % 4 == 3 else masks[i].astype(np.uint8) * 255
            _save_png(mask, mask_dir / f"{ids[i]}.png")

    # zlib and file I/O release the GIL, so threads overlap encoding and writing.
    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        list(pool.map(write, range(len(ids))))


def make_synthetic_tgs(root, n_train: int = 4000, n_test: int = 1000, seed: int = 0, overwrite: bool = False) -> Path:
    """Write a synthetic data set in Kaggle's layout under ``root``; return ``root`` as a Path.

        root/train/images/<id>.png  RGB, 101x101, three equal channels
        root/train/masks/<id>.png   0/255 8-bit, or 0/65535 16-bit for every 4th tile
        root/train.csv              id,rle_mask (empty string for no salt)
        root/depths.csv             id,z for train and test tiles
        root/test/images/<id>.png   unlabelled tiles
        root/SYNTHETIC.txt          says what this is and how it was made

    The train tiles are exactly ``synthesize_tiles(n_train, seed)``. Refuses (FileExistsError)
    when root already has files under train/ or test/, or a train.csv or depths.csv;
    ``overwrite=True`` then deletes the PNGs in the three tile folders and the CSVs first (any
    other file is left alone), so no stale tiles mix with the new ones.
    """
    root = Path(root)
    existing, replaceable = _existing_data_set_files(root)
    if existing and not overwrite:
        raise FileExistsError(
            f"{root} already holds a data set ({len(existing)} files, e.g. {existing[0]}). "
            "Choose an empty folder, or pass overwrite=True to replace its PNGs and CSVs."
        )
    for path in replaceable:  # only with overwrite=True: no stale tiles may mix with new ones
        path.unlink()

    train_images, train_masks, train_depths = synthesize_tiles(n_train, seed)
    test_images, _, test_depths = _synthesize(n_test, (seed, 1))
    ids = tile_ids(n_train + n_test, seed)
    train_ids, test_ids = ids[:n_train], ids[n_train:]

    for folder in ("train/images", "train/masks", "test/images"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    _write_tiles(train_images, train_masks, train_ids, root / "train/images", root / "train/masks")
    _write_tiles(test_images, None, test_ids, root / "test/images", None)

    with open(root / "train.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "rle_mask"])
        writer.writerows((tile_id, rle_encode(mask)) for tile_id, mask in zip(train_ids, train_masks))
    with open(root / "depths.csv", "w", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "z"])
        writer.writerows((tile_id, int(z)) for tile_id, z in zip(ids, np.concatenate([train_depths, test_depths])))
    (root / "SYNTHETIC.txt").write_text(
        "Synthetic TGS-like tiles from salt_lib.synthetic.make_synthetic_tgs"
        f"(n_train={n_train}, n_test={n_test}, seed={seed}). Not real seismic data.\n"
    )
    return root


def write_synthetic_folder(root, n_train: int = 0, n_test: int = 0, seed: int = 0) -> Path:
    """``make_synthetic_tgs(root, n_train, n_test, seed)`` written beside ``root`` and renamed into
    place, so that an interrupted run never leaves half a data set: the one way the workbook
    writes a synthetic folder. ``root`` must be missing or an empty folder; returns it."""
    root = Path(root)
    partial = root.with_name(root.name + f".part{os.getpid()}")
    shutil.rmtree(partial, ignore_errors=True)
    make_synthetic_tgs(partial, n_train=n_train, n_test=n_test, seed=seed)
    if root.exists():
        root.rmdir()
    os.replace(partial, root)
    return root
