"""Stage 1, the benchmark dataset: upstream sources -> harmonised rows -> cross-matched
galaxies -> leakage-free splits -> a published Hub-layout folder -> `load`.

Modules follow that flow: `sources`, `harmonise`, `crossmatch`, `splits`, `build`, `publish`,
with `layout` (the folder's names and columns) and `load` (local folder or Hub id) beside it.
"""
