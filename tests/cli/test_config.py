"""``vfl simulate --config FILE``: defaults < file < VFL_SIMULATE_* < typed flags.

Over the real app (``tests.fixtures.cli`` runs it in this process, as the entry
point would); ``--dump-config`` shows what the layers merged to without
training, and one short run checks the file's values reach the run itself.
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pytest
from typer.testing import Result

from tests.fixtures.cli import run_vfl
from vfl.cli.config import load_settings
from vfl.cli.simulate import SimulateSettings

RUN_TOML = """\
dataset = "breast-cancer"
epochs = 3
batch_size = 32
seed = 5
compare_retrain = false
quiet = true
"""


def write(tmp_path: Path, text: str, name: str = "run.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def effective(*args: str, env: dict[str, str] | None = None) -> dict:
    """The settings ``vfl simulate ARGS --dump-config`` prints, parsed back."""
    result = run_vfl("simulate", *args, "--dump-config", env=env)
    assert result.exit_code == 0, result.stderr
    return tomllib.loads(result.stdout)


def test_a_run_reads_its_options_from_the_file(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    config = write(tmp_path, RUN_TOML + f'json = "{report}"\n')
    result = run_vfl("simulate", "--config", str(config))
    assert result.exit_code == 0, result.stderr
    got = json.loads(report.read_text())
    assert (got["dataset"], got["seed"]) == ("breast-cancer", 5)
    assert (got["train"]["epochs"], got["train"]["batch_size"]) == (3, 32)
    assert "retrained" not in got  # compare_retrain = false
    # breast-cancer has classes 0 and 1: the default class is its last one, not 3
    assert got["classes_forgotten"] == [1]


def test_a_typed_flag_beats_the_file_and_an_untyped_one_does_not(tmp_path: Path) -> None:
    config = write(tmp_path, RUN_TOML)
    got = effective("--config", str(config), "--batch-size", "8", "--seed", "0")
    assert got["batch_size"] == 8
    assert got["seed"] == 0  # typed, although 0 is also the flag's default
    assert got["epochs"] == 3 and got["dataset"] == "breast-cancer"  # not typed: the file's


def test_the_environment_beats_the_file_and_a_flag_beats_both(tmp_path: Path) -> None:
    config = write(tmp_path, RUN_TOML)
    env = {"VFL_SIMULATE_BATCH_SIZE": "16", "VFL_SIMULATE_UNLEARN_CLASS": "[0, 1]"}
    got = effective("--config", str(config), env=env)
    assert got["batch_size"] == 16 and got["unlearn_class"] == [0, 1]
    assert effective("--config", str(config), "--batch-size", "4", env=env)["batch_size"] == 4


def test_dump_config_loads_back_to_the_same_settings(tmp_path: Path) -> None:
    args = [
        *("--dataset", "wine", "--parties", "3", "--class", "0", "--class", "2"),
        *("--method", "luv-hidden", "--method-option", "margin=3", "--no-compare-retrain"),
        *("--lr", "0.01", "--json", str(tmp_path / "r.json"), "--eval", "full", "--quiet"),
    ]
    first = run_vfl("simulate", *args, "--dump-config")
    assert first.exit_code == 0 and first.stderr == ""
    dumped = write(tmp_path, first.stdout, "dumped.toml")
    again = run_vfl("simulate", "--config", str(dumped), "--dump-config")
    assert again.exit_code == 0 and again.stdout == first.stdout
    typed = {
        **dict(dataset="wine", parties=3, unlearn_class=[0, 2], method="luv-hidden"),
        **dict(method_option=["margin=3"], compare_retrain=False, lr=0.01),
        **dict(json_out=tmp_path / "r.json", eval_level="full", quiet=True),
    }
    assert load_settings(SimulateSettings, dumped, {}) == load_settings(
        SimulateSettings, None, typed
    )
    assert not (tmp_path / "r.json").exists()  # --dump-config runs nothing


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("batchsize = 32\n", "run.toml: batchsize: unknown key (did you mean batch_size?)"),
        ("[train]\nepochs = 3\n", "run.toml: train: unknown key"),
        ('batch_size = "many"\n', "run.toml: batch_size: Input should be a valid integer"),
        ('unlearn_class = ["x"]\n', "run.toml: unlearn_class[0]: Input should be a valid int"),
        ("batch_size = \n", "run.toml: not valid TOML"),
    ],
)
def test_a_bad_file_is_one_line_naming_the_file_and_key(
    tmp_path: Path, text: str, message: str
) -> None:
    report = tmp_path / "report.json"
    result = run_vfl("simulate", "--config", str(write(tmp_path, text)), "--json", str(report))
    assert_one_error_line(result, message)
    assert not report.exists()


def test_a_missing_file_is_one_line(tmp_path: Path) -> None:
    result = run_vfl("simulate", "--config", str(tmp_path / "nope.toml"))
    assert_one_error_line(result, f"--config {tmp_path / 'nope.toml'}: cannot read it")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"VFL_SIMULATE_BATCHSIZE": "3"}, "VFL_SIMULATE_BATCHSIZE: no such option (did you"),
        ({"VFL_SIMULATE_EPOCHS": "lots"}, "VFL_SIMULATE_EPOCHS: Input should be a valid int"),
        (
            {"VFL_SIMULATE_UNLEARN_CLASS": "[1,"},
            "VFL_SIMULATE_UNLEARN_CLASS: Input should be a valid list",
        ),
    ],
)
def test_a_bad_variable_is_one_line_naming_it(env: dict[str, str], message: str) -> None:
    assert_one_error_line(run_vfl("simulate", "--dump-config", env=env), message)


def test_help_names_the_file_and_the_variables() -> None:
    result = run_vfl("simulate", "--help")
    text = " ".join(result.stdout.split())
    assert "--config" in text and "--dump-config" in text
    assert "VFL_SIMULATE_<OPTION>" in text and "defaults < file < environment < flags" in text


def assert_one_error_line(result: Result, message: str) -> None:
    assert result.exit_code == 2, result.stderr
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vfl: error: "), result.stderr
    assert message in lines[0], lines[0]


@pytest.mark.parametrize("flag", ["--class", "--unlearn-class"])
def test_both_spellings_of_the_class_flag_work_in_simulate_and_unlearn(flag: str) -> None:
    assert effective(flag, "1")["unlearn_class"] == [1]
    result = run_vfl("unlearn", flag, "3", "--insecure", "--coordinator", "127.0.0.1:1")
    # parsed, then refused for the coordinator that is not there (not a usage error)
    assert result.exit_code == 2 and "coordinator at 127.0.0.1:1" in result.stderr
