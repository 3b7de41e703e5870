"""Serving: how a stored clip becomes the bytes a rater's browser receives (the pure media part).

The path from a stored clip to the browser, in order: `profile` (the pool's one format, from
paddock.toml's `[serving]` via arena/io/serving_file.py), `rendition` (each clip re-made in that
format, sound through `loudness`), arena/jobs/serving_renditions.py (the background job that
makes and records them, arena/store/serving.py), arena/jobs/serving_cuts.py (each prompt's clips
cut to one length, every sample padded by `sample_padding`), and arena/web/serving_urls.py with
the media route in arena/web/server.py (opaque URLs, Range requests over the padding).
"""
