"""The command line: `ordergate serve | replay | verify-journal | keys | signals | simulate`,
and the views of a running server, `ordergate orders | positions | tail`.

One module per command group; `main` gathers them (the console script is
`ordergate.cli.main:main`). `process` holds the set-up that belongs to whoever owns the
process (logging, the garbage collector): a benchmark imports it without loading the
commands, the web server and every adapter behind them.
"""
