"""Run the ONNX checker (full_check: includes strict shape inference) on each file given.

usage: check_onnx.py FILE.onnx...   prints one JSON line per file: {"file", "ok", "error"}
"""
import json
import sys

import onnx

for path in sys.argv[1:]:
    try:
        onnx.checker.check_model(onnx.load(path), full_check=True)
        print(json.dumps({"file": path, "ok": True, "error": None}))
    except Exception as e:  # noqa: BLE001 - report every checker failure as data
        print(json.dumps({"file": path, "ok": False, "error": str(e)[:2000]}))
