"""Alex's researcher on AWS Lambda: the image's CMD, ``handler.handler``.

Thin, like the ingest and search handlers beside it: the door itself is
``alex.http.research_cloud`` (the FastAPI app through Mangum, the job runs, the schedule),
installed in the image with the rest of Alex. The Dockerfile copies this file into the
image's ``LAMBDA_TASK_ROOT``, where the Lambda runtime looks for ``handler.py``.
"""

from __future__ import annotations

from alex.http.research_cloud import handler

__all__ = ["handler"]
