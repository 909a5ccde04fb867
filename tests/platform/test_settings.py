"""Settings are validated: an unknown environment is refused, and a secret always exists and is private."""

import os
import stat
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
from pydantic import ValidationError

from ecoops.config import SECRET_FILE, Settings


@pytest.mark.parametrize("spelled", ["prod", "staging", "dev", ""])
def test_unknown_environment_is_refused(spelled, tmp_path):
    with pytest.raises(ValidationError, match="ECOOPS_ENV must be one of development, production, test"):
        Settings(env=spelled, var_dir=tmp_path)


def test_environment_in_other_case_is_that_environment(tmp_path):
    assert Settings(env=" Production ", var_dir=tmp_path).env == "production"


def test_environment_from_the_process_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("ECOOPS_ENV", "prod")
    with pytest.raises(ValidationError, match="not 'prod'"):
        Settings(var_dir=tmp_path)


def test_generated_secret_is_random_private_and_kept(tmp_path):
    var = tmp_path / "var"
    first = Settings(env="production", var_dir=var)
    path = var / SECRET_FILE
    assert stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert len(first.secret_key) >= 32
    assert Settings(env="production", var_dir=var).secret_key == first.secret_key  # kept across restarts
    assert Settings(env="production", var_dir=tmp_path / "other").secret_key != first.secret_key


def test_processes_starting_at_once_share_one_secret(tmp_path):
    var = tmp_path / "var"
    code = "from ecoops.config import Settings; print(Settings().secret_key)"
    env = {**os.environ, "ECOOPS_VAR_DIR": str(var), "ECOOPS_ENV": "production"}
    env.pop("ECOOPS_SECRET_KEY", None)

    def start(_: int) -> str:
        return subprocess.run(
            [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
        ).stdout

    with ThreadPoolExecutor(4) as pool:
        secrets = set(pool.map(start, range(4)))
    assert len(secrets) == 1 and len(secrets.pop().strip()) >= 32


@pytest.mark.parametrize("env", ["development", "production"])
def test_short_secret_is_refused(env, tmp_path):
    with pytest.raises(ValidationError, match="32"):
        Settings(env=env, var_dir=tmp_path, secret_key="short")


def test_a_truncated_secret_file_is_refused(tmp_path):
    tmp_path.mkdir(exist_ok=True)
    (tmp_path / SECRET_FILE).write_text("abc\n")
    with pytest.raises(ValidationError, match="secret"):
        Settings(var_dir=tmp_path)


def test_the_command_refuses_to_start_on_a_wrong_setting(tmp_path):
    env = {**os.environ, "ECOOPS_VAR_DIR": str(tmp_path), "ECOOPS_ENV": "prod"}
    done = subprocess.run(
        [sys.executable, "-m", "ecoops.cli", "serve"], env=env, capture_output=True, text=True, timeout=60
    )
    assert done.returncode == 2
    assert "ECOOPS_ENV" in done.stdout and "not 'prod'" in done.stdout
