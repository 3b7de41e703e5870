"""Veo, OpenAI and ModelArk as loopback fakes: routes, checks and answer shapes as documented."""

from __future__ import annotations

import re

from provider_support import TOKEN, Fake


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


FAKES = {f.kind: f for f in (GoogleFake, OpenAIFake, BytePlusFake)}
