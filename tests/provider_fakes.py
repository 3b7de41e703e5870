"""fal, Replicate, Runway and Luma as loopback fakes: routes, checks and answer shapes as documented."""

from __future__ import annotations

import re

from provider_support import TOKEN, Fake


class FalFake(Fake):
    kind = "fal"
    unauthorized = (401, {"detail": "Unauthorized: invalid key"})
    invalid = (
        422,
        {
            "detail": [
                {
                    "loc": ["body", "duration"],
                    "type": "value_error",
                    "msg": "unexpected value; permitted: '5', '10'",
                }
            ]
        },
    )
    moderation = (
        422,
        {"detail": [{"type": "content_policy_violation", "msg": "flagged by a content checker"}]},
    )
    result_route = True

    def authorized(self, headers) -> bool:
        return headers.get("Authorization") == f"Key {TOKEN}"

    def route(self, method, path):
        if path.startswith("/files/"):
            return "file", path.split("/")[2]
        m = re.fullmatch(r"/fal-ai/kling-video/requests/(\w+)(/status)?", path)
        if m:
            self.expect(method == "GET", "status/result must be GET")
            return ("status" if m.group(2) else "result"), m.group(1)
        self.expect(
            method == "POST" and path == "/fal-ai/kling-video/v2.1/standard/text-to-video",
            f"submit to {method} {path}",
        )
        return "submit", None

    def check_submit(self, path, headers, body):
        self.expect(isinstance(body.get("prompt"), str), "prompt")
        self.expect(body.get("duration") in ("5", "10"), f"duration {body.get('duration')!r}")
        self.expect(body.get("aspect_ratio") in ("16:9", "9:16", "1:1"), "aspect_ratio")
        self.expect("image_url" not in body, "image_url on a text-to-video endpoint")

    def submitted(self, job):
        # another host (as fal names its own): Paddock must follow the path under its base_url
        base = f"https://queue.example.invalid/fal-ai/kling-video/requests/{job['id']}"
        return {"request_id": job["id"], "status_url": base + "/status", "response_url": base}

    def status(self, job, state):
        if state == "running":
            return {"status": "IN_PROGRESS", "queue_position": 0}
        if state == "failed":
            return {"status": "COMPLETED", "error": "Runner crashed", "error_type": "runner"}
        if state == "refused":
            return {
                "status": "COMPLETED",
                "error": "flagged by a content checker",
                "error_type": "content_policy_violation",
            }
        return {"status": "COMPLETED", "metrics": {"inference_time": 41.5}}

    def result(self, job):
        return {"video": {"url": self.file_url(job), "content_type": "video/mp4"}}

    def sound(self, body):
        return False


class ReplicateFake(Fake):
    check_path = "/v1/account"
    kind = "replicate"
    unauthorized = (
        401,
        {
            "title": "Unauthenticated",
            "status": 401,
            "detail": "You did not pass a valid authentication token",
        },
    )
    invalid = (
        422,
        {
            "title": "Input validation failed",
            "status": 422,
            "detail": "- input.duration: Must be less than or equal to 12",
        },
    )
    moderation = (
        422,
        {
            "title": "Input validation failed",
            "status": 422,
            "detail": "The input was flagged as sensitive (E005)",
        },
    )

    def route(self, method, path):
        if path.startswith("/files/"):
            return "file", path.split("/")[2]
        m = re.fullmatch(r"/v1/predictions/(\w+)", path)
        if m:
            return "status", m.group(1)
        self.expect(
            method == "POST" and path == "/v1/models/bytedance/seedance-1-pro/predictions",
            f"submit to {method} {path}",
        )
        return "submit", None

    def check_submit(self, path, headers, body):
        inputs = body.get("input") or {}
        self.expect(set(body) == {"input"}, f"top-level fields {sorted(body)}")
        self.expect(isinstance(inputs.get("prompt"), str), "input.prompt")
        self.expect(isinstance(inputs.get("duration"), int), "input.duration must be an int")
        self.expect(isinstance(inputs.get("seed"), int), "input.seed")

    def duration(self, body):
        return float(body["input"]["duration"])

    def submitted(self, job):
        return {
            "id": job["id"],
            "status": "starting",
            "urls": {"get": f"{self.url}/v1/predictions/{job['id']}"},
        }

    def status(self, job, state):
        if state == "running":
            return {"id": job["id"], "status": "processing", "output": None}
        if state == "aborted":  # deadline passed before it started: no error text
            return {"id": job["id"], "status": "aborted", "error": None, "output": None}
        if state == "failed":
            return {"id": job["id"], "status": "failed", "error": "CUDA out of memory"}
        if state == "refused":
            return {
                "id": job["id"],
                "status": "failed",
                "error": "The output was flagged as sensitive. (E005)",
            }
        return {
            "id": job["id"],
            "status": "succeeded",
            "output": self.file_url(job),
            "metrics": {"predict_time": 37.2},
        }

    def sound(self, body):
        return False


# Each model's request forms as Runway's Python SDK types them (runwayml/sdk-python, July 2026:
# text_to_video_create_params / image_to_video_create_params); anything else is a 400.
_RUNWAY_T2V = {"model", "promptText", "ratio", "duration"}
_RUNWAY_I2V = {"model", "promptImage", "promptText", "ratio", "duration"}
RUNWAY_FORMS = {
    ("text_to_video", "gen4.5"): _RUNWAY_T2V | {"seed", "contentModeration"},
    ("image_to_video", "gen4.5"): _RUNWAY_I2V | {"seed", "contentModeration"},
    ("image_to_video", "gen4_turbo"): _RUNWAY_I2V | {"seed", "contentModeration"},
    ("text_to_video", "happyhorse_1_0"): _RUNWAY_T2V,
    # the output follows the input image: no ratio, a quality tier instead
    ("image_to_video", "happyhorse_1_0"): {
        "model",
        "promptImage",
        "promptText",
        "duration",
        "resolution",
    },
    ("text_to_video", "seedance2"): _RUNWAY_T2V | {"audio"},
    ("image_to_video", "seedance2"): _RUNWAY_I2V | {"audio"},
    ("text_to_video", "veo3.1"): _RUNWAY_T2V | {"audio", "negativePrompt"},
    ("image_to_video", "veo3.1"): _RUNWAY_I2V | {"audio", "negativePrompt"},
}


class RunwayFake(Fake):
    check_path = "/v1/organization"
    kind = "runway"
    unauthorized = (401, {"error": "Invalid API key"})
    invalid = (400, {"error": "Validation of body failed: duration must be at most 10"})
    moderation = (400, {"error": "SAFETY.INPUT.TEXT: the prompt did not pass moderation"})

    def route(self, method, path):
        if path.startswith("/files/"):
            return "file", path.split("/")[2]
        m = re.fullmatch(r"/v1/tasks/(\w+)", path)
        if m:
            return "status", m.group(1)
        self.expect(
            method == "POST" and path in ("/v1/text_to_video", "/v1/image_to_video"),
            f"submit to {method} {path}",
        )
        return "submit", None

    def form(self, path, body):
        return RUNWAY_FORMS.get((path.removeprefix("/v1/"), body.get("model")), set())

    def rejected(self, message):
        return 400, {"error": f"Validation of body failed: {message}"}

    def check_submit(self, path, headers, body):
        self.expect(headers.get("X-Runway-Version") == "2024-11-06", "X-Runway-Version")
        self.expect(isinstance(body.get("promptText"), str), "promptText")
        self.expect(isinstance(body.get("duration"), int), "duration must be an int")
        if body.get("model") == "gen4.5":
            self.expect(isinstance(body.get("seed"), int), "seed")
            ratios = ("1280:720", "720:1280") + ("960:960",) * path.endswith("image_to_video")
            self.expect(body.get("ratio") in ratios, "gen4.5 ratio")
        if "resolution" in body:
            self.expect(body["resolution"] in ("720P", "1080P"), "resolution 720P | 1080P")
        image = body.get("promptImage")
        self.expect((path == "/v1/image_to_video") == bool(image), "promptImage vs path")
        self.expect(not image or image.startswith("data:image/"), "promptImage data URI")

    def status(self, job, state):
        if state == "running":
            return {"id": job["id"], "status": "RUNNING", "progress": 0.4}
        if state == "failed":
            return {
                "id": job["id"],
                "status": "FAILED",
                "failure": "An internal error occurred",
                "failureCode": "INTERNAL.BAD_OUTPUT.CODE01",
            }
        if state == "refused":
            return {
                "id": job["id"],
                "status": "FAILED",
                "failureCode": "SAFETY.OUTPUT.VIDEO",
                "failure": "The output did not pass content moderation",
            }
        return {"id": job["id"], "status": "SUCCEEDED", "output": [self.file_url(job)]}

    def sound(self, body):
        return False


class LumaFake(Fake):
    check_path = "/dream-machine/v1/credits"
    kind = "luma"
    unauthorized = (401, {"detail": "Invalid API key"})
    invalid = (400, {"detail": "Invalid request: duration must be one of 5s, 9s"})
    moderation = (400, {"detail": "Prompt not allowed because advanced moderation failed"})

    def route(self, method, path):
        if path.startswith("/files/"):
            return "file", path.split("/")[2]
        m = re.fullmatch(r"/dream-machine/v1/generations/([\w-]+)", path)
        if m:
            return "status", m.group(1)
        self.expect(method == "POST" and path == "/dream-machine/v1/generations", f"{path}")
        return "submit", None

    def check_submit(self, path, headers, body):
        self.expect(body.get("model") == "ray-2", "model")
        self.expect(body.get("duration") in ("5s", "9s"), f"duration {body.get('duration')!r}")
        self.expect(body.get("resolution") in ("540p", "720p", "1080p", "4k"), "resolution")
        self.expect(body.get("aspect_ratio") in ("16:9", "9:16", "1:1"), "aspect_ratio")

    def submitted(self, job):
        return {"id": job["id"], "state": "queued", "generation_type": "video"}

    def status(self, job, state):
        if state == "running":
            return {"id": job["id"], "state": "dreaming", "assets": None}
        if state == "failed":
            return {"id": job["id"], "state": "failed", "failure_reason": "Generation failed"}
        if state == "refused":
            return {
                "id": job["id"],
                "state": "failed",
                "failure_reason": "The output failed moderation",
            }
        return {"id": job["id"], "state": "completed", "assets": {"video": self.file_url(job)}}

    def sound(self, body):
        return False


FAKES = {f.kind: f for f in (FalFake, ReplicateFake, RunwayFake, LumaFake)}
