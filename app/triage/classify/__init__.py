"""Which category, team and priority a message gets.

`categorize.CategoryClassifier` is the one classifier facade: it asks the LLM classifier
(`llm_classifier`) when one is configured and the trainable offline model (`offline/`)
otherwise, on failure, or to check a confident disagreement.  `taxonomy` holds the
categories (taxonomy.yaml); `priority` the rules that move a category's default priority.

Nothing is imported here: the taxonomy's types are needed by modules the classifiers
themselves import.
"""
