"""Stage 2, evaluation: the submission format, prediction checks, metrics and scoring.

`options` (the knobs), `submission` (an entry's metadata and files), `predictions` (checks and
alignment of one table), `truth` (the labels scored against), `metrics` (the registry and its
bootstrap), `scoring` (one table), `entry` (a whole entry), `results` (what the API returns),
`writer` (building a valid entry), `display` (the tables the CLI prints).
"""
