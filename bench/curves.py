"""Forgotten- and retained-class test accuracy after every unlearning epoch.

    python bench/curves.py --dataset digits --plot bench/results/curves-digits.png
    python bench/curves.py --dataset mnist --data-dir ../shared/data/mnist --batch-size 128 \\
        --plot bench/results/curves-mnist.png

For each few-shot method (default: the ablation ladder gradient ascent, mixup
ascent, LUV) it runs the request twice from the same trained model: once with
the default stopping rule, and once with ``patience`` set to the epoch budget so
the curve shows what more epochs would have done. Test accuracy is measured
after each epoch for the plot only; the methods never see it. Writes a JSON of
the curves (``--out``) and a PNG (``--plot``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import numpy as np
from unlearning import Trained, parser, trained_federation

from vfl.coordinator import Coordinator
from vfl.metrics import accuracy
from vfl.progress import ProgressEvent
from vfl.report import plot_curves, write_json
from vfl.unlearning import UnlearnConfig, UnlearningContext, create_method

ABLATION = ["gradient-ascent", "mixup-ascent", "luv"]


def test_accuracy(co: Coordinator, classes: list[int]) -> dict[str, float]:
    """Retained- and forgotten-class test accuracy (no MIA: it needs every train logit)."""
    labels = co.active.labels
    y = labels.labels_of(labels.test_ids)
    pred = co.logits(labels.test_ids).argmax(1).numpy()
    forgotten = np.isin(y, classes)
    return {"retain_acc": accuracy(pred, y, ~forgotten), "forget_acc": accuracy(pred, y, forgotten)}


def curve(fed: Trained, method: str, cfg: UnlearnConfig) -> list[dict[str, float]]:
    """Points ``{epoch, retain_acc, forget_acc, lr}`` from epoch 0 (the original model)."""
    co, classes = fed.co, fed.classes
    points = [{"epoch": 0, **test_accuracy(co, classes)}]

    def record(event: ProgressEvent) -> None:
        if event.phase == "unlearn" and event.metrics:  # one event per finished epoch
            points.append({"epoch": event.step, **test_accuracy(co, classes), **event.metrics})

    ctx = UnlearningContext(co, classes, cfg, fed.train, fed.seed, record)
    create_method(method).run(ctx)
    return points


def run_curves(args: argparse.Namespace, json_path: Path | None, png_path: Path | None) -> None:
    """Train once (first seed), record every method under both stopping rules, write files."""
    base = UnlearnConfig(forget_samples=args.forget_samples, recovery_per_class=args.recovery)
    rules = {
        "default stopping rule": base,
        "all epochs": base.model_copy(update={"patience": base.epochs}),
    }
    curves: dict[str, dict[str, list[dict[str, float]]]] = {rule: {} for rule in rules}
    with trained_federation(args, args.seeds[0]) as fed:
        for rule, cfg in rules.items():
            for method in args.methods:
                with fed.co.trial("original") as original:  # every curve starts from one model
                    curves[rule][method] = curve(fed, method, cfg)
                    original.undo()
                last = curves[rule][method][-1]
                print(
                    f"{rule:22s} {method:16s} epochs {last['epoch']:2d}  "
                    f"retained {last['retain_acc']:.2%}  forgotten {last['forget_acc']:.2%}"
                )
    title = f"{args.dataset}, forgetting {fed.classes}, seed {args.seeds[0]}"
    if json_path:
        write_json(json_path, {"title": title, "curves": curves})
    if png_path:
        plot_curves(png_path, curves, title)


def main() -> None:
    p = parser(__doc__)
    p.set_defaults(methods=ABLATION, seeds=[0])
    p.add_argument("--out", type=Path, help="JSON of every curve")
    p.add_argument("--plot", type=Path, help="PNG: one column per stopping rule")
    args = p.parse_args()
    run_curves(args, args.out, args.plot)


if __name__ == "__main__":
    main()
