"""slaengine: the marketing and sales agreement as reviewed, validated, executable code."""

from .agreement.diagnostics import AgreementError, Diagnostic, Location, Severity, UsageError
from .agreement.digest import digest
from .agreement.validator import ValidationResult, validate, validate_folder
from .api import Agreement, load_agreement

__version__ = "0.1.0"

__all__ = [
    "Agreement",
    "AgreementError",
    "Diagnostic",
    "Location",
    "Severity",
    "UsageError",
    "ValidationResult",
    "__version__",
    "digest",
    "load_agreement",
    "validate",
    "validate_folder",
]
