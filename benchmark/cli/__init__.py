"""The `sommelier` command line: `main` (the parser), one module per subcommand under
`commands/`, and `quickstart`. The only part of `benchmark` that imports `baselines`."""
