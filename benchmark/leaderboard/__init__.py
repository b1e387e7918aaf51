"""Stage 3, the leaderboard: `board` ranks the evaluated entries; `page` and `plot` render it;
`write` puts every output on disk (and the table into README.md)."""
