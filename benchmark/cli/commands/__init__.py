"""One module per `sommelier` subcommand (see `benchmark.cli`). Keep imports of heavy
libraries (torch, transformers, datasets) inside `run` so `sommelier --help` stays instant."""
