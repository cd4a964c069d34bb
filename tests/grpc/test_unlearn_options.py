"""Method options and unlearn settings on operator requests, in one process.

``vfl unlearn --method-option`` (the method's own settings) and
``--forget-samples/--recovery-samples/--unlearn-epochs/--unlearn-lr`` (overrides
of the server's ``UnlearnConfig``). The passive servers and the active server
(durable journal, signed receipts) run on threads of this process over loopback
mTLS, so the test can watch the method that runs: both are checked at submission
(INVALID_ARGUMENT naming the option or setting, nothing journaled), journaled,
part of idempotency, signed in the receipt, shown by ``requests show/list
--json``, and what the method runs with.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path

import grpc
import pytest
from typer.testing import CliRunner

from parties import active_server, passive_server
from tests.fixtures.pki import SPEC
from vfl.cli.app import app
from vfl.grpc.errors import RemoteCallError
from vfl.grpc.operator import CoordinatorClient
from vfl.grpc.proto import coordinator_pb2 as cpb
from vfl.grpc.server import NetworkConfig
from vfl.grpc.tls import TLSConfig
from vfl.progress import ProgressEvent
from vfl.txn.receipts import PUBLIC_KEY_FILE, load_public_key, verify_receipt
from vfl.txn.records import RequestRecord
from vfl.txn.sqlite import JOURNAL_FILE, SqliteJournal
from vfl.unlearning import UnlearnConfig
from vfl.unlearning.fewshot import FewShotMethod
from vfl.unlearning.hiding import HiddenLUV, HidingConfig
from vfl.unlearning.samples import SampleLUV, SampleOptions

QUICK_UNLEARN = UnlearnConfig(epochs=2)


class Federation:
    """Servers of one federation in this process, and an operator client."""

    def __init__(self, stack: ExitStack, certs: Path, state: Path) -> None:
        self.certs, self.state = certs, state
        targets = {}
        for party in SPEC.party_ids():
            cfg = passive_server.PassiveServerConfig(
                party_id=party, federation=SPEC, network=self.network(party)
            )
            running = passive_server.start(cfg)
            stack.callback(running.stop)
            targets[party] = f"127.0.0.1:{running.port}"
        cfg = active_server.ActiveServerConfig(
            federation=SPEC, passive=targets, network=self.network("active"),
            state_dir=state, unlearn=QUICK_UNLEARN,
        )  # fmt: skip
        self.server, running = active_server.start(cfg)
        stack.callback(self.server.close)
        stack.callback(running.stop)
        self.target = f"127.0.0.1:{running.port}"
        self.client = stack.enter_context(
            CoordinatorClient(self.target, TLSConfig(certs=certs, identity="admin"))
        )

    def network(self, identity: str) -> NetworkConfig:
        return NetworkConfig(tls=TLSConfig(certs=self.certs, identity=identity))

    def final(self, request_id: str) -> RequestRecord:
        return [e for e in self.client.watch(request_id) if isinstance(e, RequestRecord)][-1]

    def cli(self, *args: str) -> tuple[int, str, str]:
        """``vfl ARGS`` against this coordinator: exit code, stdout, stderr."""
        connect = ["--coordinator", self.target, "--certs", str(self.certs), "--identity", "admin"]
        done = CliRunner().invoke(app, [*args, *connect])
        return done.exit_code, done.stdout, done.stderr

    def rows(self) -> int:
        return len(self.client.list())


@pytest.fixture(scope="module")
def fed(certs: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Federation]:
    with ExitStack() as stack:
        federation = Federation(stack, certs, tmp_path_factory.mktemp("options") / "active")
        trained = federation.final(federation.client.submit_train(1).id)
        assert trained.status == "committed", trained.error
        yield federation


@pytest.fixture
def seen(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """The options of every luv-hidden / luv-samples run (each still runs)."""
    configs: list[object] = []
    for cls, attr in ((HiddenLUV, "config"), (SampleLUV, "options")):
        run = cls.run

        def recording(self, ctx, run=run, attr=attr):  # type: ignore[no-untyped-def]
            configs.append(getattr(self, attr))
            return run(self, ctx)

        monkeypatch.setattr(cls, "run", recording)
    return configs


@pytest.mark.parametrize(
    ("method", "options", "message"),
    [
        ("luv-hidden", {"margn": 3}, "unknown option 'margn' for method 'luv-hidden'"),
        ("luv-hidden", {"equalize": "loud"}, "invalid option 'equalize' for method 'luv-hidden'"),
        ("luv-hidden", {"margin": float("inf")}, "invalid option 'margin' .* finite"),
        ("luv-hidden", {"update": {"lr": "1e999"}}, "invalid option 'update.lr' .* finite"),
        ("luv", {"margin": 3}, "method 'luv' takes no options"),
    ],
)
def test_bad_options_are_refused_at_submission_and_journal_nothing(
    fed: Federation, seen: list[object], method: str, options: dict, message: str
) -> None:
    rows = fed.rows()
    with pytest.raises(RemoteCallError, match=message) as refused:
        fed.client.submit_unlearn([3], method, "bad-options", method_options=options)
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert fed.rows() == rows and seen == []


def test_options_are_journaled_signed_deduplicated_and_reach_the_method(
    fed: Federation, seen: list[object]
) -> None:
    asked = {"margin": 3, "update": {"lr": 0.002}}
    first = fed.client.submit_unlearn([3], "luv-hidden", "hidden-3", method_options=asked)
    assert first.method_options == {"margin": 3.0, "update": {"lr": 0.002}}  # as checked
    again = fed.client.submit_unlearn([3], "luv-hidden", "hidden-3", method_options=asked)
    assert again.id == first.id
    with pytest.raises(RemoteCallError, match=f"already used by request {first.id}") as other:
        fed.client.submit_unlearn([3], "luv-hidden", "hidden-3", method_options={"margin": 4})
    assert other.value.code == grpc.StatusCode.ALREADY_EXISTS
    record = fed.final(first.id)
    assert record.status == "committed", record.error
    (config,) = seen
    assert isinstance(config, HidingConfig)
    assert config.margin == 3.0 and config.update.lr == 0.002
    assert config.retain_weight == HidingConfig().retain_weight  # the rest keep their defaults

    journal = SqliteJournal(fed.state / JOURNAL_FILE)  # the row a restart reads
    stored = journal.get(first.id)
    assert stored is not None and stored.method_options == record.method_options
    _, receipt = fed.client.get_with_receipt(first.id)
    payload = verify_receipt(receipt, load_public_key(fed.state / PUBLIC_KEY_FILE))
    assert payload["params"]["method_options"] == {"margin": 3.0, "update": {"lr": 0.002}}

    code, out, _ = fed.cli("requests", "show", first.id, "--json")
    assert code == 0 and json.loads(out)["method_options"] == record.method_options
    code, out, _ = fed.cli("requests", "list", "--json")
    listed = {r["id"]: r for r in json.loads(out)}
    assert code == 0 and listed[first.id]["method_options"] == record.method_options
    code, out, _ = fed.cli("requests", "show", first.id)
    assert code == 0 and "margin=3.0" in out


def test_vfl_unlearn_method_option_travels_to_a_sample_request(
    fed: Federation, seen: list[object]
) -> None:
    ids = fed.server.co.active.sample_index.train[:3]  # type: ignore[union-attr]
    listed = fed.state.parent / "ids.txt"
    listed.write_text("\n".join(ids) + "\n")
    code, out, err = fed.cli(
        "unlearn", "--ids", str(listed), "--method-option", "lr=0.05", "--wait", "--quiet"
    )
    assert code in (0, 1), err  # 1: committed short of its target
    record = fed.client.get(out.split()[0])
    assert record.status == "committed" and record.method == "luv-samples"
    assert record.method_options == {"lr": 0.05}
    assert seen == [SampleOptions(lr=0.05)]


@pytest.mark.parametrize(
    ("option", "message"),
    [
        ("margin", "--method-option 'margin': write KEY=VALUE"),  # the client's parser
        ("margn=3", "unknown option 'margn' for method 'luv-hidden'"),  # the coordinator's
    ],
)
def test_a_bad_method_option_is_one_line_and_exit_2(
    fed: Federation, seen: list[object], option: str, message: str
) -> None:
    rows = fed.rows()
    code, out, err = fed.cli(
        "unlearn", "--class", "3", "--method", "luv-hidden", "--method-option", option
    )
    assert code == 2 and out == "" and seen == []
    assert err.count("\n") == 1 and err.startswith("vfl: error:") and message in err, err
    assert fed.rows() == rows


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"margin": 3', "the method options are not JSON"),
        ("[3]", "must be a JSON object"),
        ('{"margin": NaN}', "invalid option 'margin' for method 'luv-hidden'"),
        (json.dumps({"equalize": "x" * 2000}), "at most 1024 are allowed"),
    ],
)
def test_malformed_options_on_the_wire_are_invalid_argument(
    fed: Federation, seen: list[object], text: str, message: str
) -> None:
    """What a client other than ours could send: checked before anything is journaled."""
    rows = fed.rows()
    request = cpb.UnlearnRequest(classes=[3], method="luv-hidden", method_options=text)
    with pytest.raises(RemoteCallError, match=message) as refused:
        fed.client._call("SubmitUnlearn", request)
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert fed.rows() == rows and seen == []


# Unlearn settings: overrides of the server's UnlearnConfig (QUICK_UNLEARN here).


@dataclass
class Run:
    """One luv / luv-samples run: the settings it got and the unlearn epochs it reported."""

    config: UnlearnConfig
    epochs: list[tuple[int, int]] = field(default_factory=list)  # (step, total)


@pytest.fixture
def runs(monkeypatch: pytest.MonkeyPatch) -> list[Run]:
    recorded: list[Run] = []
    for cls in (FewShotMethod, SampleLUV):
        run = cls.run

        def recording(self, ctx, run=run):  # type: ignore[no-untyped-def]
            seen, report = Run(ctx.config), ctx.progress

            def progress(event: ProgressEvent) -> None:
                if event.phase == "unlearn":
                    seen.epochs.append((event.step, event.total))
                report(event)

            ctx.progress = progress
            recorded.append(seen)
            return run(self, ctx)

        monkeypatch.setattr(cls, "run", recording)
    return recorded


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"epochs": 0}, r"'epochs' \(--unlearn-epochs\): .*greater than or equal to 1 \(got 0\)"),
        ({"epochs": 10_001}, r"'epochs' \(--unlearn-epochs\): .*less than or equal to 10000"),
        ({"epochs": 1.5}, r"'epochs' \(--unlearn-epochs\): .*valid integer"),
        ({"epochs": True}, r"'epochs' \(--unlearn-epochs\): .*valid integer"),
        ({"lr": 0}, r"'lr' \(--unlearn-lr\): .*greater than 0"),
        ({"lr": "0.1"}, r"'lr' \(--unlearn-lr\): .*valid number"),
        ({"forget_samples": 1}, r"'forget_samples' \(--forget-samples\): .*greater than or eq"),
        ({"recovery_per_class": -1}, r"'recovery_per_class' \(--recovery-samples\)"),
        ({"ce_cap": 1.0}, "unknown unlearn setting 'ce_cap'; a request may set: epochs"),
    ],
)
def test_bad_unlearn_settings_are_refused_at_submission_and_journal_nothing(
    fed: Federation, runs: list[Run], settings: dict, message: str
) -> None:
    rows = fed.rows()
    with pytest.raises(RemoteCallError, match=message) as refused:
        fed.client.submit_unlearn([5], "luv", "bad-settings", unlearn_config=settings)
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert fed.rows() == rows and runs == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"epochs": 1', "the unlearn settings are not JSON"),
        ("[1]", "the unlearn settings must be a JSON object"),
        ('{"lr": NaN}', "invalid unlearn setting 'lr'"),
        (json.dumps({"epochs": "1" * 2000}), "at most 1024 are allowed"),
    ],
)
def test_malformed_unlearn_settings_on_the_wire_are_invalid_argument(
    fed: Federation, runs: list[Run], text: str, message: str
) -> None:
    rows = fed.rows()
    request = cpb.UnlearnRequest(classes=[5], unlearn_config=text)
    with pytest.raises(RemoteCallError, match=message) as refused:
        fed.client._call("SubmitUnlearn", request)
    assert refused.value.code == grpc.StatusCode.INVALID_ARGUMENT
    assert fed.rows() == rows and runs == []


def test_unlearn_settings_are_journaled_signed_deduplicated_and_run_with(
    fed: Federation, runs: list[Run]
) -> None:
    asked = {"epochs": 1, "forget_samples": 10, "lr": 0.004}
    first = fed.client.submit_unlearn([5], "luv", "tuned-5", unlearn_config=asked)
    assert first.unlearn_config == asked and first.method_options == {}
    again = fed.client.submit_unlearn([5], "luv", "tuned-5", unlearn_config=dict(asked))
    assert again.id == first.id
    for other in ({**asked, "epochs": 2}, {}):  # other settings, or the server's
        with pytest.raises(RemoteCallError, match=f"already used by request {first.id}") as taken:
            fed.client.submit_unlearn([5], "luv", "tuned-5", unlearn_config=other)
        assert taken.value.code == grpc.StatusCode.ALREADY_EXISTS
    record = fed.final(first.id)
    assert record.status == "committed", record.error
    (run,) = runs  # the server's settings (epochs=2) with the overrides applied
    assert run.config == QUICK_UNLEARN.model_copy(update=asked)
    assert run.epochs and {total for _, total in run.epochs} == {1}
    assert max(step for step, _ in run.epochs) == 1

    journal = SqliteJournal(fed.state / JOURNAL_FILE)  # the row a restart reads
    stored = journal.get(first.id)
    assert stored is not None and stored.unlearn_config == asked
    params = _params_column(fed.state, first.id)
    assert params == {"epochs": 0, "unlearn_config": asked}  # only the keys given
    _, receipt = fed.client.get_with_receipt(first.id)
    payload = verify_receipt(receipt, load_public_key(fed.state / PUBLIC_KEY_FILE))
    assert payload["params"]["unlearn_config"] == asked
    trained = next(r for r in fed.client.list() if r.kind == "train")
    _, plain = fed.client.get_with_receipt(trained.id)  # no settings: no key
    assert (
        "unlearn_config"
        not in verify_receipt(plain, load_public_key(fed.state / PUBLIC_KEY_FILE))["params"]
    )

    code, out, _ = fed.cli("requests", "show", first.id, "--json")
    assert code == 0 and json.loads(out)["unlearn_config"] == asked
    code, out, _ = fed.cli("requests", "list", "--json")
    listed = {r["id"]: r for r in json.loads(out)}
    assert code == 0 and listed[first.id]["unlearn_config"] == asked
    assert listed[trained.id]["unlearn_config"] == {}
    code, out, _ = fed.cli("requests", "show", first.id)
    line = "unlearn settings: --unlearn-epochs=1 --forget-samples=10 --unlearn-lr=0.004"
    assert code == 0 and line in out


def _params_column(state: Path, request_id: str) -> dict:
    with sqlite3.connect(state / JOURNAL_FILE) as db:
        (text,) = db.execute("SELECT params FROM requests WHERE id = ?", (request_id,)).fetchone()
    return json.loads(text)


def test_vfl_unlearn_settings_flags_travel_to_a_sample_request(
    fed: Federation, runs: list[Run]
) -> None:
    ids = fed.server.co.active.sample_index.train[3:6]  # type: ignore[union-attr]
    listed = fed.state.parent / "more-ids.txt"
    listed.write_text("\n".join(ids) + "\n")
    code, out, err = fed.cli(
        "unlearn", "--ids", str(listed), "--forget-samples", "12", "--recovery-samples", "2",
        "--unlearn-epochs", "1", "--unlearn-lr", "0.003", "--wait", "--quiet",
    )  # fmt: skip
    assert code in (0, 1), err  # 1: committed short of its target
    record = fed.client.get(out.split()[0])
    assert record.status == "committed" and record.method == "luv-samples"
    asked = {"forget_samples": 12, "recovery_per_class": 2, "epochs": 1, "lr": 0.003}
    assert record.unlearn_config == asked
    (run,) = runs
    assert run.config == QUICK_UNLEARN.model_copy(update=asked)
    assert {total for _, total in run.epochs} == {1}


@pytest.mark.parametrize(
    ("flag", "value", "message"),
    [
        ("--unlearn-epochs", "0", "invalid unlearn setting 'epochs' (--unlearn-epochs)"),
        ("--unlearn-lr", "20", "invalid unlearn setting 'lr' (--unlearn-lr)"),
        ("--forget-samples", "many", "'many' is not a valid integer"),  # the client's parser
    ],
)
def test_a_bad_unlearn_setting_is_one_line_and_exit_2(
    fed: Federation, runs: list[Run], flag: str, value: str, message: str
) -> None:
    rows = fed.rows()
    code, out, err = fed.cli("unlearn", "--class", "5", flag, value)
    assert code == 2 and out == "" and runs == []
    assert err.count("\n") == 1 and err.startswith("vfl: error:") and message in err, err
    assert fed.rows() == rows


def test_more_forget_samples_than_a_class_has_aborts_when_it_runs(
    fed: Federation, runs: list[Run]
) -> None:
    """The class sizes are the data's, not the settings': the run refuses, nothing changes."""
    before = fed.client.status().parties
    submitted = fed.client.submit_unlearn([6], "luv", unlearn_config={"forget_samples": 100_000})
    record = fed.final(submitted.id)
    assert record.status == "aborted"
    assert "class 6 has" in record.error and "cannot pick 100000" in record.error, record.error
    assert [p.digest for p in fed.client.status().parties] == [p.digest for p in before]
