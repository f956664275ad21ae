#!/usr/bin/env python3
"""Derives test models from the default SmolLM2 GGUF with llama.cpp's own quantizer
(llama-cpp-python's `llama_model_quantize`), into $NIM_CACHE_PATH/test-models (not models/, so
that a cached model looked up by name never resolves to one of these):

  SmolLM2-135M-Instruct.Q4_K_M.gguf  K-quant mix: Q4_K/Q6_K where a row is a multiple of 256
                                     (ffn_down), Q5_0/Q8_0 fallbacks elsewhere (576 columns)
  SmolLM2-135M-Instruct.F16.gguf     every matrix as F16, for NIM_QUANTIZATION tests
  SmolLM2-135M-Instruct.Q8_0.gguf    the F16 file quantized to Q8_0 by llama.cpp, which loading
                                     the F16 file with NIM_QUANTIZATION=q8_0 must reproduce

The model tests that use them are skipped when they are absent. Usage:
  python3 scripts/make_test_models.py [--cache DIR]
"""
import argparse
import ctypes
import os
import sys

import llama_cpp


def quantize(src, dst, ftype):
    if os.path.exists(dst):
        return
    params = llama_cpp.llama_model_quantize_default_params()
    params.ftype = ftype
    params.allow_requantize = True
    params.nthread = 2
    tmp = dst + ".part"
    if llama_cpp.llama_model_quantize(src.encode(), tmp.encode(), ctypes.byref(params)) != 0:
        sys.exit(f"llama_model_quantize failed for {dst}")
    os.replace(tmp, dst)
    print(f"wrote {dst}", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cache", default=os.environ.get("NIM_CACHE_PATH", os.path.expanduser("~/.cache/nimbus")))
    a = ap.parse_args()
    src = os.path.join(a.cache, "models", "SmolLM2-135M-Instruct.Q4_1.gguf")
    models = os.path.join(a.cache, "test-models")
    os.makedirs(models, exist_ok=True)
    if not os.path.exists(src):
        sys.exit(f"{src} is missing: run `make model` first")
    quantize(src, os.path.join(models, "SmolLM2-135M-Instruct.Q4_K_M.gguf"), llama_cpp.LLAMA_FTYPE_MOSTLY_Q4_K_M)
    f16 = os.path.join(models, "SmolLM2-135M-Instruct.F16.gguf")
    quantize(src, f16, llama_cpp.LLAMA_FTYPE_MOSTLY_F16)
    quantize(f16, os.path.join(models, "SmolLM2-135M-Instruct.Q8_0.gguf"), llama_cpp.LLAMA_FTYPE_MOSTLY_Q8_0)


if __name__ == "__main__":
    main()
