"""A scripted OpenAI-compatible chat server on loopback, for tests that run ``alex serve`` as
its own process: the server takes ``ALEX_LLM_BASE_URL`` (``server.base_url``) and
``ALEX_LLM_MODEL``, as it would for Ollama or LM Studio, so no production code knows about
it. Each ``POST /v1/chat/completions`` is answered by ``answer(request_body)`` (the message
content, a string), and every request body is kept in ``requests``.

The planner's agents ask for a JSON schema (``response_format``); :func:`planner_answers`
answers each by the schema's properties (tagger, reporter, retirement writer) with the
scripted bodies of :mod:`tests.support.planner_run`, so a job's answers do not depend on the
order in which the agents ask.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from tests.scripted_model import Call, Reply
from tests.support.planner_run import report_reply, retirement_reply, tagger_reply

MODEL = "scripted-model"
Answer = Callable[[dict[str, Any]], str]


def reply_text(reply: Reply) -> str:
    """The text of a scripted reply that answers with one message (``scripted_model.text``)."""
    (message,) = reply(Call(instructions=None, input="", tools=[], schema=None))
    content: str = message.content[0].text
    return content


def schema_properties(body: dict[str, Any]) -> set[str]:
    response_format = body.get("response_format") or {}
    schema = (response_format.get("json_schema") or {}).get("schema") or {}
    return set(schema.get("properties") or {})


def planner_answers(body: dict[str, Any]) -> str:
    """An analysis job's agents, told apart by what their schemas ask for."""
    asked = schema_properties(body)
    if "asset_class" in asked:
        return reply_text(tagger_reply())
    if "strengths" in asked:
        return reply_text(report_reply())
    if "points" in asked:
        return reply_text(retirement_reply())
    raise ValueError(f"no scripted answer for a schema with {sorted(asked)}")


class ScriptedChatServer:
    def __init__(self, answer: Answer) -> None:
        self.answer = answer
        self.requests: list[dict[str, Any]] = []
        owner = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = json.loads(self.rfile.read(length) or b"{}")
                owner.requests.append(body)
                if not self.path.endswith("/chat/completions"):
                    self._send(404, {"error": {"message": "not found"}})
                    return
                try:
                    content = owner.answer(body)
                except ValueError as error:
                    self._send(400, {"error": {"message": str(error)}})
                    return
                self._send(200, completion(content))

            def _send(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: object) -> None:
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def env(self) -> dict[str, str]:
        """The settings that point ``alex serve`` at this server."""
        return {"ALEX_LLM_BASE_URL": self.base_url, "ALEX_LLM_MODEL": MODEL}

    def __enter__(self) -> ScriptedChatServer:
        self._thread.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()


def completion(content: str) -> dict[str, Any]:
    """A Chat Completions answer holding ``content``."""
    return {
        "id": "chatcmpl-scripted",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": MODEL,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": content},
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
