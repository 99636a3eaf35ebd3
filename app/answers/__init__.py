"""Answers learnt from agents: approved replies reused for paraphrased questions."""

from app.answers.index import MatchedAnswer
from app.answers.service import RetiredAnswer, ReusableAnswers, ReverifyReport

__all__ = ["MatchedAnswer", "RetiredAnswer", "ReusableAnswers", "ReverifyReport"]
