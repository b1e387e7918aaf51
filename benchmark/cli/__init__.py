"""The `sommelier` command line: `main` (the parser), one module per subcommand under
`commands/`, and `quickstart`; `models` is the one module of `benchmark` that imports
`baselines`."""
