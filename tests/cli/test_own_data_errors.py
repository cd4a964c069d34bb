"""Bad per-party files and ID lists: one line on stderr, exit 2, before any network or write."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fixtures.cli import run_vfl

BAD_FEATURES = {
    "duplicate id": ("id,a\nc1,1\nc1,2\n", "duplicate id 'c1'"),
    "no id column": ("key,a\nc1,1\nc2,2\n", "no 'id' column"),
    "non-numeric": ("id,a\nc1,1\nc2,high\n", "party.csv:3"),
}


def one_error(result: object, fragment: str) -> None:
    assert result.exit_code == 2, result.stdout + result.stderr  # type: ignore[attr-defined]
    lines = result.stderr.strip().splitlines()  # type: ignore[attr-defined]
    lines = [line for line in lines if not line.startswith("vfl: warning: --insecure")]
    assert len(lines) == 1 and lines[0].startswith("vfl: error: ") and fragment in lines[0], lines


@pytest.mark.parametrize("case", sorted(BAD_FEATURES))
def test_a_passive_party_refuses_a_bad_own_file_at_start(tmp_path: Path, case: str) -> None:
    text, fragment = BAD_FEATURES[case]
    (tmp_path / "party.csv").write_text(text)
    state = tmp_path / "state"
    result = run_vfl(
        "serve", "passive", "--party-id", "passive-0", "--data", str(tmp_path / "party.csv"),
        "--insecure", "--listen", "127.0.0.1:0", "--state-dir", str(state),
    )  # fmt: skip
    one_error(result, fragment)
    assert not state.exists()  # nothing written


def test_the_active_party_refuses_a_one_class_label_file_before_dialling(tmp_path: Path) -> None:
    (tmp_path / "labels.csv").write_text("id,y\nc1,yes\nc2,yes\n")
    result = run_vfl(
        "serve", "active", "--passive", "passive-0=127.0.0.1:9", "--labels",
        str(tmp_path / "labels.csv"), "--label-column", "y", "--insecure",
        "--connect-timeout", "600",
    )  # fmt: skip
    one_error(result, "a classifier needs at least 2")


def test_predict_refuses_an_empty_or_missing_id_list_before_calling(tmp_path: Path) -> None:
    (tmp_path / "ids.txt").write_text("\n\n")
    out = tmp_path / "pred.csv"
    common = ("--out", str(out), "--insecure", "--coordinator", "127.0.0.1:9")
    one_error(run_vfl("predict", "--ids", str(tmp_path / "ids.txt"), *common), "no IDs in it")
    one_error(run_vfl("predict", "--ids", str(tmp_path / "nope.txt"), *common), "cannot read it")
    assert not out.exists()


def test_align_with_an_empty_intersection_is_one_line_and_changes_nothing(tmp_path: Path) -> None:
    """Real servers (in this process, plaintext): the files share no ID."""
    from parties import active_server, passive_server
    from vfl.federation import ActiveData, FederationSpec, PassiveData
    from vfl.grpc.server import NetworkConfig
    from vfl.grpc.tls import TLSConfig

    (tmp_path / "labels.csv").write_text("id,y\na1,yes\na2,no\na3,yes\n")
    (tmp_path / "party.csv").write_text("id,x\nb1,1\nb2,2\nb3,3\n")
    net = NetworkConfig(listen="127.0.0.1:0", tls=TLSConfig(insecure=True))
    spec = FederationSpec(parties=1)
    passive = passive_server.start(passive_server.PassiveServerConfig(
        party_id="passive-0", data=PassiveData(path=tmp_path / "party.csv"), federation=spec,
        network=net, state_dir=tmp_path / "passive-state",
    ))  # fmt: skip
    try:
        server, running = active_server.start(active_server.ActiveServerConfig(
            federation=spec, data=ActiveData(labels=tmp_path / "labels.csv", label_column="y"),
            passive={"passive-0": f"127.0.0.1:{passive.port}"}, network=net,
            state_dir=tmp_path / "active-state",
        ))  # fmt: skip
        try:
            target = ("--coordinator", f"127.0.0.1:{running.port}", "--insecure")
            one_error(run_vfl("align", *target), "no ID is held by every party (empty intersection")
            status = run_vfl("status", "--json", *target)
            assert status.exit_code == 0, status.stderr
            assert '"aligned": false' in status.stdout
            assert not (tmp_path / "passive-state" / "index.json").exists()
            assert not (tmp_path / "active-state" / "index.json").exists()
        finally:
            running.stop()
            server.close()
    finally:
        passive.stop()
