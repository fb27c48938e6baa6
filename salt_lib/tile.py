"""The competition's tile: 101 x 101 pixels. The one constant every layer shares, in a module that
imports nothing, so that geometry, data and the run-length codec read it without each other."""

TILE = 101  # the competition's tile height and width in pixels
TILE_SHAPE = (TILE, TILE)
