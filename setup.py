"""Builds the optional native DLP modules; everything else is in pyproject.toml.

- openai_casb.dlp._hsnative, the segment search, when the Hyperscan headers are installed
  (Debian/Ubuntu: `apt-get install libhyperscan-dev`);
- openai_casb.dlp._exactnative, the exact step (validators, judges, keywords), when the PCRE2
  headers are installed (`apt-get install libpcre2-dev`).

Without them, or if a build fails, the package installs without that module and the DLP engine
runs the same step in Python (the `hyperscan` binding or RE2 for the search), with the same
results. OPENAI_CASB_NATIVE=0 skips both builds; OPENAI_CASB_NATIVE=1 makes a failed build an error.
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


def _pcre2_flags() -> tuple[list[str], list[str]] | None:
    pkg_config = shutil.which("pkg-config")
    if pkg_config:
        probe = subprocess.run([pkg_config, "--cflags-only-I", "libpcre2-8"], capture_output=True, text=True, check=False)
        if probe.returncode == 0:
            return [flag[2:] for flag in probe.stdout.split() if flag.startswith("-I")], ["pcre2-8"]
    for include in ("/usr/include", "/usr/local/include"):
        if os.path.exists(os.path.join(include, "pcre2.h")):
            return [include], ["pcre2-8"]
    return None


_FLAGS = ["-O2", "-std=c11", "-Wall", "-Wextra"]


def _native_extensions() -> list[Extension]:
    wanted = os.environ.get("OPENAI_CASB_NATIVE", "auto")
    if wanted == "0":
        return []
    extensions: list[Extension] = []
    hyperscan = _hyperscan_flags()
    if hyperscan is not None:
        extensions.append(Extension(
            "openai_casb.dlp._hsnative", ["src/openai_casb/dlp/_hsnative.c"], include_dirs=hyperscan[0],
            libraries=hyperscan[1], extra_compile_args=_FLAGS, optional=wanted != "1",
        ))
    elif wanted == "1":
        raise SystemExit("OPENAI_CASB_NATIVE=1 but the Hyperscan headers (libhyperscan-dev) are not installed")
    pcre2 = _pcre2_flags()
    if pcre2 is not None:
        sources = ["_exactnative.c", "_native_financial.c", "_native_secrets.c"]
        extensions.append(Extension(
            "openai_casb.dlp._exactnative", [f"src/openai_casb/dlp/{source}" for source in sources],
            include_dirs=pcre2[0], libraries=pcre2[1], depends=["src/openai_casb/dlp/_exactnative.h"],
            extra_compile_args=_FLAGS, optional=wanted != "1",
        ))
    elif wanted == "1":
        raise SystemExit("OPENAI_CASB_NATIVE=1 but the PCRE2 headers (libpcre2-dev) are not installed")
    return extensions


setup(ext_modules=_native_extensions())
