"""The staff review app: sign in, confirm or correct classifications, agreement, audit trail.

Public surface: ``create_app`` (the Flask app over a store), the account functions in
``auth`` (``add_user``, ``sign_in``), the decision functions in ``decisions`` (``confirm``,
``record``, ``to_confirm``) and ``export_reviews`` (reviewed items as training data).
"""

from triage.review.app import Settings, create_app

__all__ = ["Settings", "create_app"]
