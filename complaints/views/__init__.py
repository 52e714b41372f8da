"""The citizen's side (``bp``) and the officers' side under /agents/ (``console``), one module per journey."""

from __future__ import annotations

from flask import Blueprint

bp = Blueprint("complaints", __name__)
console = Blueprint("console", __name__, url_prefix="/agents")

# Each module adds its routes to the blueprints above.
from complaints.views import (  # noqa: E402, F401
    console_agenda,
    console_cases,
    online,
    orientation,
    visio,
)
