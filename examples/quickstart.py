"""The Python API in a dozen lines: train a federation, forget a class, check what it cost.

    python examples/quickstart.py

Three organisations (two passive parties with half of the digits' pixel columns
each, the active party with the labels) train together; then class 3 is
forgotten with LUV, without any label leaving the active party.
"""

from __future__ import annotations

import vfl


def main(epochs: int = 10) -> dict[str, float]:
    with vfl.Federation.simulated("digits", parties=2, seed=0) as fed:
        before = fed.train(epochs=epochs)
        after = fed.unlearn([3])  # LUV: mixup at the active party, gradient ascent, recovery
        forgotten = fed.evaluate(forget=[3])
        probs = fed.predict_proba(fed.test_ids[:5])
    print(f"test accuracy after training   {100 * before.test_acc:.1f}%")
    print(f"class 3 accuracy after LUV     {100 * forgotten.forget_acc:.1f}%")
    print(f"other classes after LUV        {100 * forgotten.retain_acc:.1f}%")
    print(f"the request took               {after['seconds']:.2f} s")
    print(f"probabilities of 5 test digits sum to {probs.sum(axis=1).round(3).tolist()}")
    return {"test_acc": before.test_acc, **{k: after[k] for k in ("forget_acc", "retain_acc")}}


if __name__ == "__main__":
    main()
