"""Config errors stop start-up with one message: file, field path, reason."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from dashboard_core.config import ENV_VAR, Config, ConfigError, load_config
from dashboard_core.server import load_or_exit

Writer = Callable[[str], Path]


def error_of(path: Path) -> str:
    with pytest.raises(ConfigError) as caught:
        load_config(path)
    return str(caught.value)


def test_syntax_error_names_the_file_and_the_line(write_config: Writer) -> None:
    path = write_config("[sampler\ninterval_seconds = 1\n")
    message = error_of(path)
    assert message.startswith(f"{path}: not valid TOML")
    assert "line 1" in message


def test_wrong_type_names_the_field_and_the_value(write_config: Writer) -> None:
    message = error_of(write_config('[sampler]\ninterval_seconds = "fast"\n'))
    assert "sampler.interval_seconds" in message
    assert "'fast'" in message


def test_unknown_key_is_refused(write_config: Writer) -> None:
    message = error_of(write_config("[sampler]\nintervall_seconds = 2\n"))
    assert "sampler.intervall_seconds: unknown key" in message


def test_out_of_range_interval(write_config: Writer) -> None:
    message = error_of(write_config("[sampler]\ninterval_seconds = 0\n"))
    assert "sampler.interval_seconds: Input should be greater than or equal to 0.1 (got 0)" in message


def test_every_error_is_listed(write_config: Writer) -> None:
    message = error_of(write_config("[sampler]\ninterval_seconds = 0\ntop_n = 0\n[nope]\n"))
    assert message.splitlines()[0].endswith("3 invalid settings")
    assert {"sampler.interval_seconds", "sampler.top_n", "nope"} <= {
        line.strip().split(":")[0] for line in message.splitlines()[1:]
    }


def test_a_bad_watch_regex_names_the_rule(write_config: Writer) -> None:
    message = error_of(write_config('[[watch]]\nlabel = "a"\nmatch = "cmdline"\npattern = "(unclosed"\n'))
    assert "watch.0 (a): pattern is not a valid regular expression" in message


def test_watch_labels_are_unique(write_config: Writer) -> None:
    message = error_of(write_config('[[watch]]\nlabel = "b"\npattern = "x"\n[[watch]]\nlabel = "b"\npattern = "y"\n'))
    assert "watch: labels must be unique; repeated: b" in message


def test_history_that_does_not_fit_is_refused(write_config: Writer) -> None:
    message = error_of(write_config("[sampler]\ninterval_seconds = 0.1\nhistory_hours = 744\n"))
    assert "at most 10,000,000 fit in memory" in message


def test_missing_default_file_means_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    config = load_config()
    assert config == Config()
    assert config.sampler.capacity == 86_400
    assert config.source is None


def test_a_named_file_that_is_missing_is_an_error(tmp_path: Path) -> None:
    assert error_of(tmp_path / "nope.toml") == f"{tmp_path / 'nope.toml'}: config file not found"


def test_env_var_selects_the_file_and_data_dir_is_relative_to_it(
    write_config: Writer, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = write_config('[sampler]\ninterval_seconds = 2\n[storage]\ndata_dir = "state"\n')
    monkeypatch.setenv(ENV_VAR, str(path))
    config = load_config()
    assert config.sampler.interval_seconds == 2
    assert config.data_dir == (tmp_path / "state").resolve()


def test_the_shipped_config_is_valid() -> None:
    config = load_config(Path(__file__).parent.parent / "dashboard.toml")
    assert config.watch and config.sampler.interval_seconds == 1.0


def test_server_start_exits_with_the_message_not_a_traceback(
    write_config: Writer, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config("[sampler]\ninterval_seconds = -1\n")
    with pytest.raises(SystemExit) as caught:
        load_or_exit(["--config", str(path)])
    assert caught.value.code == 2
    err = capsys.readouterr().err
    assert "cannot start, the config is invalid" in err
    assert f"{path}: 1 invalid setting" in err
    assert "Traceback" not in err
