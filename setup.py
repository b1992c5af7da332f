"""Builds the optional native DLP segment search (openai_casb.dlp._hsnative) when the Hyperscan
headers are installed (Debian/Ubuntu: `apt-get install libhyperscan-dev`); everything else is in
pyproject.toml. Without them, or if the build fails, the package installs without it and the DLP
engine uses the `hyperscan` Python binding (or RE2), with the same results.

OPENAI_CASB_NATIVE=0 skips the build; OPENAI_CASB_NATIVE=1 makes a failed build an error.
"""

from __future__ import annotations

import os
import shutil
import subprocess

from setuptools import Extension, setup


def _hyperscan_flags() -> tuple[list[str], list[str]] | None:
    """(include dirs, libraries) of the system Hyperscan, from pkg-config, else the usual paths."""
    pkg_config = shutil.which("pkg-config")
    if pkg_config:
        probe = subprocess.run([pkg_config, "--cflags-only-I", "libhs"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            includes = [flag[2:] for flag in probe.stdout.split() if flag.startswith("-I")]
            return includes, ["hs"]
    for include in ("/usr/include/hs", "/usr/local/include/hs"):
        if os.path.exists(os.path.join(include, "hs.h")):
            return [include], ["hs"]
    return None


def _native_extensions() -> list[Extension]:
    wanted = os.environ.get("OPENAI_CASB_NATIVE", "auto")
    if wanted == "0":
        return []
    flags = _hyperscan_flags()
    if flags is None:
        if wanted == "1":
            raise SystemExit("OPENAI_CASB_NATIVE=1 but the Hyperscan headers (libhyperscan-dev) are not installed")
        return []
    includes, libraries = flags
    return [
        Extension(
            "openai_casb.dlp._hsnative",
            ["src/openai_casb/dlp/_hsnative.c"],
            include_dirs=includes,
            libraries=libraries,
            extra_compile_args=["-O2", "-std=c11", "-Wall", "-Wextra"],
            optional=wanted != "1",
        )
    ]


setup(ext_modules=_native_extensions())
