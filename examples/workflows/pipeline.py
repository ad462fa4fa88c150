"""The steps of the example pipeline: each prints what it does, takes a few seconds,
and leaves a small file in ``$DASHBOARD_WORKDIR`` (or the current folder) for the next.

    python pipeline.py fetch --dataset papers     fetch --> clean    --> train --> report
    python pipeline.py clean                            \\-> features -/
    python pipeline.py features
    python pipeline.py train --epochs 3
    python pipeline.py report

``clean`` and ``features`` need only ``fetch`` and run side by side. Parameters come
as whole argv items (``{dataset}``) and as ``$PARAM_DATASET`` / ``$PARAM_EPOCHS``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
from pathlib import Path

WORK = Path(os.environ.get("PIPELINE_DIR", "."))


def say(message: str) -> None:
    print(f"{time.strftime('%H:%M:%S')} {message}", flush=True)


def work(seconds: float, what: str, steps: int = 4) -> None:
    for i in range(1, steps + 1):
        time.sleep(seconds / steps)  # the example's work: it takes a while, on purpose
        say(f"{what}: {i}/{steps}")


def fetch(dataset: str) -> None:
    say(f"fetching dataset {dataset!r} (PARAM_DATASET={os.environ.get('PARAM_DATASET')!r})")
    work(2.0, "downloading")
    rows = [{"id": i, "text": f"{dataset} item {i}"} for i in range(100)]
    (WORK / "raw.json").write_text(json.dumps(rows))
    say(f"fetched {len(rows)} rows")


def clean() -> None:
    rows = json.loads((WORK / "raw.json").read_text())
    work(2.5, "cleaning")
    (WORK / "clean.json").write_text(json.dumps([r for r in rows if r["id"] % 10]))
    say("cleaned: dropped every tenth row")


def features() -> None:
    rows = json.loads((WORK / "raw.json").read_text())
    work(1.5, "computing features")
    (WORK / "features.json").write_text(json.dumps({r["id"]: len(r["text"]) for r in rows}))
    say("features ready")


def train(epochs: int) -> None:
    random.seed(epochs)
    loss = 1.0
    for epoch in range(1, epochs + 1):
        time.sleep(0.8)  # one epoch of pretend training
        loss *= random.uniform(0.5, 0.8)
        say(f"epoch {epoch}/{epochs}: loss {loss:.3f}")
    (WORK / "model.json").write_text(json.dumps({"epochs": epochs, "loss": loss}))


def report() -> None:
    model = json.loads((WORK / "model.json").read_text())
    say(f"report: {model['epochs']} epochs, final loss {model['loss']:.3f}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("step", choices=["fetch", "clean", "features", "train", "report"])
    parser.add_argument("--dataset", default="papers")
    parser.add_argument("--epochs", type=int, default=3)
    args = parser.parse_args()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.step == "fetch":
        fetch(args.dataset)
    elif args.step == "clean":
        clean()
    elif args.step == "features":
        features()
    elif args.step == "train":
        train(args.epochs)
    else:
        report()
    return 0


if __name__ == "__main__":
    sys.exit(main())
