"""slaengine: the marketing and sales agreement as reviewed, validated, executable code."""

from .agreement import Agreement, load_agreement
from .diagnostics import AgreementError, Diagnostic, Location, Severity, UsageError
from .digest import digest
from .validator import ValidationResult, validate, validate_folder

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
