"""Files staff grade by hand; the grader reports whether they are there, never scores them."""
MODELS = ("softmax", "twolayernn", "convnet", "mymodel")

DELIVERABLES = (
    [{"path": f"2_pytorch/{m}.log", "kind": "log"} for m in MODELS]
    + [{"path": f"2_pytorch/{m}_lossvstrain.png", "kind": "plot"} for m in MODELS]
    + [{"path": f"2_pytorch/{m}_valaccuracy.png", "kind": "plot"} for m in MODELS]
    + [{"path": "2_pytorch/*_gridfilt.png", "kind": "plot", "min": 1,
        "label": "2_pytorch/<model>_gridfilt.png (one at least)"},
       {"path": "**/extra.md", "kind": "text", "label": "extra.md (in any folder)"}]
)
