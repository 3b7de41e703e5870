"""Debian's chromium driven by Playwright, launched the way this project must launch it."""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager

import pytest

CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--autoplay-policy=no-user-gesture-required",
]


def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        reason = "Debian's chromium is not installed (make system installs it)"
        print(f"SKIP: {reason}")
        pytest.skip(reason)
    return path


# Chromium's mobile emulation of a phone: touch, a mobile viewport and a 3x screen.
PHONE = {"is_mobile": True, "has_touch": True, "device_scale_factor": 3}


@contextmanager
def browser_page(viewport=(1280, 900), phone: bool = False):
    """A page in a fresh chromium with a fresh user-data dir (emulating a phone if asked)."""
    from playwright.sync_api import sync_playwright

    executable = chromium_path()
    profile = tempfile.mkdtemp(prefix="paddock-chromium-")
    try:
        with sync_playwright() as pw:
            context = pw.chromium.launch_persistent_context(
                profile,
                executable_path=executable,
                headless=True,
                args=CHROMIUM_ARGS,
                viewport={"width": viewport[0], "height": viewport[1]},
                **(PHONE if phone else {}),
            )
            try:
                yield context.pages[0] if context.pages else context.new_page()
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)
