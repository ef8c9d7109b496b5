"""Training happens when the model's inputs change, and only then."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from bot.ops import train
from bot.settings import PROJECT_ROOT


@pytest.fixture
def project(tmp_path: Path) -> Path:
    for name in train.MODEL_INPUTS:
        source = PROJECT_ROOT / name
        if source.is_dir():
            shutil.copytree(source, tmp_path / name)
        else:
            shutil.copy(source, tmp_path / name)
    return tmp_path


def test_hash_ignores_timestamps_but_not_content(project: Path):
    before = train.model_path(project / "models", project)
    nlu_file = project / "data" / "nlu" / "find_store.yml"
    later = time.time() + 3600
    os.utime(nlu_file, (later, later))
    assert train.model_path(project / "models", project) == before

    nlu_file.write_text(nlu_file.read_text() + "    - c'è uno sportello aperto il sabato?\n")
    assert train.model_path(project / "models", project) != before


def test_hash_covers_config_and_domain(project: Path):
    before = train.model_path(project / "models", project)
    with open(project / "domain.yml", "a") as domain:
        domain.write("\n# a comment is a change of the file\n")
    assert train.model_path(project / "models", project) != before


def test_existing_model_is_reused_without_running_rasa(project: Path, monkeypatch):
    models = project / "models"
    models.mkdir()
    expected = train.model_path(models, project)
    expected.write_bytes(b"model")

    def must_not_train(*args, **kwargs):
        raise AssertionError("training started although the model exists")

    monkeypatch.setattr(subprocess, "run", must_not_train)
    assert train.ensure_model(project, models) == expected


def test_missing_model_is_trained_under_its_hash_name(project: Path, monkeypatch):
    models = project / "models"
    calls = []

    def fake_rasa_train(command, **kwargs):
        calls.append(command)
        name = command[command.index("--fixed-model-name") + 1]
        (models / f"{name}.tar.gz").write_bytes(b"model")

    monkeypatch.setattr(subprocess, "run", fake_rasa_train)
    produced = train.ensure_model(project, models)
    assert produced == train.model_path(models, project) and produced.exists()
    assert calls and calls[0][1:4] == ["-m", "bot.rasa_main", "train"]  # Rasa's command line, quiet


def test_old_models_are_pruned(tmp_path: Path):
    for age, name in enumerate(["a", "b", "c", "d"]):
        path = tmp_path / f"model-{name}.tar.gz"
        path.write_bytes(b"x")
        os.utime(path, (1000 + age, 1000 + age))
    keep = tmp_path / "model-d.tar.gz"
    train._prune_old_models(tmp_path, keep)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model-b.tar.gz", "model-c.tar.gz", "model-d.tar.gz"]
