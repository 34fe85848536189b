"""Text processing with spaCy: normalisation placeholders, sentences and evidence phrases."""
