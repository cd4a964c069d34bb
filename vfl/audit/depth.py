"""How deep is the forgetting? Attacks on frozen representations.

* ``model-completion`` (Fu et al., USENIX Security 2022): the passive party
  fits a small head on its *own frozen bottom model* with a few public
  labelled samples and infers labels of the test set. If unlearning only
  touched the top model, the party can still recognise the forgotten class.
* ``probe``: an auditor's linear probe (logistic regression) on frozen
  features -- the passive parties' concatenated embeddings and the top model's
  penultimate layer -- trained to recognise the forgotten class (the probe of
  :mod:`vfl.metrics.depth`, which ``vfl simulate --eval full`` runs per layer). Compared
  after unlearning and after retraining: forgetting that only hides the class
  at the output layer leaves it linearly recoverable.
"""

from __future__ import annotations

import numpy as np

from vfl.audit.base import Attack, AuditView, Finding, Stage
from vfl.audit.scores import auc
from vfl.metrics.depth import linear_head, probe_ids

__all__ = ["ModelCompletionAttack", "ProbeAttack", "linear_head"]

STAGE_LABEL = {"trained": "original", "unlearned": "unlearned", "retrained": "retrained"}


class ModelCompletionAttack(Attack):
    name = "model-completion"
    summary = "fit a head on the attacker's frozen bottom model with a few labelled samples"
    stages: tuple[Stage, ...] = ("trained", "unlearned", "retrained")

    def run(self, view: AuditView, stage: Stage) -> list[Finding]:
        head = linear_head(view.embed_own(view.aux_ids), view.labels.labels_of(view.aux_ids))
        test = view.labels.test_ids
        y = view.labels.labels_of(test)
        pred = head.predict(view.embed_own(test))
        forgotten = np.isin(y, view.classes)
        label = STAGE_LABEL[stage]
        detail = f"{view.aux_ids.size} labelled samples, party {view.attacker.party_id}"
        return [
            Finding(self.name, f"label acc ({label})", float((pred == y).mean()), detail, "lower"),
            Finding(
                self.name,
                f"forgotten-class recall ({label})",
                float((pred[forgotten] == y[forgotten]).mean()),
                detail,
                "lower",
            ),
        ]


class ProbeAttack(Attack):
    name = "probe"
    summary = "linear probe for the forgotten class on frozen embeddings / penultimate layer"
    stages: tuple[Stage, ...] = ("trained", "unlearned", "retrained")
    layers = ("embeddings", "penultimate")

    def run(self, view: AuditView, stage: Stage) -> list[Finding]:
        train, test = probe_ids(view.labels.train_ids), view.labels.test_ids
        y_train = np.isin(view.labels.labels_of(train), view.classes)
        y_test = np.isin(view.labels.labels_of(test), view.classes)
        out = []
        for layer in self.layers:
            probe = linear_head(
                view.coordinator.features(train, layer).numpy(), y_train, balanced=True
            )
            score = probe.decision_function(view.coordinator.features(test, layer).numpy())
            out.append(
                Finding(
                    self.name,
                    f"{layer} AUC ({STAGE_LABEL[stage]})",
                    auc(score, y_test),
                    better="toward 0.5",
                )
            )
        return out
