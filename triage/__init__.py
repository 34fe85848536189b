"""triage: sort what residents send a social landlord, under the Housing Ombudsman's Code.

The pipeline's stages are packages and modules: ``ingest`` (mail files, surveys) -> ``store``;
the labels live in ``labels``, the record in ``message``.
"""

__version__ = "0.1.0"
