"""``vfl predict``: score aligned IDs with the federation's committed model.

Every passive party embeds its own columns of each ID, the active party's top
model turns the embeddings into class probabilities, and the operator gets a
CSV of ``id, predicted class name, one probability column per class``. Large ID
lists go in batches (a progress bar per batch); every batch must be scored by
the same model version, or nothing is written.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Annotated

import typer

from vfl.atomic import check_writable, write_atomic
from vfl.cli.errors import friendly_errors
from vfl.cli.options import QuietOpt, read_ids, with_coordinator
from vfl.cli.render import console, progress_bars
from vfl.errors import ConfigError
from vfl.grpc.operator import CoordinatorClient, Prediction
from vfl.progress import ProgressEvent

__all__ = ["predict"]

DEFAULT_BATCH = 4096


def _score(client: CoordinatorClient, ids: list[str], batch: int, quiet: bool) -> list[Prediction]:
    parts: list[Prediction] = []
    with progress_bars(enabled=not quiet) as progress:
        for start in range(0, len(ids), batch):
            parts.append(client.predict(ids[start : start + batch]))
            progress(ProgressEvent("predict", min(start + batch, len(ids)), len(ids)))
    versions = sorted({p.version for p in parts})
    if len(versions) > 1:
        raise ConfigError(
            f"the model changed while scoring (versions {versions}); nothing written, run again"
        )
    return parts


def _csv(ids: list[str], parts: list[Prediction]) -> bytes:
    """Probabilities with 9 significant digits: a float32 reads back exactly."""
    names = parts[0].class_names
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "predicted", *(f"p_{name}" for name in names)])
    rows = iter(ids)
    for part in parts:
        for cls, probs in zip(part.predicted, part.probabilities, strict=True):
            writer.writerow([next(rows), names[cls], *(f"{p:.9g}" for p in probs)])
    return out.getvalue().encode()


@friendly_errors
@with_coordinator
def predict(
    client: CoordinatorClient,
    ids: Annotated[Path, typer.Option(help="File of aligned IDs to score, one per line.")],
    out: Annotated[Path, typer.Option(help="CSV to write: id, predicted, p_<class>...")],
    batch_size: Annotated[
        int, typer.Option(help="IDs per call to the coordinator.", min=1, max=65536)
    ] = DEFAULT_BATCH,
    quiet: QuietOpt = False,
) -> None:
    """Score aligned IDs with the current committed model; write a CSV."""
    check_writable(out)
    wanted = read_ids(ids)
    parts = _score(client, wanted, batch_size, quiet)
    data = _csv(wanted, parts)
    write_atomic(out, lambda fh: fh.write(data))
    console.print(f"scored {len(wanted)} IDs with model version {parts[0].version}")
    typer.echo(str(out))
