"""Veo, OpenAI, ModelArk and Kling as loopback fakes: routes, checks and answer shapes as documented."""

from __future__ import annotations

import re

from provider_support import KLING_AK, KLING_KEY, KLING_SK, TOKEN, Fake

from generators.providers.auth import verify_hs256_jwt


class GoogleFake(Fake):
    check_path = "/v1beta/models/veo-3.1-generate-preview"
    kind = "google"
    unauthorized = (
        400,
        {
            "error": {
                "code": 400,
                "status": "INVALID_ARGUMENT",
                "message": "API key not valid. Please pass a valid API key.",
            }
        },
    )
    invalid = (
        400,
        {
            "error": {
                "code": 400,
                "status": "INVALID_ARGUMENT",
                "message": "durationSeconds must be one of 4, 6, 8",
            }
        },
    )
    moderation = (
        400,
        {
            "error": {
                "code": 400,
                "status": "INVALID_ARGUMENT",
                "message": "The prompt was blocked by safety filters",
            }
        },
    )

    def authorized(self, headers) -> bool:
        return headers.get("x-goog-api-key") == TOKEN

    def route(self, method, path):
        m = re.fullmatch(r"/v1beta/files/(\w+):download\?alt=media", path)
        if m:
            return "content", m.group(1)
        m = re.fullmatch(r"/v1beta/models/veo-3.1-generate-preview/operations/(\w+)", path)
        if m:
            return "status", m.group(1)
        self.expect(
            method == "POST"
            and path == "/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
            f"submit to {method} {path}",
        )
        return "submit", None

    def check_submit(self, path, headers, body):
        instances, params = body.get("instances") or [{}], body.get("parameters") or {}
        self.expect(
            len(instances) == 1 and isinstance(instances[0].get("prompt"), str),
            "instances[0].prompt",
        )
        self.expect(params.get("durationSeconds") in (4, 6, 8), "parameters.durationSeconds")
        self.expect(params.get("aspectRatio") in ("16:9", "9:16"), "parameters.aspectRatio")
        # the Gemini API takes no seed, fps or generateAudio (Vertex-only parameters)
        self.expect(not {"seed", "fps", "generateAudio"} & set(params), "Vertex-only parameter")
        image = instances[0].get("image")
        self.expect(not image or set(image) == {"bytesBase64Encoded", "mimeType"}, "image")

    def duration(self, body):
        return float(body["parameters"]["durationSeconds"])

    def submitted(self, job):
        return {"name": f"models/veo-3.1-generate-preview/operations/{job['id']}"}

    def status(self, job, state):
        name = f"models/veo-3.1-generate-preview/operations/{job['id']}"
        if state == "running":
            return {"name": name}
        if state == "failed":
            return {
                "name": name,
                "done": True,
                "error": {"code": 13, "message": "Internal error while generating"},
            }
        response = {
            "@type": "type.googleapis.com/google.ai.generativelanguage.v1beta."
            "PredictLongRunningResponse"
        }
        if state == "refused":
            response["generateVideoResponse"] = {
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": ["The video was filtered by our safety policies"],
            }
        else:
            job["url"] += 1
            uri = f"{self.url}/v1beta/files/{job['id']}:download?alt=media"
            response["generateVideoResponse"] = {"generatedSamples": [{"video": {"uri": uri}}]}
        return {"name": name, "done": True, "response": response}


class OpenAIFake(Fake):
    check_path = "/v1/models"
    kind = "openai"
    unauthorized = (
        401,
        {
            "error": {
                "message": "Incorrect API key provided",
                "type": "invalid_request_error",
                "code": "invalid_api_key",
            }
        },
    )
    invalid = (
        400,
        {
            "error": {
                "message": "Invalid value: '5'. Supported values are: '4', '8', and '12'.",
                "param": "seconds",
                "code": "invalid_value",
            }
        },
    )
    moderation = (
        400,
        {
            "error": {
                "message": "Your request was blocked by our moderation system.",
                "code": "moderation_blocked",
            }
        },
    )

    def route(self, method, path):
        m = re.fullmatch(r"/v1/videos/(\w+)(/content)?", path)
        if m:
            return ("content" if m.group(2) else "status"), m.group(1)
        self.expect(method == "POST" and path == "/v1/videos", f"submit to {method} {path}")
        return "submit", None

    # POST /videos is multipart/form-data (openai-python's videos.create, August 2026, and the
    # reference's curl -F); input_reference is a file part.
    content_type = "multipart/form-data"

    def form(self, path, body):
        return {"prompt", "model", "seconds", "size", "input_reference"}

    def rejected(self, message):
        return 400, {"error": {"message": message, "type": "invalid_request_error"}}

    def check_submit(self, path, headers, body):
        self.expect(body.get("model") == "sora-2", "model")
        self.expect(body.get("seconds") in ("4", "8", "12"), f"seconds {body.get('seconds')!r}")
        self.expect(body.get("size") in ("1280x720", "720x1280"), "size")
        reference = body.get("input_reference")
        self.expect(
            reference is None
            or (
                isinstance(reference, dict)
                and reference["content_type"].startswith("image/")
                and reference["data"][:4] == b"\x89PNG"
            ),
            "input_reference must be an image file part",
        )

    def duration(self, body):
        return float(body["seconds"])

    def submitted(self, job):
        return {"id": job["id"], "object": "video", "status": "queued", "progress": 0}

    def status(self, job, state):
        base = {"id": job["id"], "object": "video"}
        if state == "running":
            return {**base, "status": "in_progress", "progress": 50}
        if state == "failed":
            return {
                **base,
                "status": "failed",
                "error": {"code": "internal_error", "message": "Video generation failed"},
            }
        if state == "refused":
            return {
                **base,
                "status": "failed",
                "error": {
                    "code": "moderation_blocked",
                    "message": "The output was blocked by moderation",
                },
            }
        return {**base, "status": "completed", "progress": 100}


class BytePlusFake(Fake):
    check_path = "/api/v3/contents/generations/tasks?page_num=1&page_size=1"
    kind = "byteplus"
    unauthorized = (
        401,
        {
            "error": {
                "code": "AuthenticationError",
                "type": "Unauthorized",
                "message": "the API key in the request is missing or invalid",
            }
        },
    )
    invalid = (
        400,
        {
            "error": {
                "code": "InvalidParameter",
                "message": "the parameter `duration` specified is not valid",
            }
        },
    )
    moderation = (
        400,
        {
            "error": {
                "code": "InputTextSensitiveContentDetected",
                "message": "The input text may contain sensitive information",
            }
        },
    )

    def route(self, method, path):
        if path.startswith("/files/"):
            return "file", path.split("/")[2]
        m = re.fullmatch(r"/api/v3/contents/generations/tasks/([\w-]+)", path)
        if m:
            return "status", m.group(1)
        self.expect(method == "POST" and path == "/api/v3/contents/generations/tasks", f"{path}")
        return "submit", None

    def check_submit(self, path, headers, body):
        content = body.get("content") or []
        self.expect(body.get("model") == "seedance-1-5-pro-251215", "model")
        self.expect(content[:1] and content[0].get("type") == "text", "content[0] text")
        self.expect(isinstance(body.get("duration"), int), "duration must be an int")
        self.expect(body.get("ratio") in ("16:9", "9:16", "1:1"), "ratio")
        self.expect(isinstance(body.get("generate_audio"), bool), "generate_audio")
        for item in content[1:]:
            self.expect(
                item.get("type") == "image_url"
                and item.get("role") == "first_frame"
                and item["image_url"]["url"].startswith("data:image/"),
                "image item",
            )

    def status(self, job, state):
        base = {"id": job["id"], "model": job["body"].get("model")}
        if state == "running":
            return {**base, "status": "running"}
        if state == "failed":
            return {
                **base,
                "status": "failed",
                "error": {"code": "InternalServiceError", "message": "internal error"},
            }
        if state == "refused":
            return {
                **base,
                "status": "failed",
                "error": {
                    "code": "OutputVideoSensitiveContentDetected",
                    "message": "The output video may contain sensitive information",
                },
            }
        return {
            **base,
            "status": "succeeded",
            "content": {"video_url": self.file_url(job)},
            "usage": {"completion_tokens": 108900, "total_tokens": 108900},
        }

    def sound(self, body):
        return bool(body.get("generate_audio"))


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


FAKES = {f.kind: f for f in (GoogleFake, OpenAIFake, BytePlusFake, KlingFake)}
