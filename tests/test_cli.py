"""Every subcommand has --help; bad input gives one clear line and a non-zero exit."""

import subprocess
import sys

import pytest

from benchmark.cli.main import build_parser, command_names, main


def test_top_level_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for name in command_names():
        assert name in out


@pytest.mark.parametrize("name", command_names())
def test_every_command_has_help(name, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main([name, "--help"])
    assert exit_info.value.code == 0
    assert "usage: sommelier" in capsys.readouterr().out


def test_importing_the_cli_does_not_import_torch():
    code = ("import sys, benchmark.cli.main as c; c.build_parser(); "
            "bad = [m for m in ('torch', 'transformers') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_parser_builds():
    assert build_parser().prog == "sommelier"

