"""Patterns for what a reply names, shared by the citation, claim and API-name checks and
the offline drafter, so they all read a draft the same way."""

from __future__ import annotations

import re

CODE_SPAN = re.compile(r"`([^`\n]+)`")  # `inline code`
UPPER_SNAKE = re.compile(r"\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b")  # an enum value or error code
MARKDOWN_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")  # [text](url) and ![alt](src)
