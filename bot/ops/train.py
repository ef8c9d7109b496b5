"""Train the Rasa model only when its inputs changed.

The model's name is a hash of what it is trained from (config, domain, training data and the
Rasa version), so an unchanged project finds its model by name and starts without touching
TensorFlow. Timestamps are not used: a fresh clone or a `touch` must not force retraining.

    python -m bot.ops.train            # prints the model path, training first if needed
"""

from __future__ import annotations

import hashlib
import logging
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from bot.ops.services import service_environment
from bot.settings import PROJECT_ROOT, get_settings

logger = logging.getLogger(__name__)

MODEL_INPUTS = ("config.yml", "domain.yml", "data")
KEEP_MODELS = 3


def training_files(root: Path = PROJECT_ROOT) -> list[Path]:
    """Every file the model is trained from, in a stable order."""
    files: list[Path] = []
    for name in MODEL_INPUTS:
        path = root / name
        if path.is_dir():
            files.extend(p for p in path.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml"})
        elif path.is_file():
            files.append(path)
    return sorted(files)


def content_hash(files: Iterable[Path], root: Path = PROJECT_ROOT) -> str:
    """A hash of the files' relative paths and contents and of the Rasa version."""
    import rasa

    digest = hashlib.sha256(f"rasa=={rasa.__version__}\n".encode())
    for path in files:
        digest.update(str(path.relative_to(root)).encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def model_path(models_dir: Path | None = None, root: Path = PROJECT_ROOT) -> Path:
    """Where the model for the current inputs is (or will be) stored."""
    models_dir = models_dir or get_settings().models_dir
    return models_dir / f"model-{content_hash(training_files(root), root)}.tar.gz"


def ensure_model(root: Path = PROJECT_ROOT, models_dir: Path | None = None) -> Path:
    """Return the model for the current inputs, training it first if it does not exist."""
    models_dir = models_dir or get_settings().models_dir
    target = model_path(models_dir, root)
    if target.exists():
        logger.info("Model up to date: %s", target.name)
        return target

    models_dir.mkdir(parents=True, exist_ok=True)
    logger.info("Training data changed: training %s", target.name)
    # bot.rasa_main is `rasa` with the project's fixes; for training it only matters that it keeps
    # other libraries' deprecation notices out of the output (bot/quiet.py), and the environment
    # TensorFlow's (bot/ops/services.py)
    command = [
        sys.executable,
        "-m",
        "bot.rasa_main",
        "train",
        "--config",
        str(root / "config.yml"),
        "--domain",
        str(root / "domain.yml"),
        "--data",
        str(root / "data"),
        "--out",
        str(models_dir),
        "--fixed-model-name",
        target.name[: -len(".tar.gz")],
    ]
    subprocess.run(command, cwd=root, env=service_environment(), check=True)
    _prune_old_models(models_dir, keep=target)
    return target


def _prune_old_models(models_dir: Path, keep: Path) -> None:
    """Keep the few most recent models, so a rollback is one file away but the disk stays clean."""
    models = sorted(models_dir.glob("model-*.tar.gz"), key=lambda p: p.stat().st_mtime, reverse=True)
    for old in [m for m in models if m != keep][KEEP_MODELS - 1 :]:
        old.unlink()


def main() -> None:
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(ensure_model())


if __name__ == "__main__":
    main()
