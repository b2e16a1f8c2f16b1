"""The DNA kinship engine: likelihood ratios between STR profiles and the whole-database search.

Pure Python and NumPy, no Django models: ``pingan.dna`` stores profiles and calls this package.
See ``docs/kinship.md`` for the method, the formulas, the floor, the mutation model, the
thresholds and the calibration.
"""

from .engine import MODES, KinshipResult, KinshipSettings, kinship
from .frequencies import FrequencyTable, default_table
from .profile import Profile, ProfileError, parse_profile
from .relatives import Suggestion, suggest_next_relative
from .search import Hit, ProfileMatrix, search
from .stats import expected_false_hits, posterior

__all__ = [
    "MODES",
    "FrequencyTable",
    "Hit",
    "KinshipResult",
    "KinshipSettings",
    "Profile",
    "ProfileError",
    "ProfileMatrix",
    "Suggestion",
    "default_table",
    "expected_false_hits",
    "kinship",
    "parse_profile",
    "posterior",
    "search",
    "suggest_next_relative",
]
