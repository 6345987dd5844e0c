"""Every error the measures feature raises, in one place.

::

    DomainError (enforcement.domain.errors)
    ├── NotFoundError
    │   ├── CaseNotFound        case_not_found          404
    │   └── MeasureNotFound     measure_not_found       404
    ├── measures.InvalidMeasure <rule>                  422 (audited as a refusal)
    └── StateConflict
        └── measures.MeasureConflict <code>             409 (duplicate_measure, measure_not_active, ...; audited)
    AccessDenied (enforcement.domain.authorization)      403, audited by the edge
"""

from __future__ import annotations

from enforcement.domain.errors import CaseNotFound, NotFoundError
from enforcement.domain.measures import InvalidMeasure, MeasureConflict


class MeasureNotFound(NotFoundError):
    """No such measure."""

    default_zh = "控制措施不存在"
    code = "measure_not_found"


def case_not_found(case_id: int) -> CaseNotFound:
    return CaseNotFound(f"Case {case_id} does not exist.", message_zh=f"案件 {case_id} 不存在", code="case_not_found")


def measure_not_found(measure_id: int) -> MeasureNotFound:
    return MeasureNotFound(f"Measure {measure_id} does not exist.", message_zh=f"控制措施 {measure_id} 不存在",
                           code="measure_not_found")


__all__ = ["InvalidMeasure", "MeasureConflict", "MeasureNotFound", "case_not_found", "measure_not_found"]
