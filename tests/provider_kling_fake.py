"""Kling's own API as a loopback fake: text2video, image2video and omni-video, strict forms."""

from __future__ import annotations

import re

from provider_support import KLING_AK, KLING_KEY, KLING_SK, Fake

from generators.providers.auth import verify_hs256_jwt

# The request forms of Kling's reference (text2video, image2video, omni-video; Kling's own API
# pages as mirrored on 2026-12-05): anything else is refused with code 1201.
_KLING_COMMON = {"model_name", "prompt", "negative_prompt", "cfg_scale", "mode", "duration"}
_KLING_COMMON |= {"sound", "voice_list", "camera_control", "callback_url", "external_task_id"}
_KLING_COMMON |= {"watermark_info", "multi_shot", "shot_type", "multi_prompt"}
KLING_FORMS = {
    "text2video": _KLING_COMMON | {"aspect_ratio"},
    # the output follows the image: no aspect_ratio
    "image2video": _KLING_COMMON | {"image", "image_tail", "static_mask", "dynamic_masks"},
    "omni-video": {"model_name", "prompt", "multi_shot", "shot_type", "multi_prompt", "sound"}
    | {"image_list", "element_list", "video_list", "mode", "aspect_ratio", "duration"}
    | {"watermark_info", "callback_url", "external_task_id"},
}
KLING_MODELS = {
    "text2video": ("kling-v2-6", "kling-v3"),
    "image2video": ("kling-v2-6", "kling-v3"),
    "omni-video": ("kling-v3-omni",),
}


class KlingFake(Fake):
    check_path = "/v1/videos/text2video?pageNum=1&pageSize=1"
    kind = "kling"
    unauthorized = (
        401,
        {"code": 1004, "message": "Authorization signature is invalid", "request_id": "r-auth"},
    )
    invalid = (
        400,
        {"code": 1201, "message": "Invalid request parameters: duration", "request_id": "r-bad"},
    )
    moderation = (
        400,
        {"code": 1301, "message": "Trigger the content security policy", "request_id": "r-mod"},
    )

    def authorized(self, headers) -> bool:
        auth = headers.get("Authorization") or ""
        if auth == f"Bearer {KLING_KEY}":  # the single API key, sent as it is
            return True
        try:
            payload = verify_hs256_jwt(auth.removeprefix("Bearer "), KLING_SK)
        except ValueError:
            return False
        return auth.startswith("Bearer ") and payload.get("iss") == KLING_AK

    def route(self, method, path):
        if path.startswith("/files/"):
            return "file", path.split("/")[2]
        m = re.fullmatch(r"/v1/videos/(text2video|image2video|omni-video)/(\w+)", path)
        if m:
            job = self.jobs.get(m.group(2))
            self.expect(job is None or job["path"].endswith(m.group(1)), "status path kind")
            return "status", m.group(2)
        self.expect(method == "POST" and path.removeprefix("/v1/videos/") in KLING_FORMS, f"{path}")
        return "submit", None

    def form(self, path, body):
        return KLING_FORMS.get(path.removeprefix("/v1/videos/"), set())

    def refusal(self, path, headers, body):
        refused = super().refusal(path, headers, body)
        if refused:
            return refused
        if body.get("model_name") not in KLING_MODELS.get(path.removeprefix("/v1/videos/"), ()):
            return f"model_name {body.get('model_name')!r} is not served at {path}"
        # the capability map: kling-v2-6 makes sound in pro mode only (std: silent only)
        v2_6_sound = body.get("model_name") == "kling-v2-6" and body.get("sound") == "on"
        if v2_6_sound and body.get("mode", "std") != "pro":
            return "sound is only supported in pro mode for kling-v2-6"
        # the 3.0 Omni map: single-shot text-to-video in pro (or 4k) only
        omni_text = path.endswith("omni-video") and not body.get("image_list")
        if omni_text and not body.get("multi_shot") and body.get("mode", "pro") == "std":
            return "single-shot text-to-video is not supported in std mode for kling-v3-omni"
        return None

    def rejected(self, message):
        return 400, {"code": 1201, "message": message, "request_id": "r-bad"}

    def check_submit(self, path, headers, body):
        model = body.get("model_name")
        durations = ("5", "10") if model == "kling-v2-6" else tuple(map(str, range(3, 16)))
        self.expect(body.get("duration") in durations, f"duration {body.get('duration')!r}")
        self.expect(body.get("sound") in ("on", "off"), "sound")
        self.expect(body.get("mode") in ("std", "pro"), "mode")
        if path.endswith("omni-video"):
            self.expect(body.get("multi_shot") is False, "multi_shot false for one prompt")
            frames = body.get("image_list") or []
            self.expect(
                all(f.get("type") == "first_frame" and "image_url" in f for f in frames),
                "image_list items",
            )
            images = [f["image_url"] for f in frames]
            self.expect(bool(frames) != ("aspect_ratio" in body), "aspect_ratio only without image")
        else:
            images = [body["image"]] if body.get("image") else []
            self.expect((path == "/v1/videos/image2video") == bool(images), "image vs path")
            if not images:
                self.expect(body.get("aspect_ratio") in ("16:9", "9:16", "1:1"), "aspect_ratio")
        self.expect(all(not i.startswith("data:") for i in images), "image must be bare base64")

    def submitted(self, job):
        return {
            "code": 0,
            "message": "SUCCEED",
            "request_id": f"req-{job['id']}",
            "data": {"task_id": job["id"], "task_status": "submitted"},
        }

    def status(self, job, state):
        data = {"task_id": job["id"], "task_status": "processing"}
        if state == "failed":
            data.update(task_status="failed", task_status_msg="Internal error, please retry")
        elif state == "refused":
            data.update(
                task_status="failed", task_status_msg="Failure to pass the risk control system"
            )
        elif state == "done":
            data.update(
                task_status="succeed",
                task_result={
                    "videos": [
                        {"id": "v1", "url": self.file_url(job), "duration": job["body"]["duration"]}
                    ]
                },
            )
        return {"code": 0, "message": "SUCCEED", "request_id": f"req-{job['id']}", "data": data}

    def sound(self, body):
        return body.get("sound") == "on"


FAKES = {"kling": KlingFake}
