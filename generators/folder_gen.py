"""`folder:<path>`: clips made elsewhere, one per prompt (PROMPT_ID.mp4), checked like an import.

A team enters a model it cannot run here by handing over a folder of its clips. The clip for a
prompt is `<path>/<prompt id>.<mp4|mov|webm|mkv>`; it must be a playable, bounded video and carry
sound when the prompt expects it. It is copied without its container tags (which often name the
model). Nothing is generated, so no generation time is recorded for these clips.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from generators.base import GenerationRequest, GenerationResult
from generators.clipcheck import VIDEO_SUFFIXES, check_media, result_from_info
from generators.encode import strip_metadata_copy
from generators.errors import GenerationError, InputError


class FolderGenerator:
    """Serves ready clips from a folder by prompt id."""

    ready_made = True  # the arena records no generation time for its clips

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder).expanduser()
        self.name = f"folder:{folder}"
        if not self.folder.is_dir():
            raise InputError(f"{self.name}: no such folder")

    def clip_for(self, prompt_id: str) -> Path:
        """The folder's clip for a prompt id; GenerationError when it has none (or several)."""
        if not prompt_id or "/" in prompt_id or "\\" in prompt_id or prompt_id.startswith("."):
            raise GenerationError(f"{self.name}: {prompt_id!r} is not a prompt id")
        found = [self.folder / f"{prompt_id}{s}" for s in VIDEO_SUFFIXES]
        found = [p for p in found if p.is_file()]
        if not found:
            raise GenerationError(
                f"{self.name}: no clip for prompt {prompt_id!r} (expected {prompt_id}.mp4)"
            )
        if len(found) > 1:
            raise GenerationError(
                f"{self.name}: several clips for prompt {prompt_id!r}: "
                + ", ".join(p.name for p in found)
            )
        return found[0]

    def generate(self, request: GenerationRequest, out_path: str) -> GenerationResult:
        if not request.prompt_id:
            raise GenerationError(
                f"{self.name} serves clips by prompt id, and this request has none "
                "(use it with `paddock generate --suite`)"
            )
        start = time.perf_counter()
        src = self.clip_for(request.prompt_id)
        info = check_media(src, expects_audio=request.audio, prompt_id=request.prompt_id)
        strip_metadata_copy(src, out_path)
        return result_from_info(out_path, info, time.perf_counter() - start)


def build(target: str, params: dict[str, str]) -> FolderGenerator:
    """The `folder:` factory of the generator registry."""
    if not target:
        raise InputError("folder: needs a path, e.g. folder:/clips/team-x")
    if params:
        raise InputError(f"folder:{target}: takes no options, got {', '.join(sorted(params))}")
    return FolderGenerator(target)
