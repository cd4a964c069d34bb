"""A deployment as organisations run it: each party a real process in a folder of its own.

Every folder holds only that organisation's file and its own key, certificate
and the CA certificate (never the CA key, never another party's key). The
passive processes record every file they open. The operator then drives
``align -> train -> predict -> unlearn -> train -> predict`` over mutual TLS,
restarts a passive party (it resumes aligned), and relearns the class.
"""

from __future__ import annotations

import csv
import json
import shutil
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from typer.testing import Result

from tests.fixtures.bank import make_bank_split
from tests.fixtures.cli import run_vfl
from vfl.coordinator import Coordinator
from vfl.federation import (
    ActiveData,
    FederationSpec,
    PassiveData,
    build_active_party,
    build_passive_party,
)
from vfl.grpc.certs import init_certs
from vfl.grpc.processes import ChildServer, spawned, terminate_all
from vfl.party.store import CheckpointStore
from vfl.protocol.client import InProcessClient

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[2]
AUDITED = ROOT / "tests" / "fixtures" / "audited_serve.py"
PASSIVE = ("passive-0", "passive-1")
NEW_FILES = {"active": "new-customers.csv", "passive-0": "party-0-new.csv",
             "passive-1": "party-1-new.csv"}  # fmt: skip


def own_certs(pki: Path, folder: Path, name: str) -> Path:
    """What an organisation is handed: its key and certificate, and the CA certificate."""
    out = folder / "certs"
    out.mkdir(parents=True, exist_ok=True)
    for file in ("ca.crt", f"{name}.crt", f"{name}.key"):
        shutil.copy(pki / file, out / file)
    return out


def ids_of(path: Path) -> set[str]:
    with path.open() as fh:
        return {row["id"] for row in csv.DictReader(fh)}


@dataclass
class Deployment:
    root: Path
    logs: Path
    stack: ExitStack
    children: dict[str, ChildServer]
    env: dict[str, str]

    def folder(self, name: str) -> Path:
        return self.root / name

    def opened(self, name: str) -> list[Path]:
        return [Path(p) for p in (self.logs / f"{name}.opened").read_text().splitlines()]

    def start_passive(self, name: str, port: int = 0) -> ChildServer:
        command = [
            sys.executable, str(AUDITED), str(self.logs / f"{name}.opened"), "passive",
            "--party-id", name, "--data", f"party-{name[-1]}.csv", "--listen", f"127.0.0.1:{port}",
            "--state-dir", "state", "--certs", "certs", "--identity", name,
            "--score-data", f"party-{name[-1]}-new.csv",
            *(["--categorical", "region"] if name == "passive-1" else []),
        ]  # fmt: skip
        child = self.stack.enter_context(spawned(command, self.logs, name, cwd=self.folder(name)))
        self.children[name] = child
        return child

    def start_active(self) -> None:
        passive = [f"--passive={p}=127.0.0.1:{self.children[p].port()}" for p in PASSIVE]
        command = [
            sys.executable, str(AUDITED), str(self.logs / "active.opened"), "active", *passive,
            "--labels", "labels.csv", "--label-column", "product", "--data", "features.csv",
            "--score-data", "new-customers.csv",
            "--listen", "127.0.0.1:0", "--state-dir", "state", "--certs", "certs",
            "--identity", "active",
        ]  # fmt: skip
        child = self.stack.enter_context(
            spawned(command, self.logs, "active", cwd=self.folder("active"))
        )
        self.children["active"] = child
        self.env["VFL_COORDINATOR"] = f"127.0.0.1:{child.port()}"

    def vfl(self, *args: str) -> Result:
        return run_vfl(*args, env={**self.env, "COLUMNS": "200"})

    def ok(self, *args: str) -> str:
        result = self.vfl(*args)
        assert result.exit_code == 0, result.stderr
        return result.stdout

    def refused(self, fragment: str, *args: str) -> None:
        result = self.vfl(*args)
        assert result.exit_code == 2, result.stdout
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and fragment in lines[0], lines

    def record(self, request_id: str) -> dict:
        return json.loads(self.ok("requests", "show", request_id, "--json"))


@pytest.fixture(scope="module")
def deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    root = tmp_path_factory.mktemp("federation")
    make_bank_split(root, customers=600, seed=0)
    pki = tmp_path_factory.mktemp("pki")
    init_certs(pki, [*PASSIVE, "active"], ["admin"])
    for name in (*PASSIVE, "active"):
        own_certs(pki, root / name, name)
    operator = own_certs(pki, root / "operator", "admin")
    logs = tmp_path_factory.mktemp("logs")
    with ExitStack() as stack:
        d = Deployment(root, logs, stack, {}, {"VFL_CERTS": str(operator), "VFL_IDENTITY": "admin"})
        for name in PASSIVE:
            d.start_passive(name)
        d.start_active()
        yield d
        terminate_all(list(d.children.values()))


def test_every_step_from_align_to_relearn(deployment: Deployment) -> None:
    d = deployment
    d.refused("not aligned yet: run `vfl align --coordinator", "train", "--epochs", "1")
    ids = (d.root / "operator" / "score-ids.txt").read_text().split()
    out = d.root / "operator" / "pred.csv"
    d.refused(
        "not aligned yet",
        "predict",
        "--ids",
        str(d.root / "operator" / "score-ids.txt"),
        "--out",
        str(out),
    )

    report = json.loads(d.ok("align", "--json"))
    files = {
        "active": d.folder("active") / "labels.csv",
        "passive-0": d.folder("passive-0") / "party-0.csv",
        "passive-1": d.folder("passive-1") / "party-1.csv",
    }
    held = {name: ids_of(path) for name, path in files.items()}
    own_features = ids_of(d.folder("active") / "features.csv")
    new = {name: ids_of(d.folder(name) / file) for name, file in NEW_FILES.items()}
    assert report["active_ids"] == len(held["active"]) + len(new["active"])
    assert report["party_ids"] == {
        "active-features": len(own_features) + len(new["active"]),
        **{p: len(held[p]) + len(new[p]) for p in PASSIVE},
    }
    labelled = set.intersection(*held.values(), own_features)
    assert report["train"] + report["test"] == len(labelled)
    new_ids = (d.root / "operator" / "new-ids.txt").read_text().split()
    assert report["score"] == len(set.intersection(*new.values())) == len(new_ids) > 0

    train_id = d.ok("train", "--epochs", "3", "--wait", "--quiet").split()[0]
    assert d.record(train_id)["status"] == "committed"

    d.ok(
        "predict", "--ids", str(d.root / "operator" / "score-ids.txt"), "--out", str(out), "--quiet"
    )
    rows = list(csv.DictReader(out.open()))
    names = ["card", "loan", "mortgage", "savings"]
    assert list(rows[0]) == ["id", "predicted", *(f"p_{n}" for n in names)]
    assert [r["id"] for r in rows] == ids
    assert_equals_in_process(d, ids, rows, names)
    # new customers (no label anywhere): scored by the same model, never trained on
    new_out = d.root / "operator" / "new.csv"
    d.ok("predict", "--ids", str(d.root / "operator" / "new-ids.txt"), "--out", str(new_out),
         "--quiet")  # fmt: skip
    new_rows = list(csv.DictReader(new_out.open()))
    assert [r["id"] for r in new_rows] == new_ids
    assert_equals_in_process(d, new_ids, new_rows, names)

    unknown = d.root / "operator" / "unknown.txt"
    unknown.write_text(f"{ids[0]}\nnobody-1\nnobody-2\n")
    d.refused("2 of 3 IDs are not in the aligned index", "predict", "--ids", str(unknown),
              "--out", str(d.root / "operator" / "never.csv"))  # fmt: skip
    assert not (d.root / "operator" / "never.csv").exists()

    loan = names.index("loan")
    d.refused(
        "class lion is not one of the classes (card, loan, mortgage, savings)",
        "unlearn",
        "--class",
        "lion",
    )
    unlearn_id = d.ok("unlearn", "--class", "loan", "--wait", "--quiet").split()[0]  # by name
    assert d.record(unlearn_id)["classes"] == [loan]
    assert d.record(unlearn_id)["after"]["forget_acc"] == 0.0
    again = d.ok("train", "--epochs", "3", "--wait", "--quiet").split()[0]
    after = d.record(again)["after"]
    assert after["forget_acc"] == 0.0 and after["retain_acc"] > 0.5  # forgotten stays forgotten
    status = json.loads(d.ok("status", "--json"))
    assert status["forgotten"] == [loan] and status["class_names"] == names
    assert status["aligned"] and status["score_samples"] == report["score"]
    assert status["train_samples"] + status["test_samples"] == len(labelled)

    # a restarted passive party comes back aligned (same address: the coordinator redials)
    port = d.children["passive-0"].port()
    terminate_all([d.children["passive-0"]])
    d.children["passive-0"].proc.wait(30)
    d.start_passive("passive-0", port).port()
    d.refused("is not forgotten", "train", "--epochs", "1", "--relearn", "2")
    relearn = d.ok("train", "--epochs", "2", "--relearn", str(loan), "--wait", "--quiet").split()[0]
    assert d.record(relearn)["classes"] == [loan]
    assert json.loads(d.ok("status", "--json"))["forgotten"] == []

    # a customer withdraws consent: forget five training samples' labels, for good
    with (d.folder("active") / "labels.csv").open() as fh:
        train = sorted(r["id"] for r in csv.DictReader(fh) if r["split"] == "train")
    gone = [i for i in train if i in labelled][:5]
    forget = d.root / "operator" / "withdrawn.txt"
    forget.write_text("\n".join(gone) + "\n")
    d.refused("unknown option 'margin' for method 'luv-samples'", "unlearn", "--ids",
              str(forget), "--method-option", "margin=3")  # fmt: skip
    # method options cross the wire, the journal and the receipt (these are the defaults,
    # so the request runs as without them; tests/grpc/test_unlearn_options.py checks use)
    options = ["--method-option", "optimizer=sgd", "--method-option", "lr=0.1"]
    sample_id = d.ok("unlearn", "--ids", str(forget), *options, "--wait", "--quiet").split()[0]
    record = d.record(sample_id)
    assert record["status"] == "committed" and record["samples"] == gone
    assert record["method"] == "luv-samples" and record["classes"] == []
    assert record["method_options"] == {"optimizer": "sgd", "lr": 0.1}
    receipt = d.root / "operator" / "samples-receipt.json"
    d.ok("requests", "show", sample_id, "--receipt", str(receipt))
    signed = json.loads(receipt.read_text())["payload"]
    assert signed["params"]["method_options"] == record["method_options"]
    d.refused("5 of 5 samples are already forgotten", "unlearn", "--ids", str(forget))
    d.refused("name the classes to forget (--class) or the samples (--ids)", "unlearn",
              "--ids", str(forget), "--class", "loan")  # fmt: skip
    assert json.loads(d.ok("status", "--json"))["forgotten_samples"] == 5


def assert_equals_in_process(
    d: Deployment, ids: list[str], rows: list[dict], names: list[str]
) -> None:
    """The same committed models, loaded in this process, score the same IDs identically."""
    spec = FederationSpec()
    passives = [
        build_passive_party(spec, p, data=PassiveData(
            path=d.folder(p) / f"party-{p[-1]}.csv",
            categorical=("region",) if p == "passive-1" else (),
            score=d.folder(p) / NEW_FILES[p],
        ))
        for p in PASSIVE
    ]  # fmt: skip
    new_customers = d.folder("active") / NEW_FILES["active"]
    own = build_passive_party(
        spec,
        "active-features",
        data=PassiveData(path=d.folder("active") / "features.csv", score=new_customers),
    )
    labels = ActiveData(
        labels=d.folder("active") / "labels.csv", label_column="product", score=new_customers
    ).read()
    states = [d.folder(p) / "state" for p in PASSIVE] + [
        d.folder("active") / "state" / "own-features"
    ]
    for party, state in zip((*passives, own), states, strict=True):
        CheckpointStore(state, party.party_id).load_into(party)
    dims = [p.info().embed_dim for p in (*passives, own)]
    active = build_active_party(spec, dims, labels=labels)
    CheckpointStore(d.folder("active") / "state", "active").load_into(active)
    co = Coordinator(active, [InProcessClient(p) for p in (*passives, own)])
    assert active.sample_index is not None
    predicted, probs = co.scores(active.sample_index.positions(ids))
    co.close()
    assert [r["predicted"] for r in rows] == [names[c] for c in predicted]
    got = np.array([[float(r[f"p_{n}"]) for n in names] for r in rows], dtype=np.float32)
    assert np.array_equal(got, probs.astype(np.float32))


def test_a_passive_party_opens_only_its_own_folder(deployment: Deployment) -> None:
    """Runs after the flow above (same module): every file each passive process opened."""
    d = deployment
    for name in PASSIVE:
        opened = d.opened(name)
        own = d.folder(name)
        assert own / f"party-{name[-1]}.csv" in opened
        inside = [p for p in opened if d.root in p.parents]
        assert inside and all(own in p.parents for p in inside), [
            p for p in inside if own not in p.parents
        ]
        assert not [p for p in opened if p.name in ("labels.csv", "features.csv", "ca.key")]
