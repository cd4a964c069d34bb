"""Issue 14's operator-facing defects, against real processes with mutual TLS on loopback.

Each test here failed on the code before the fix: a train request the worker
would refuse only later (#11), a passive party accepting an infinite weight
decay (#11), a reused idempotency key silently returning another request
(#15), unbounded class lists, keys and listings (#9), eight watchers leaving
no thread for ``vfl status`` (#9), ``--wait`` hanging on a stopped coordinator
(#14), tracebacks (#10) and output paths renamed over FIFOs and symlinks (#8).
The commands run as an operator runs them: ``python -m vfl`` processes.
"""

from __future__ import annotations

import math
import os
import resource
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from txn_federation import Federation, one_version

from vfl.grpc.client import GrpcPassiveClient
from vfl.grpc.errors import RemoteProtocolError
from vfl.grpc.operator import ACTIVE_IDENTITY
from vfl.grpc.proto import coordinator_pb2 as cpb
from vfl.grpc.proto.coordinator_pb2_grpc import CoordinatorStub
from vfl.grpc.server import grpc_options
from vfl.grpc.tls import TLSConfig
from vfl.party.optim import UpdateConfig
from vfl.txn.receipts import PRIVATE_KEY_FILE
from vfl.txn.records import RequestRecord

pytestmark = pytest.mark.slow
MAX_KEY = 128  # vfl.txn.limits.MAX_IDEMPOTENCY_KEY_CHARS, written out: this file runs on old code


def operator_env(fed: Federation) -> dict[str, str]:
    """What the operator ``admin`` of this federation exports instead of connection flags."""
    return {
        **os.environ,
        "VFL_COORDINATOR": fed.coordinator,
        "VFL_CERTS": str(fed.certs),
        "VFL_IDENTITY": "admin",
    }


def wait_for_a_paused_train(fed: Federation) -> subprocess.Popen[str]:
    """``vfl train --epochs 1 --wait`` running, its request paused mid-work by the test hook."""
    fed.arm("work")
    waiting = subprocess.Popen(
        [sys.executable, "-m", "vfl", "train", "--epochs", "1", "--wait", "--quiet"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=operator_env(fed),
    )
    fed.wait_paused("work")
    return waiting


def vfl(fed: Federation, *args: str, timeout: float = 180.0) -> subprocess.CompletedProcess:
    """``python -m vfl ARGS`` as the operator ``admin`` of this federation."""
    return subprocess.run(
        [sys.executable, "-m", "vfl", *args],
        capture_output=True,
        text=True,
        env=operator_env(fed),
        timeout=timeout,
    )


def one_error_line(done: subprocess.CompletedProcess, *needles: str, code: int = 2) -> str:
    """Exit ``code`` (2: bad input; 1: an aborted request) and exactly one ``vfl: error:``
    line (warnings aside) containing every needle."""
    assert done.returncode == code, (done.stdout, done.stderr)
    lines = [line for line in done.stderr.splitlines() if not line.startswith("vfl: warning:")]
    assert len(lines) == 1 and lines[0].startswith("vfl: error: "), done.stderr
    assert "Traceback" not in done.stderr
    for needle in needles:
        assert needle in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def stub(federation: Federation) -> Iterator[CoordinatorStub]:
    """The raw operator API, so requests the CLI never builds reach the server."""
    tls = TLSConfig(certs=federation.certs, identity="admin").checked()
    channel = tls.open_channel(federation.coordinator, ACTIVE_IDENTITY, grpc_options())
    yield CoordinatorStub(channel)
    channel.close()


def refused(call, request, code: grpc.StatusCode, timeout: float = 60) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(grpc.RpcError) as caught:
        call(request, timeout=timeout)
    assert caught.value.code() == code, caught.value.details()
    return caught.value.details()


def journal_ids(fed: Federation) -> list[str]:
    assert fed.client is not None
    return [r.id for r in fed.client.list()]


# -- #11: validation at submission -------------------------------------------------------


def test_train_requests_the_worker_would_refuse_are_refused_at_submission(
    federation: Federation, stub: CoordinatorStub
) -> None:
    fed = federation
    before = journal_ids(fed)
    done = vfl(fed, "train", "--epochs", "20000")
    one_error_line(done, "epochs must be from 1 to 10000 (got 20000)")
    assert done.stdout == ""  # no request id was printed
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    for bad in (
        cpb.TrainRequest(epochs=1, batch_size=-5),
        cpb.TrainRequest(epochs=1, lr=-1.0),
        cpb.TrainRequest(epochs=1, batch_size=32),
    ):
        assert "batch_size and lr are the server's" in refused(stub.SubmitTrain, bad, invalid)
    assert journal_ids(fed) == before  # nothing journaled


def test_a_passive_party_refuses_an_infinite_weight_decay(federation: Federation) -> None:
    fed = federation
    party = GrpcPassiveClient(
        "passive-0", fed.targets["passive-0"], TLSConfig(certs=fed.certs, identity="active")
    )
    digest = party.info().digest
    try:
        for bad in ({"weight_decay": math.inf}, {"weight_decay": 5.0}, {"momentum": math.nan}):
            with pytest.raises(RemoteProtocolError) as caught:
                party.configure(UpdateConfig.model_construct(**{**UpdateConfig().__dict__, **bad}))
            assert caught.value.code == grpc.StatusCode.INVALID_ARGUMENT
            assert "config" in str(caught.value)
        assert party.info().digest == digest
    finally:
        party.configure(UpdateConfig())
        party.close()


# -- #15: one idempotency key, one request ------------------------------------------------


def test_a_reused_idempotency_key_with_other_parameters_is_a_conflict(
    federation: Federation, stub: CoordinatorStub
) -> None:
    fed = federation
    assert fed.client is not None
    first = fed.client.submit_train(1, "ticket-15")
    assert fed.client.submit_train(1, "ticket-15").id == first.id  # same parameters: same request
    conflict = grpc.StatusCode.ALREADY_EXISTS
    other_epochs = cpb.TrainRequest(epochs=2, idempotency_key="ticket-15")
    assert f"already used by request {first.id}" in refused(
        stub.SubmitTrain, other_epochs, conflict
    )
    unlearn = cpb.UnlearnRequest(classes=[5], idempotency_key="ticket-15")
    assert f"request {first.id}" in refused(stub.SubmitUnlearn, unlearn, conflict)
    done = vfl(fed, "train", "--epochs", "3", "--idempotency-key", "ticket-15")
    one_error_line(done, "idempotency key 'ticket-15'", first.id, "use a new key")
    assert fed.final(first.id).status == "committed"
    assert journal_ids(fed).count(first.id) == 1


# -- #9: bounded inputs, paging, watchers -------------------------------------------------


def test_class_lists_and_idempotency_keys_are_bounded(
    federation: Federation, stub: CoordinatorStub
) -> None:
    fed = federation
    before = journal_ids(fed)
    invalid = grpc.StatusCode.INVALID_ARGUMENT
    many = cpb.UnlearnRequest(classes=[3] * 200_000)
    assert "200000 classes named: at most 9" in refused(stub.SubmitUnlearn, many, invalid)
    twice = cpb.UnlearnRequest(classes=[3, 4, 3])
    assert "class 3 is named twice" in refused(stub.SubmitUnlearn, twice, invalid)
    key = "k" * (MAX_KEY + 1)
    long_key = cpb.TrainRequest(epochs=1, idempotency_key=key)
    assert "at most 128" in refused(stub.SubmitTrain, long_key, invalid)
    long_key = cpb.UnlearnRequest(classes=[3], idempotency_key="k" * 3_500_000)
    assert "at most 128" in refused(stub.SubmitUnlearn, long_key, invalid)
    assert journal_ids(fed) == before


def test_requests_are_listed_a_page_at_a_time(
    federation: Federation, stub: CoordinatorStub
) -> None:
    fed = federation
    assert fed.client is not None
    for _ in range(2):  # at least three rows
        fed.commit_train()
    everything = journal_ids(fed)
    page = stub.ListRequests(cpb.ListRequestsRequest(page_size=2), timeout=60)
    assert [r.id for r in page.requests] == everything[:2] and page.next_page_token
    rest = stub.ListRequests(
        cpb.ListRequestsRequest(page_size=len(everything), page_token=page.next_page_token),
        timeout=60,
    )
    assert [r.id for r in rest.requests] == everything[2:] and rest.next_page_token == ""
    assert [r.id for r in fed.client.list(page_size=1)] == everything
    bad = cpb.ListRequestsRequest(page_token="not-a-token")
    refused(stub.ListRequests, bad, grpc.StatusCode.INVALID_ARGUMENT)


def test_watchers_do_not_starve_status_and_waiting_falls_back_to_polling(
    federation: Federation, stub: CoordinatorStub
) -> None:
    """Eight live watchers (the server has eight threads) once made `vfl status` time out."""
    fed = federation
    assert fed.client is not None
    fed.arm("work")
    request = fed.client.submit_train(1)
    fed.wait_paused("work")
    streams = [stub.Watch(cpb.RequestId(id=request.id)) for _ in range(8)]
    try:
        outcomes: list[object] = []
        for stream in streams:
            try:
                outcomes.append(next(stream).WhichOneof("event"))  # its first event: it follows
            except grpc.RpcError as exc:
                assert "watchers already follow requests" in exc.details()
                outcomes.append(exc.code())
        # other calls still get a thread, well within their deadline...
        assert fed.client.status().running == request.id
        # ...because half the server's eight threads may follow requests; four were refused
        assert outcomes.count(grpc.StatusCode.RESOURCE_EXHAUSTED) == 4, outcomes
        records: list[RequestRecord] = []
        follower = threading.Thread(  # no slot is free: the client polls instead of streaming
            target=lambda: records.extend(
                e for e in fed.client.watch(request.id) if isinstance(e, RequestRecord)
            )
        )
        follower.start()
    finally:
        fed.resume("work")
    follower.join(180)
    for stream in streams:
        stream.cancel()
    assert records and records[-1].status == "committed"


# -- #14: --wait against a coordinator that stops answering -------------------------------


def test_wait_ends_with_one_line_when_the_coordinator_stops_answering(
    federation: Federation,
) -> None:
    fed = federation
    assert fed.client is not None
    active = fed.children["active"].proc
    waiting = wait_for_a_paused_train(fed)
    active.send_signal(signal.SIGSTOP)  # black-holed: the socket stays open, nothing answers
    try:
        stdout, stderr = waiting.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        waiting.kill()
        stdout, stderr = waiting.communicate()
    finally:
        active.send_signal(signal.SIGCONT)
        fed.resume("work")
    assert waiting.returncode != -signal.SIGKILL, "--wait still waited for a stopped coordinator"
    request_id = stdout.strip()
    done = subprocess.CompletedProcess(waiting.args, waiting.returncode, stdout, stderr)
    one_error_line(done, "stopped answering", f"vfl requests show {request_id}")
    assert fed.final(request_id).status == "committed"  # the request itself was unharmed


# -- #10: tracebacks ----------------------------------------------------------------------


def test_bad_operator_input_is_one_line_not_a_traceback(
    federation: Federation, tmp_path: Path
) -> None:
    fed = federation
    one_error_line(vfl(fed, "unlearn", "--class", "99999999999"), "class 99999999999")
    keyless = tmp_path / "certs"
    shutil.copytree(fed.certs, keyless)
    (keyless / "admin.key").unlink()
    one_error_line(vfl(fed, "status", "--certs", str(keyless)), "admin.key is missing")
    committed = fed.commit_train()
    unwritable = "/proc/vfl-receipt.json"  # not even root can create a file in /proc
    one_error_line(
        vfl(fed, "requests", "show", committed.id, "--receipt", unwritable),
        f"cannot write {unwritable}",
    )
    state = str(fed.workdir / "active")
    one_error_line(
        vfl(fed, "receipt", "export", committed.id, "--state-dir", state, "--out", unwritable),
        f"cannot write {unwritable}",
    )
    assert not Path(unwritable).exists()


def test_a_corrupt_signing_key_stops_the_coordinator_at_start(
    federation: Federation, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir()
    (state / PRIVATE_KEY_FILE).write_bytes(b"-----BEGIN PRIVATE KEY-----\ngarbage\n")
    command = federation.second_active(state)
    done = subprocess.run(command, capture_output=True, text=True, timeout=180)
    errors = [line for line in done.stderr.splitlines() if line.startswith("vfl: error:")]
    assert done.returncode == 2 and "Traceback" not in done.stderr, done.stderr
    assert (
        len(errors) == 1 and f"cannot read the signing key {state / PRIVATE_KEY_FILE}" in errors[0]
    )
    assert (state / PRIVATE_KEY_FILE).read_bytes().endswith(b"garbage\n")  # kept, not replaced


# -- #8: output paths ---------------------------------------------------------------------


def test_outputs_are_regular_files_or_written_through_a_symlink(
    federation: Federation, tmp_path: Path
) -> None:
    fed = federation
    committed = fed.commit_train()
    fifo = tmp_path / "receipt.fifo"
    os.mkfifo(fifo)
    state = str(fed.workdir / "active")
    specials = [fifo]
    try:  # a device node too, where this process may make one (root, CAP_MKNOD)
        os.mknod(tmp_path / "null", 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        specials.append(tmp_path / "null")
    except OSError:
        pass
    for special in specials:
        for args in (
            ["requests", "show", committed.id, "--receipt", str(special)],
            ["receipt", "export", committed.id, "--state-dir", state, "--out", str(special)],
        ):
            one_error_line(vfl(fed, *args), str(special), "not a regular file")
        assert not special.is_file() and special.exists()
    target = tmp_path / "kept" / "receipt.json"
    target.parent.mkdir()
    target.write_text("old")
    link = tmp_path / "receipt.json"
    link.symlink_to(target)
    done = vfl(fed, "requests", "show", committed.id, "--receipt", str(link), "--json")
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and link.resolve() == target
    assert committed.id in target.read_text()
    one_version(fed.states())


# -- #2 (part): a submission is journaled and reported, or not journaled at all ----------


def test_a_submission_the_operator_gave_up_on_is_not_journaled(
    federation: Federation, stub: CoordinatorStub
) -> None:
    """A hung party holds up the version check past the operator's deadline."""
    fed = federation
    before = journal_ids(fed)
    hung = fed.children["passive-1"].proc
    hung.send_signal(signal.SIGSTOP)
    try:
        unlearn = cpb.UnlearnRequest(classes=[3], idempotency_key="gave-up")
        refused(stub.SubmitUnlearn, unlearn, grpc.StatusCode.DEADLINE_EXCEEDED, timeout=5)
    finally:
        hung.send_signal(signal.SIGCONT)
    log = fed.children["active"].log
    deadline = time.monotonic() + 120
    while "was not journaled: its submitter gave up first" not in log.read_text():
        assert time.monotonic() < deadline, "the coordinator never dropped the submission"
        time.sleep(0.1)
    assert journal_ids(fed) == before
    assert fed.client is not None
    retried = fed.client.submit_train(1, "gave-up")  # the key was never taken
    assert retried.id not in before and fed.final(retried.id).status == "committed"


# -- #5: a full disk under the journal (last: it restarts the coordinator if it died) -----


def test_a_full_disk_under_the_journal_ends_wait_and_the_row_catches_up_once_freed(
    federation: Federation,
) -> None:
    fed = federation
    version = one_version(fed.states())
    active = fed.children["active"].proc
    waiting = wait_for_a_paused_train(fed)
    _, hard = resource.prlimit(active.pid, resource.RLIMIT_FSIZE)
    # From here no file of the coordinator grows past 1 KiB: its checkpoint, the journal's
    # WAL and its log all fail to write, as on a full disk.
    resource.prlimit(active.pid, resource.RLIMIT_FSIZE, (1024, hard))
    try:
        fed.resume("work")
        try:
            stdout, stderr = waiting.communicate(timeout=180)
        except subprocess.TimeoutExpired:
            waiting.kill()
            stdout, stderr = waiting.communicate()
        assert waiting.returncode != -signal.SIGKILL, "--wait hung on the full disk"
        request_id = stdout.strip()
        done = subprocess.CompletedProcess(waiting.args, waiting.returncode, stdout, stderr)
        one_error_line(
            done, f"request {request_id} aborted", "could not record this outcome", code=1
        )
        assert fed.client is not None
        assert fed.client.status().running == ""
    finally:
        if active.poll() is None:
            resource.prlimit(active.pid, resource.RLIMIT_FSIZE, (hard, hard))  # space freed
        else:  # the old code died of SIGXFSZ: leave the federation usable
            fed.restart_dead("active")
    record = fed.final(request_id)  # the worker writes the outcome once it fits
    assert record.status == "aborted" and "could not record" not in record.error
    assert one_version(fed.states()) == version  # nothing changed anywhere
