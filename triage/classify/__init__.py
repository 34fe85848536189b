"""Classification: kind, dissatisfied and themes, with calibrated probabilities."""
